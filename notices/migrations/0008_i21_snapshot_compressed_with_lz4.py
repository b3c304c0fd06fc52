"""On PostgreSQL a notice's snapshot (about 4 KB of JSON, compressed where it is stored) is
compressed with lz4 rather than the server's default, pglz: inserting 20,000 real snapshots by
INSERT … SELECT took 2.27 / 2.88 s with pglz and 1.54 / 1.78 s with lz4 (building the values
alone: 1.2–1.4 s), for a third more space (docs/benchmarks.md). Only values written from now on are compressed the new way; PostgreSQL reads
both. A server built without lz4 keeps its default."""

from django.db import migrations, transaction
from django.db.utils import NotSupportedError

TABLE = "notices_notice"


def _compress_with(method):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute(
                    f"ALTER TABLE {TABLE} ALTER COLUMN snapshot SET COMPRESSION {method}"
                )
        except NotSupportedError:
            # "compression method lz4 not supported": the server was built without it.
            pass

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0007_i19_holiday_calendar"),
    ]

    operations = [
        migrations.RunPython(_compress_with("lz4"), _compress_with("default")),
    ]
