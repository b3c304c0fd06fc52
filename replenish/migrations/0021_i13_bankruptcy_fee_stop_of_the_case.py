"""The bankruptcy stop of the late fee belongs to the case (issue 13, rule 5): a case a successor
took over stops where the successor's bankruptcy says, not where its original unit's does."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_the_units_stop(apps, schema_editor):
    ArrearsCase = apps.get_model("replenish", "ArrearsCase")
    Unit = apps.get_model("units", "Unit")
    ArrearsCase.objects.filter(unit__fee_stops_on__isnull=False).update(
        bankruptcy_fee_stop=Subquery(
            Unit.objects.filter(pk=OuterRef("unit_id")).values("fee_stops_on")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("replenish", "0020_i13_credit_beyond_corrected_debt"),
        ("units", "0004_portal_user_duty"),
    ]

    operations = [
        migrations.AddField(
            model_name="arrearscase",
            name="bankruptcy_fee_stop",
            field=models.DateField(
                blank=True, null=True, verbose_name="late fee stops by bankruptcy after"
            ),
        ),
        migrations.RunPython(copy_the_units_stop, migrations.RunPython.noop),
    ]
