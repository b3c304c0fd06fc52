"""The groups data migrations create (departments, portal users): a flush removes them (it
re-creates permissions, not data migrations' rows), so tests that flush put them back."""

from django.contrib.auth.models import Group, Permission

from replenish.departments import DUTIES
from units.portal import PORTAL_GROUP


def groups_restore() -> None:
    for name, duties in [*DUTIES.items(), (PORTAL_GROUP, ["notices.acknowledge_notice"])]:
        group, created = Group.objects.get_or_create(name=name)
        if created:
            for duty in duties:
                app_label, codename = duty.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
