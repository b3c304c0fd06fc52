"""Enforcement duties (issue 18): collection works the dossiers and approves a colleague's
transfer request or court application; finance confirms the money enforcement brought; every
department reads the dossiers (audit supervises them)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SEE = [
    "enforcement.view_dossier",
    "enforcement.view_bankaccount",
    "enforcement.view_guarantee",
    "enforcement.view_finereferral",
    "enforcement.view_enforcementdocument",
]
GRANTS = {
    "征缴部门": [*SEE, "enforcement.run_dossier", "enforcement.approve_dossier"],
    "财务管理部门": [*SEE, "enforcement.confirm_enforcement_money"],
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
    dependencies = [
        ("enforcement", "0001_i18_dossiers"),
        ("replenish", "0008_writeoff_duties"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
