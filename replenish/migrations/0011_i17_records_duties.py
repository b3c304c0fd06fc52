"""Employees' records duties: collection and finance see the paid person-month batches and open a
person's months (finance makes a batch on demand; the daily run makes them otherwise); audit
reads who opened whose months. Two groups of service credentials: the core contribution system
(reads the batches) and the city-service front ends (answer a person's own inquiry)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

BATCHES = ["replenish.view_paidmonthbatch", "replenish.view_paidmonthrow"]
GRANTS = {
    "征缴部门": [*BATCHES, "replenish.view_person_records"],
    "财务管理部门": [*BATCHES, "replenish.view_person_records", "replenish.add_paidmonthbatch"],
    "稽核监督部门": ["replenish.view_personrecordaccess"],
    "核心征缴系统": BATCHES,
    "城市服务前端": ["replenish.inquire_person_records"],
}


SERVICE_GROUPS = ["核心征缴系统", "城市服务前端"]


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
    Group.objects.filter(name__in=SERVICE_GROUPS, permissions=None).delete()


class Migration(migrations.Migration):
    dependencies = [("replenish", "0010_i17_paid_person_months")]

    operations = [migrations.RunPython(grant, revoke)]
