"""Database guards on the credit entries, as on the ledger (0002): an entry is never updated, and
no entry may take a unit's credit balance below zero."""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION replenish_credit_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credit entries are append-only: post a reversal instead of updating entry %', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER replenish_credit_no_update BEFORE UPDATE ON replenish_creditentry
    FOR EACH ROW EXECUTE FUNCTION replenish_credit_refuse_update();

CREATE FUNCTION replenish_credit_refuse_negative() RETURNS trigger AS $$
BEGIN
    IF (SELECT SUM(amount) FROM replenish_creditentry WHERE unit_id = NEW.unit_id) < 0 THEN
        RAISE EXCEPTION 'credit entry would take the credit of unit % below zero', NEW.unit_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER replenish_credit_not_negative AFTER INSERT ON replenish_creditentry
    FOR EACH ROW WHEN (NEW.amount < 0)
    EXECUTE FUNCTION replenish_credit_refuse_negative();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS replenish_credit_not_negative ON replenish_creditentry;
DROP FUNCTION IF EXISTS replenish_credit_refuse_negative();
DROP TRIGGER IF EXISTS replenish_credit_no_update ON replenish_creditentry;
DROP FUNCTION IF EXISTS replenish_credit_refuse_update();
"""

SQLITE_FORWARD = [
    """
    CREATE TRIGGER replenish_credit_no_update BEFORE UPDATE ON replenish_creditentry
    BEGIN
        SELECT RAISE(ABORT, 'credit entries are append-only: post a reversal instead');
    END
    """,
    # SQLite keeps decimals as binary floats: compare the rounded sum.
    """
    CREATE TRIGGER replenish_credit_not_negative AFTER INSERT ON replenish_creditentry
    WHEN NEW.amount < 0
    BEGIN
        SELECT RAISE(ABORT, 'credit entry would take the credit of a unit below zero')
        WHERE (
            SELECT ROUND(SUM(amount), 2) < 0 FROM replenish_creditentry
            WHERE unit_id = NEW.unit_id
        );
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS replenish_credit_not_negative",
    "DROP TRIGGER IF EXISTS replenish_credit_no_update",
]


def forward(apps, schema_editor):
    statements = {
        "postgresql": [POSTGRES_FORWARD],
        "sqlite": SQLITE_FORWARD,
    }.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    statements = {
        "postgresql": [POSTGRES_BACKWARD],
        "sqlite": SQLITE_BACKWARD,
    }.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("replenish", "0004_collection_payments_arrivals")]

    operations = [migrations.RunPython(forward, backward)]
