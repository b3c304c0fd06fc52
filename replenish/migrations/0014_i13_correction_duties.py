"""Correction duties: every department sees corrections; collection records and approves them
(four eyes: the service refuses the recorder as approver)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SEE = ["replenish.view_linecorrection"]
GRANTS = {
    "征缴部门": [*SEE, "replenish.correct_line"],
    "财务管理部门": SEE,
    "稽核监督部门": SEE,
}


def _permissions(apps, labels):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(
            content_type__app_label=label.split(".")[0], codename=label.split(".")[1]
        )
        for label in labels
    ]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, labels in GRANTS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, labels))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=list(GRANTS)):
        group.permissions.remove(*_permissions(apps, GRANTS[group.name]))


class Migration(migrations.Migration):
    dependencies = [("replenish", "0013_i13_line_corrections")]

    operations = [migrations.RunPython(grant, revoke)]
