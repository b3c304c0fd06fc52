"""Credit duties: collection offsets a unit's credit and records a refund application for it;
finance approves refunds and records them paid out; every department sees offsets and refunds."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SEE = ["replenish.view_creditoffset", "replenish.view_creditrefund"]
GRANTS = {
    "征缴部门": [*SEE, "replenish.offset_credit", "replenish.add_creditrefund"],
    "财务管理部门": [*SEE, "replenish.approve_refund", "replenish.pay_refund"],
    "稽核监督部门": SEE,
}


def _permissions(apps, labels):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label=label.split(".")[0], codename=label.split(".")[1])
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
    dependencies = [("replenish", "0017_i14_credit_use")]

    operations = [migrations.RunPython(grant, revoke)]
