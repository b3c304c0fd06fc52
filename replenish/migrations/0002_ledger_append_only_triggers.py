"""Database guards on the ledger: an entry is never updated, and no entry may take a line's balance
of any portion (employer, employee, late fee) below zero. Deleting stays possible for the test
suite's flush; the application never deletes (LedgerEntry.delete raises, foreign keys PROTECT).
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION replenish_ledger_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: post a correction instead of updating entry %', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER replenish_ledger_no_update BEFORE UPDATE ON replenish_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION replenish_ledger_refuse_update();

CREATE FUNCTION replenish_ledger_refuse_negative() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM replenish_ledgerentry WHERE line_id = NEW.line_id
        HAVING SUM(employer) < 0 OR SUM(employee) < 0 OR SUM(late_fee) < 0
    ) THEN
        RAISE EXCEPTION 'ledger entry would take the balance of line % below zero', NEW.line_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER replenish_ledger_not_negative AFTER INSERT ON replenish_ledgerentry
    FOR EACH ROW WHEN (NEW.employer < 0 OR NEW.employee < 0 OR NEW.late_fee < 0)
    EXECUTE FUNCTION replenish_ledger_refuse_negative();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS replenish_ledger_not_negative ON replenish_ledgerentry;
DROP FUNCTION IF EXISTS replenish_ledger_refuse_negative();
DROP TRIGGER IF EXISTS replenish_ledger_no_update ON replenish_ledgerentry;
DROP FUNCTION IF EXISTS replenish_ledger_refuse_update();
"""

SQLITE_FORWARD = [
    """
    CREATE TRIGGER replenish_ledger_no_update BEFORE UPDATE ON replenish_ledgerentry
    BEGIN
        SELECT RAISE(ABORT, 'ledger entries are append-only: post a correction instead');
    END
    """,
    # SQLite keeps decimals as binary floats: compare the rounded sums.
    """
    CREATE TRIGGER replenish_ledger_not_negative AFTER INSERT ON replenish_ledgerentry
    WHEN NEW.employer < 0 OR NEW.employee < 0 OR NEW.late_fee < 0
    BEGIN
        SELECT RAISE(ABORT, 'ledger entry would take the balance of a line below zero')
        WHERE (
            SELECT ROUND(SUM(employer), 2) < 0 OR ROUND(SUM(employee), 2) < 0
                OR ROUND(SUM(late_fee), 2) < 0
            FROM replenish_ledgerentry WHERE line_id = NEW.line_id
        );
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS replenish_ledger_not_negative",
    "DROP TRIGGER IF EXISTS replenish_ledger_no_update",
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
    dependencies = [("replenish", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
