"""The collection department creates the portal users of units and counterparties
(replenish/departments.py, "units.add_portalmembership"); it and audit see the memberships.
Portal users are put in the group 单位门户用户 (units.portal.PORTAL_GROUP), which may acknowledge
a notice for its unit (the portal checks which notice is the unit's)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "征缴部门": ["add_portalmembership", "view_portalmembership"],
    "稽核监督部门": ["view_portalmembership"],
}


PORTAL_GROUP = "单位门户用户"


def grant(apps, schema_editor):
    for label in ("units", "notices"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="units", codename__in=codenames)
        )
    portal, _created = Group.objects.get_or_create(name=PORTAL_GROUP)
    portal.permissions.add(
        Permission.objects.get(content_type__app_label="notices", codename="acknowledge_notice")
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.filter(name=PORTAL_GROUP).delete()
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="units", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0003_portal_membership"),
        ("replenish", "0006_department_groups"),
        ("notices", "0004_periodic_tasks"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
