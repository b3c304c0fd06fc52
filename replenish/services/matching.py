"""How an arrival finds its case (docs/formats.md): by the reference the payer quoted, then by
the payer's single open case; what cannot be matched waits for finance and is never dropped.

Set-based: the import matches all its rows with a fixed number of UPDATEs on its staging table.

A reference matcher is a SQL relation `(reference, case_id, payer_uscc)`: the case a reference
names and the payer who may pay it by quoting it — the case's obligor (a merging party, a
successor, …) when it has a code, else the unit itself. Notices, agreements and enforcement
dossiers (transfer decisions, court cases) have one each.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from django.db.backends.utils import CursorWrapper

from replenish.models import OPEN_STATES, Agreement, ArrearsCase, MatchedBy
from replenish.services.numbering import AGREEMENT_NUMBER_PATTERN, NOTICE_NUMBER_PATTERN
from units.models import Counterparty, Unit


@dataclass(frozen=True)
class ReferenceMatcher:
    name: str
    pattern: re.Pattern[str]
    relation_sql: Callable[[], str]

    @property
    def relation(self) -> str:
        return self.relation_sql()


# The tables the SQL below names, from the models: a rename cannot silently break it.
CASES, AGREEMENTS = ArrearsCase._meta.db_table, Agreement._meta.db_table
UNITS, COUNTERPARTIES = Unit._meta.db_table, Counterparty._meta.db_table

# Who pays a case: its obligor when that has a code, else the unit (aliases `ob` and `u`).
PAYER_USCC = "COALESCE(NULLIF(ob.uscc, ''), u.uscc)"


def _notice_relation() -> str:
    # Notices are a layer above the case workflow: their table is found in the app registry
    # when the SQL is built, not imported.
    notices = apps.get_model("notices", "Notice")._meta.db_table
    return f"""
        SELECT n.number AS reference, n.case_id AS case_id, {PAYER_USCC} AS payer_uscc
        FROM {notices} n
        JOIN {CASES} c ON c.id = n.case_id
        JOIN {UNITS} u ON u.id = c.unit_id
        LEFT JOIN {COUNTERPARTIES} ob ON ob.id = c.obligor_id
    """


def _agreement_relation() -> str:
    return f"""
        SELECT a.number AS reference, a.case_id AS case_id,
               COALESCE(NULLIF(cp.uscc, ''), u.uscc) AS payer_uscc
        FROM {AGREEMENTS} a
        JOIN {COUNTERPARTIES} cp ON cp.id = a.counterparty_id
        JOIN {CASES} c ON c.id = a.case_id
        JOIN {UNITS} u ON u.id = c.unit_id
    """


NOTICE_MATCHER = ReferenceMatcher(
    name="notice", pattern=NOTICE_NUMBER_PATTERN, relation_sql=_notice_relation
)
AGREEMENT_MATCHER = ReferenceMatcher(
    name="agreement", pattern=AGREEMENT_NUMBER_PATTERN, relation_sql=_agreement_relation
)


def _enforcement_relation() -> str:
    # Enforcement dossiers are a layer above the case workflow: their table is found in the app
    # registry when the SQL is built, not imported.
    dossiers = apps.get_model("enforcement", "Dossier")._meta.db_table
    dossier_case = f"""
        FROM {dossiers} d
        JOIN {CASES} c ON c.id = d.case_id
        JOIN {UNITS} u ON u.id = c.unit_id
        LEFT JOIN {COUNTERPARTIES} ob ON ob.id = c.obligor_id
    """
    return f"""
        SELECT d.transfer_decision_no AS reference, d.case_id AS case_id, {PAYER_USCC} AS payer_uscc
        {dossier_case} WHERE d.transfer_decision_no <> ''
        UNION ALL
        SELECT d.court_case_no, d.case_id, {PAYER_USCC} {dossier_case} WHERE d.court_case_no <> ''
        UNION ALL
        SELECT d.court_case_no, d.case_id, d.court_uscc {dossier_case}
        WHERE d.court_case_no <> '' AND d.court_uscc <> ''
    """


ENFORCEMENT_MATCHER = ReferenceMatcher(
    name="enforcement",
    # Issue 18: money from enforcement quotes the administrative department's transfer decision
    # number (paid from the unit's account by its bank: the payer is the unit) or the court's
    # case number (the proceeds paid by the court, or by the unit). Both are official numbers
    # with the year in brackets, e.g. 沪医保划〔2026〕3号, (2026)沪0101执123号.
    pattern=re.compile(r".*[〔\[(（]\d{4}[〕\])）].*号"),
    relation_sql=_enforcement_relation,
)

REFERENCE_MATCHERS: tuple[ReferenceMatcher, ...] = (
    NOTICE_MATCHER,
    AGREEMENT_MATCHER,
    ENFORCEMENT_MATCHER,
)


def reference_kinds(reference: str) -> list[str]:
    """The matchers whose numbers look like `reference` ("notice", …)."""
    return [m.name for m in REFERENCE_MATCHERS if m.pattern.fullmatch(reference)]


def reference_names(reference: str) -> list[tuple[str, int, str]]:
    """(matcher, case id, payer USCC) for every case `reference` names."""
    found = []
    with connection.cursor() as cursor:
        for matcher in REFERENCE_MATCHERS:
            if not matcher.pattern.fullmatch(reference):
                continue
            cursor.execute(
                f"SELECT case_id, payer_uscc FROM ({matcher.relation}) m WHERE m.reference = %s",
                [reference],
            )
            found += [(matcher.name, case_id, payer) for case_id, payer in cursor.fetchall()]
    return found


def _open_cases_of_payer(table: str, what: str) -> str:
    states = ", ".join(f"'{s}'" for s in OPEN_STATES)
    return f"""
        (SELECT {what} FROM {CASES} c JOIN {UNITS} u ON u.id = c.unit_id
         LEFT JOIN {COUNTERPARTIES} ob ON ob.id = c.obligor_id
         WHERE {PAYER_USCC} = {table}.payer_uscc AND c.state IN ({states}))
    """


def _open_cases_by_payer() -> str:
    """Per payer USCC, how many open cases it owes and the first of them: one pass over the open
    cases, joined to the staging rows by hash, where a subquery per staging row would scan every
    open case once per row (docs/benchmarks.md)."""
    states = ", ".join(f"'{s}'" for s in OPEN_STATES)
    return f"""
        (SELECT {PAYER_USCC} AS payer, COUNT(*) AS open_cases, MIN(c.id) AS first_case
         FROM {CASES} c JOIN {UNITS} u ON u.id = c.unit_id
         LEFT JOIN {COUNTERPARTIES} ob ON ob.id = c.obligor_id
         WHERE c.state IN ({states})
         GROUP BY {PAYER_USCC})
    """


def staging_match(cursor: CursorWrapper, table: str) -> None:
    """Fill `case_id`, `matched_by` and `note` of the staging rows (columns `payer_uscc`,
    `reference`, `case_id`, `matched_by`, `note`; `note` starts empty)."""
    for matcher in REFERENCE_MATCHERS:
        cursor.execute(
            f"""
            UPDATE {table} SET case_id = m.case_id, matched_by = %s,
                note = %s || ' ' || m.reference
            FROM ({matcher.relation}) m
            WHERE {table}.case_id IS NULL AND {table}.note = ''
              AND m.reference = {table}.reference AND m.payer_uscc = {table}.payer_uscc
            """,
            [MatchedBy.REFERENCE, matcher.name],
        )
        # A reference to another unit's case is not the payer's to quote: finance decides.
        cursor.execute(
            f"""
            UPDATE {table} SET note = %s || ' ' || m.reference || ' is of case '
                || (SELECT case_no FROM {CASES} WHERE id = m.case_id)
                || ' of another unit'
            FROM ({matcher.relation}) m
            WHERE {table}.case_id IS NULL AND {table}.note = ''
              AND m.reference = {table}.reference AND m.payer_uscc <> {table}.payer_uscc
            """,
            [matcher.name],
        )
    unknown_reference = (
        f"CASE WHEN {table}.reference = '' THEN '' "
        f"ELSE 'reference ' || {table}.reference || ' not found; ' END"
    )
    cursor.execute(
        f"""
        UPDATE {table}
        SET case_id = p.first_case, matched_by = %s,
            note = {unknown_reference} || 'the payer''s single open case'
        FROM {_open_cases_by_payer()} p
        WHERE {table}.case_id IS NULL AND {table}.note = ''
          AND p.payer = {table}.payer_uscc AND p.open_cases = 1
        """,
        [MatchedBy.PAYER],
    )
    cursor.execute(
        f"""
        UPDATE {table} SET note = {unknown_reference} || CASE
            WHEN NOT EXISTS (SELECT 1 FROM {UNITS} u WHERE u.uscc = {table}.payer_uscc)
                THEN 'the payer is not a known unit'
            WHEN {_open_cases_of_payer(table, "COUNT(*)")} = 0 THEN 'the payer has no open case'
            ELSE 'the payer has ' || {_open_cases_of_payer(table, "COUNT(*)")} || ' open cases'
            END
        WHERE case_id IS NULL AND note = ''
        """
    )
