"""The readers of what changed keep a mark each (`ReadingMark`): the paid-month feed's mark moves
there from `PaidMonthReading`, and the agreements' fulfilment check gets one. The check reads the
transitions after which an agreement may be fulfilled since its mark: a partial index of the
audit trail by time holds those only."""

import django.utils.timezone
from django.db import migrations, models

def feed_mark_move(apps, schema_editor):
    PaidMonthReading = apps.get_model("replenish", "PaidMonthReading")
    ReadingMark = apps.get_model("replenish", "ReadingMark")
    for old in PaidMonthReading.objects.all():
        ReadingMark.objects.create(
            reader="paid_months", read_from=old.read_from, read_at=old.read_at
        )


def feed_mark_move_back(apps, schema_editor):
    PaidMonthReading = apps.get_model("replenish", "PaidMonthReading")
    ReadingMark = apps.get_model("replenish", "ReadingMark")
    for mark in ReadingMark.objects.filter(reader="paid_months"):
        PaidMonthReading.objects.create(id=1, read_from=mark.read_from, read_at=mark.read_at)


class Migration(migrations.Migration):
    dependencies = [
        ("replenish", "0031_i21_access_channel_label"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReadingMark",
            fields=[
                (
                    "reader",
                    models.CharField(
                        choices=[
                            ("paid_months", "paid person-month feed"),
                            ("agreement_fulfilment", "agreements' fulfilment check"),
                        ],
                        max_length=32,
                        primary_key=True,
                        serialize=False,
                        verbose_name="reader",
                    ),
                ),
                ("read_from", models.DateTimeField(null=True, verbose_name="read from")),
                (
                    "read_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="read at"),
                ),
            ],
            options={
                "verbose_name": "reading mark",
                "verbose_name_plural": "reading marks",
            },
        ),
        migrations.RunPython(feed_mark_move, feed_mark_move_back),
        migrations.DeleteModel(
            name="PaidMonthReading",
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(
                    models.Q(("subject", "case"), ("to_state__in", ["agreement", "settled"])),
                    models.Q(("subject", "agreement"), ("to_state", "in_force")),
                    _connector="OR",
                ),
                fields=["at", "case"],
                name="audit_may_fulfil_at",
            ),
        ),
    ]
