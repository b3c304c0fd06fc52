"""The three departments as groups with the permissions of their duties (replenish/departments.py
describes them; this migration keeps its own copy, as migrations must not import the app).

Permissions are normally created after all migrations ran; they are created here first, so the
groups get them on a fresh database too.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SEE_CASES = [
    "replenish.view_arrearscase",
    "replenish.view_arrearsline",
    "replenish.view_ledgerentry",
    "replenish.view_agreement",
    "replenish.view_installment",
    "notices.view_notice",
    "notices.view_notification",
    "notices.view_reminder",
    "notices.view_reminderrule",
    "notices.view_unitcontact",
    "units.view_unit",
    "units.view_unitevent",
    "units.view_counterparty",
]
SEE_MONEY = [
    "replenish.view_payment",
    "replenish.view_arrival",
    "replenish.view_arrivalimport",
    "replenish.view_creditentry",
]
DUTIES = {
    "征缴部门": SEE_CASES
    + SEE_MONEY
    + [
        "replenish.view_importbatch",
        "units.view_insuredperson",
        "replenish.add_arrearsline",
        "replenish.issue_notice",
        "replenish.sign_agreement",
        "replenish.examine_writeoff",
        "replenish.transfer_case",
        "units.record_unitevent",
        "units.change_counterparty",
        "notices.deliver_notice",
        "notices.retry_notification",
        "notices.change_reminderrule",
        "notices.add_unitcontact",
        "notices.change_unitcontact",
        "replenish.add_payment",
        "replenish.accept_payment",
        "replenish.post_arrival",
    ],
    "财务管理部门": SEE_CASES
    + SEE_MONEY
    + [
        "replenish.confirm_arrival",
        "replenish.add_arrival",
        "replenish.match_arrival",
        "replenish.reverse_arrival",
    ],
    "稽核监督部门": SEE_CASES
    + SEE_MONEY
    + [
        "replenish.view_importbatch",
        "units.view_insuredperson",
        "replenish.decide_writeoff",
    ],
}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, labels in DUTIES.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = []
        for label in labels:
            app_label, codename = label.split(".")
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(DUTIES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("replenish", "0005_credit_append_only_triggers"),
        ("notices", "0004_periodic_tasks"),
        ("units", "0002_unit_events_and_counterparties"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
