"""The benchmark's region, built step by step, deterministic from the seed.

`build(scale, work, run)` is the whole sequence; `run(argv, label)` carries out one step:
`bench.run` runs each in its own process through `bench.timed` and measures the labelled ones,
the test (tests/bench) runs them in-process. A step is a management command
(`["import_arrears", FILE]`) or a step of this module (`["bench.region", "states"]`, see `main`).

At full size (`SIZES`; `small` is 1/20 of every count, `tiny` 100 units for the test), and how
each part is reached:

- 50,000 units, 100,000 persons, 1,000,000 arrears lines over 24 months: `import_arrears` of two
  files (bench.arrears_file waves 1 and 2, 500,000 lines each).
- 100,000 cases, 100,000 notices: wave 1 opens one case per unit, its `issue_notices` notifies
  them, so wave 2 opens a second case per unit, notified by a second `issue_notices`.
- 200 cases under write-off examination and 200 written off (100 bankrupt units each):
  `unit_record_bankruptcy`, `writeoff_submit`, `writeoff_accept` (and `writeoff_approve`, posted
  by `run_daily`), the services one by one.
- 200 cases transferred, 400 successors' cases registered (100 split units): `unit_record_split`
  (it runs `case_split`), one by one.
- 20,000 agreements in force with 200,000 installments (cases `agreement`): **set-based SQL**
  (`sign_agreements`, below).
- 500 agreements breached (cases `overdue`): signed by the same SQL 50 days back, breached by
  `run_daily`; 500 terminated (cases `overdue`): signed by the same SQL, ended by
  `agreement_terminate` one by one; 500 fulfilled (cases `settled`): signed by the same SQL, paid
  in full by an arrival, posted and fulfilled by `run_daily`.
- 2,000 cases settled by a payment: an arrival of the notice's total plus 10% (the rest kept as
  credit), posted by `run_daily`.
- 1,000 + 1,000 cases overdue by a deadline passed: notices delivered with their deadline passed
  (**set-based SQL**, `make_due`), moved by `run_daily` and by `bench.one_at_a_time`.
- 100,000 arrivals (+ 10,000 earlier): `import_arrivals` (`write_arrivals_files`); matched by
  reference, by payer, unmatched, and re-sent duplicates. The earlier ones are posted (by
  `run_daily`); the measured ones stay matched, waiting for the next adjustment.
- the rest of the cases stay `notified`.

SQL-made states (what they stand in for):

- `sign_agreements`: stands in for `agreement_draft` + `agreement_sign` (replenish/services/
  agreements.py) of each chosen case, and writes exactly the rows they would: the unit's own
  counterparty where it has none, the agreement numbers (`A<region>-<year>-<seq>`, the number
  sequence moved on), the `late_fee_fixed` ledger entry of every line with unpaid principal (the
  fee from the day after `fee_accrues_after` through the signing date at 0.05% a day, rounded
  half-up per line; the benchmark's lines are all after 2011-07-01 and the fee cap is off, which
  it checks), the lines' fee caches, accrual start and stop, the cases' cached figures (recomputed
  from the ledger by the product's `case_totals_refresh`), the agreement in force with its amounts
  and its debt by period, its ten installments (equal amounts rounded down to the fen, the
  remainder on the last, due monthly from the signing date), the case's move to `agreement`, and
  the three audit rows (agreement drafted, signed; case `agreement_take_effect`).
- `make_due`: stands in for deliveries recorded over the past weeks (`notice_deliver`): one
  `UPDATE` of the notices' state, channel, delivery date and a deadline already passed.
"""

import csv
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench.arrears_file import unit_count, write_arrears_file

SIZES = {"tiny": 2_000, "small": 50_000, "full": 1_000_000}
SEED = 7
AS_OF = date(2026, 11, 22)
WAVE1_NOTICES = AS_OF - timedelta(days=60)
WAVE2_NOTICES = AS_OF - timedelta(days=21)
EVENTS_ON = AS_OF - timedelta(days=30)
SIGNED_IN_FORCE = AS_OF - timedelta(days=10)
# First installment due 20 days back: past the 15 grace days, so run_daily breaches them.
SIGNED_TO_BREACH = AS_OF - timedelta(days=50)
SIGNED_OTHERS = AS_OF - timedelta(days=15)
TERMINATED_ON = AS_OF - timedelta(days=5)
INSTALLMENTS = 10
ACTOR_NAME = "bench_region"


@dataclass(frozen=True)
class Scale:
    """The region's counts for `lines` arrears lines in all (two waves of half each)."""

    name: str
    lines: int

    @property
    def wave_lines(self) -> int:
        return self.lines // 2

    @property
    def units(self) -> int:
        return unit_count(self.wave_lines)

    @property
    def cases(self) -> int:
        return 2 * self.units

    @property
    def agreements(self) -> int:
        """In force (20,000 at full size)."""
        return self.lines // 50

    @property
    def few(self) -> int:
        """Breached, terminated, fulfilled agreements each (500 at full size)."""
        return max(2, self.units // 100)

    @property
    def settled(self) -> int:
        """Cases settled by a payment (2,000 at full size)."""
        return max(2, self.units // 25)

    @property
    def event_units(self) -> int:
        """Units of each kind of event: bankrupt with a write-off under examination, bankrupt
        and written off, split (100 each at full size)."""
        return max(1, self.units // 500)

    @property
    def arrivals(self) -> int:
        return max(100, self.lines // 10)


def scale_of(size: str) -> Scale:
    return Scale(size, SIZES[size])


# --- the whole sequence --------------------------------------------------------------------


Run = Callable[..., str]


def build(scale: Scale, work: Path, run: Run) -> None:
    """Build the region of `scale` through `run(argv, label=None)` (see the module's docstring).

    Labels: import_arrears#1/#2, issue_notices#1/#2, states, run_daily nothing due,
    run_daily 1% due, one at a time (ORM), import_arrivals. `env` (optional) is settings for
    that step's environment.
    """
    size = scale.name
    waves = arrears_files(scale, work)
    run(["import_arrears", str(waves[0])], label="import_arrears#1")
    run(["bench.region", "analyze"])
    run(["issue_notices", "--date", str(WAVE1_NOTICES)], label="issue_notices#1")
    run(["import_arrears", str(waves[1])], label="import_arrears#2")
    run(["bench.region", "analyze"])
    run(["issue_notices", "--date", str(WAVE2_NOTICES)], label="issue_notices#2")
    run(["bench.region", "analyze"])
    run(["bench.region", "states", "--size", size], label="states")
    run(["bench.region", "analyze"])
    earlier, arrivals = arrivals_paths(scale, work)
    run(["bench.region", "arrivals-files", "--size", size, "--work", str(work)])
    run(["import_arrivals", str(earlier)])
    # Whatever is pending: the earlier arrivals posted (settled cases, fulfilled agreements), the
    # approved write-offs posted, the agreements signed 50 days back breached.
    run(["run_daily", "--date", str(AS_OF)])
    # That run changed a good part of the region (its reminders, the cases it settled): the
    # statistics autovacuum would take of it before the next day's run.
    run(["bench.region", "analyze"])
    run(["run_daily", "--date", str(AS_OF)], label="run_daily nothing due")
    run(["bench.region", "due", "--every", "100", "--offset", "0"])
    run(["run_daily", "--date", str(AS_OF)], label="run_daily 1% due")
    run(["bench.region", "due", "--every", "100", "--offset", "1"])
    run(["bench.one_at_a_time", "--date", str(AS_OF)], label="one at a time (ORM)")
    # The measured arrivals stay `matched`, waiting for the next adjustment.
    run(["import_arrivals", str(arrivals)], label="import_arrivals")
    run(["bench.region", "analyze"])


def arrears_files(scale: Scale, work: Path) -> list[Path]:
    """The two waves, written once and kept (same seed, same bytes)."""
    paths = []
    for wave in (1, 2):
        path = work / f"arrears-{scale.wave_lines}-w{wave}.csv"
        if not path.exists():
            write_arrears_file(path, lines=scale.wave_lines, seed=SEED, wave=wave)
        paths.append(path)
    return paths


def arrivals_paths(scale: Scale, work: Path) -> tuple[Path, Path]:
    count = scale.arrivals
    return work / f"arrivals-earlier-{count}.csv", work / f"arrivals-{count}.csv"


# --- steps run inside Django ------------------------------------------------------------------


def _actor():
    from kernel.actors import System

    return System(ACTOR_NAME)


def _staff() -> dict:
    """A collection and an audit user (the departments' groups of migration 0006)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from replenish import departments

    User = get_user_model()
    users = {}
    for username, group in (
        ("bench_collector", departments.COLLECTION),
        ("bench_auditor", departments.AUDIT),
    ):
        user, _created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        user.groups.add(Group.objects.get(name=group))
        users[username] = User.objects.get(pk=user.pk)
    return users


def _event_units(count: int, residue: int, exclude: set[int]) -> list[int]:
    """`count` active units whose two cases are both notified, picked by id (deterministic)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT u.id FROM units_unit u
            WHERE u.status = 'active' AND u.id %% 50 = %s
              AND (SELECT count(*) FROM replenish_arrearscase c
                   WHERE c.unit_id = u.id AND c.state = 'notified') = 2
            ORDER BY u.id
            """,
            [residue],
        )
        ids = [row[0] for row in cursor.fetchall() if row[0] not in exclude]
    return ids[:count]


def events(scale: Scale) -> dict[str, int]:
    """Bankruptcies with write-off applications, and splits, through the product's services."""
    from django.core.files.base import ContentFile

    from replenish.models import ArrearsCase, CaseState, WriteOffDocumentKind
    from replenish.services.unit_events import (
        EventDocument,
        Party,
        unit_record_bankruptcy,
        unit_record_split,
    )
    from replenish.services.writeoff import (
        Upload,
        writeoff_accept,
        writeoff_approve,
        writeoff_submit,
    )
    from units.models import Unit
    from units.samples import sample_uscc

    actor = _actor()
    users = _staff()
    n = scale.event_units
    bankrupt = _event_units(2 * n, 7, set())
    split = _event_units(n, 9, set(bankrupt))
    done = {"bankrupt": 0, "writeoff_submitted": 0, "writeoff_approved": 0, "split": 0}
    for index, unit_id in enumerate(bankrupt):
        unit = Unit.objects.get(pk=unit_id)
        unit_record_bankruptcy(
            unit_id=unit_id,
            court="上海市第三中级人民法院",
            court_case_no=f"(2026)沪03破{index + 1}号",
            accepted_on=EVENTS_ON - timedelta(days=10),
            liquidation_group=Party(
                name=f"{unit.name}清算组", head="钱律师", contact="021-52000000"
            ),
            actor=actor,
            today=EVENTS_ON,
        )
        done["bankrupt"] += 1
        approve = index < n
        for case_id in (
            ArrearsCase.objects.filter(unit_id=unit_id, state__in=[CaseState.NOTIFIED])
            .order_by("pk")
            .values_list("pk", flat=True)
        ):
            documents = [
                Upload(kind=kind, file=ContentFile(b"%PDF-1.4\n% bench\n", name=f"{kind}.pdf"))
                for kind in WriteOffDocumentKind.values
            ]
            application = writeoff_submit(
                case_id=case_id, documents=documents, actor=users["bench_collector"]
            )
            writeoff_accept(application_id=application.pk, actor=users["bench_collector"])
            done["writeoff_submitted"] += 1
            if approve:
                writeoff_approve(
                    application_id=application.pk,
                    actor=users["bench_auditor"],
                    reason="破产程序终结，无财产可供清偿",
                )
                done["writeoff_approved"] += 1
    for index, unit_id in enumerate(split):
        unit = Unit.objects.get(pk=unit_id)
        unit_record_split(
            unit_id=unit_id,
            successors=[
                Party(
                    name=f"{unit.name}分立{k + 1}",
                    uscc=sample_uscc(10_000_000 + 2 * index + k, region_code=unit.region_code),
                    share="1/2",
                    head=f"负责人{k + 1}",
                    contact="021-65000000",
                )
                for k in range(2)
            ],
            document=EventDocument(
                occurred_on=EVENTS_ON, document_ref=f"沪市监分立〔2026〕{index + 1}号"
            ),
            actor=actor,
            today=EVENTS_ON + timedelta(days=5),
        )
        done["split"] += 1
    return done


# Which notified cases each set of agreements takes: (set, residue of the case id mod 5 taken
# first, signing date, only wave-1 cases). The counts come from the scale; a set takes other
# cases when those of its residue run out (the events took some).
AGREEMENT_SETS = (
    ("in_force", 2, SIGNED_IN_FORCE, False),
    ("to_breach", 3, SIGNED_TO_BREACH, True),
    ("to_terminate", 3, SIGNED_OTHERS, False),
    ("to_fulfil", 3, SIGNED_OTHERS, False),
)


WAVE1_ONLY = (
    "AND EXISTS (SELECT 1 FROM notices_notice n WHERE n.case_id = c.id AND n.issued_on = %s)"
)


def sign_agreements(scale: Scale) -> dict[str, int]:
    """Agreements in force on chosen notified cases, set-based: see the module's docstring for
    the rows written (exactly those of `agreement_draft` + `agreement_sign`)."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from kernel.actors import actor_label
    from kernel.money.late_fee import DEFAULT_RATE_TABLE
    from replenish.models import ArrearsCase
    from replenish.services.ledger import case_totals_refresh
    from units.models import CounterpartyKind

    if settings.LATE_FEE_CAP_AT_PRINCIPAL:
        raise SystemExit("sign_agreements computes the fee without the cap: turn it off")
    rate_from = DEFAULT_RATE_TABLE[-1].starts_on
    rate = DEFAULT_RATE_TABLE[-1].daily_rate
    counts = {
        "in_force": scale.agreements,
        "to_breach": scale.few,
        "to_terminate": scale.few,
        "to_fulfil": scale.few,
    }
    label = actor_label(_actor())
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            "CREATE TEMP TABLE bench_sign (case_id bigint PRIMARY KEY, set_name text, "
            "signed_on date, unit_id bigint, region_code text, agreement_id bigint, "
            "number text, counterparty_id bigint, principal numeric(16,2), "
            "late_fee numeric(16,2), paid_before numeric(16,2)) ON COMMIT DROP"
        )
        for set_name, residue, signed_on, wave1 in AGREEMENT_SETS:
            c.execute(
                f"""
                INSERT INTO bench_sign (case_id, set_name, signed_on, unit_id, region_code)
                SELECT c.id, %s, %s, c.unit_id, c.region_code
                FROM replenish_arrearscase c JOIN units_unit u ON u.id = c.unit_id
                WHERE c.state = 'notified' AND c.obligor_id IS NULL AND u.status = 'active'
                  AND c.id NOT IN (SELECT case_id FROM bench_sign)
                  {WAVE1_ONLY if wave1 else ""}
                ORDER BY c.id %% 5 <> %s, c.id LIMIT %s
                """,
                [
                    set_name,
                    signed_on,
                    *([WAVE1_NOTICES] if wave1 else []),
                    residue,
                    counts[set_name],
                ],
            )
        c.execute(
            "SELECT count(*) FROM replenish_arrearsline l "
            "JOIN bench_sign s ON s.case_id = l.case_id "
            "WHERE l.fee_accrues_after < %s",
            [rate_from],
        )
        if c.fetchone()[0]:
            raise SystemExit("sign_agreements: a line accrues before the last rate period")
        # The unit's own counterparty (case_counterparty's get_or_create).
        c.execute(
            """
            INSERT INTO units_counterparty (kind, unit_id, event_id, name, uscc, head, contact,
                                            share_numerator, share_denominator)
            SELECT DISTINCT 'unit', u.id, NULL::bigint, u.name, u.uscc, '', '', NULL::int, NULL::int
            FROM bench_sign s JOIN units_unit u ON u.id = s.unit_id
            WHERE NOT EXISTS (SELECT 1 FROM units_counterparty p
                              WHERE p.kind = 'unit' AND p.unit_id = u.id)
            """
        )
        c.execute(
            "UPDATE bench_sign s SET counterparty_id = p.id FROM units_counterparty p "
            "WHERE p.kind = 'unit' AND p.unit_id = s.unit_id"
        )
        # Numbers: number_block_take per region and year, in case order.
        c.execute(
            """
            WITH numbered AS (
                SELECT s.case_id, s.region_code, extract(year FROM s.signed_on)::int AS year,
                       row_number() OVER (PARTITION BY s.region_code,
                                          extract(year FROM s.signed_on) ORDER BY s.case_id)
                       + COALESCE((SELECT q.last_value FROM replenish_numbersequence q
                                   WHERE q.scope = 'agreement:' || s.region_code || ':'
                                                   || extract(year FROM s.signed_on)::int), 0)
                       AS seq
                FROM bench_sign s)
            UPDATE bench_sign s
            SET number = 'A' || n.region_code || '-' || n.year || '-' || lpad(n.seq::text, 6, '0')
            FROM numbered n WHERE n.case_id = s.case_id
            """
        )
        c.execute(
            """
            INSERT INTO replenish_numbersequence (scope, last_value)
            SELECT 'agreement:' || region_code || ':' || extract(year FROM signed_on)::int,
                   max(split_part(number, '-', 3)::bigint)
            FROM bench_sign GROUP BY 1
            ON CONFLICT (scope) DO UPDATE SET last_value = EXCLUDED.last_value
            """
        )
        # The fee of every line with unpaid principal, fixed through the signing date.
        c.execute(
            """
            CREATE TEMP TABLE bench_fee ON COMMIT DROP AS
            SELECT l.id AS line_id, l.case_id, s.signed_on,
                   round((l.employer_unpaid + l.employee_unpaid) * %s
                         * GREATEST(0, LEAST(s.signed_on, COALESCE(l.fee_stops_on, s.signed_on))
                                       - l.fee_accrues_after), 2) AS fee
            FROM replenish_arrearsline l JOIN bench_sign s ON s.case_id = l.case_id
            WHERE NOT (l.employer_unpaid = 0 AND l.employee_unpaid = 0)
            """,
            [rate],
        )
        c.execute(
            """
            UPDATE bench_sign s SET principal = c.principal_unpaid,
                   late_fee = c.fee_unpaid + COALESCE(f.fee, 0), paid_before = c.paid_total
            FROM replenish_arrearscase c
            LEFT JOIN (SELECT case_id, sum(fee) AS fee FROM bench_fee GROUP BY case_id) f
                   ON f.case_id = c.id
            WHERE c.id = s.case_id
            """
        )
        c.execute(
            """
            UPDATE replenish_arrearsline l
            SET fee_unpaid = l.fee_unpaid + f.fee, fee_fixed_total = l.fee_fixed_total + f.fee,
                fee_accrues_after = GREATEST(l.fee_accrues_after, f.signed_on)
            FROM bench_fee f WHERE f.line_id = l.id
            """
        )
        c.execute(
            """
            UPDATE replenish_arrearsline l SET fee_stops_on = s.signed_on
            FROM bench_sign s
            WHERE s.case_id = l.case_id AND (l.fee_stops_on IS NULL OR l.fee_stops_on > s.signed_on)
            """
        )
        # The agreements in force, with their debt by period as of signing (debt_by_period).
        c.execute(
            """
            WITH periods AS (
                SELECT l.case_id, l.period, count(DISTINCT l.person_id) AS persons,
                       sum(l.employer_unpaid) AS employer, sum(l.employee_unpaid) AS employee,
                       sum(l.fee_unpaid) AS late_fee
                FROM replenish_arrearsline l JOIN bench_sign s ON s.case_id = l.case_id
                WHERE NOT (l.employer_unpaid = 0 AND l.employee_unpaid = 0 AND l.fee_unpaid = 0)
                GROUP BY l.case_id, l.period),
            by_case AS (
                SELECT case_id, jsonb_agg(jsonb_build_object(
                           'period', period, 'persons', persons,
                           'employer', employer::text, 'employee', employee::text,
                           'late_fee', late_fee::text,
                           'total', (employer + employee + late_fee)::text) ORDER BY period)
                       AS periods
                FROM periods GROUP BY case_id),
            made AS (
                INSERT INTO replenish_agreement (
                    number, case_id, kind, counterparty_id, state, state_changed_at,
                    installment_count, drafted_on, note, signed_on, signatory, principal,
                    late_fee, total, paid_before, periods, ended_on, breached_due_on,
                    end_reason, scan)
                SELECT s.number, s.case_id, 'installment', s.counterparty_id, 'in_force', %(now)s,
                       %(count)s, s.signed_on, '', s.signed_on, '法定代表人', s.principal,
                       s.late_fee, s.principal + s.late_fee, s.paid_before,
                       COALESCE(p.periods, '[]'::jsonb), NULL, NULL, '', ''
                FROM bench_sign s LEFT JOIN by_case p ON p.case_id = s.case_id
                ORDER BY s.case_id
                RETURNING id, case_id)
            UPDATE bench_sign s SET agreement_id = made.id FROM made WHERE made.case_id = s.case_id
            """,
            {"now": now, "count": INSTALLMENTS},
        )
        c.execute(
            """
            INSERT INTO replenish_ledgerentry (case_id, line_id, kind, employer, employee,
                late_fee, effective_on, recorded_at, actor_id, actor_label, source, reason,
                reason_code, reason_args)
            SELECT f.case_id, f.line_id, 'late_fee_fixed', 0, 0, f.fee, f.signed_on, %(now)s,
                   NULL, %(label)s, 'agreement:' || s.agreement_id,
                   'agreement ' || s.number || ' signed',
                   'agreement_signed', jsonb_build_object('agreement', s.number)
            FROM bench_fee f JOIN bench_sign s ON s.case_id = f.case_id
            WHERE f.fee > 0 ORDER BY f.case_id, f.line_id
            """,
            {"now": now, "label": label},
        )
        c.execute(
            """
            INSERT INTO replenish_installment (agreement_id, seq, due_on, amount, cumulative)
            SELECT s.agreement_id, k, (s.signed_on + make_interval(months => k))::date,
                   CASE WHEN k = %(count)s THEN t.total - t.equal * (%(count)s - 1)
                        ELSE t.equal END,
                   CASE WHEN k = %(count)s THEN t.total ELSE t.equal * k END
            FROM bench_sign s
            CROSS JOIN LATERAL (SELECT s.principal + s.late_fee AS total,
                                       floor((s.principal + s.late_fee) * 100 / %(count)s) / 100
                                       AS equal) t
            CROSS JOIN generate_series(1, %(count)s) k
            ORDER BY s.agreement_id, k
            """,
            {"count": INSTALLMENTS},
        )
        c.execute(
            """
            UPDATE replenish_arrearscase c SET state = 'agreement', state_changed_at = %s
            FROM bench_sign s WHERE s.case_id = c.id
            """,
            [now],
        )
        c.execute(
            """
            INSERT INTO replenish_auditentry (case_id, subject, subject_id, transition, from_state,
                                              to_state, actor_id, actor_label, at, reason,
                                              reason_code, reason_args)
            SELECT s.case_id, 'agreement', s.agreement_id, 'draft', '', 'draft', NULL::integer,
                   %(label)s, %(now)s,
                   'agreement ' || s.number || ' drafted with ' || u.name
                   || ' (' || %(kind)s || ')',
                   'agreement_drafted',
                   jsonb_build_object(
                       'agreement', s.number,
                       'party', jsonb_build_object(
                           'code', 'party_of_kind',
                           'args', jsonb_build_object('party', u.name, 'kind', %(kind)s)))
            FROM bench_sign s JOIN units_unit u ON u.id = s.unit_id
            UNION ALL
            SELECT s.case_id, 'agreement', s.agreement_id, 'sign', 'draft', 'in_force',
                   NULL::integer, %(label)s, %(now)s, 'signed on ' || s.signed_on,
                   'signed_on', jsonb_build_object('on', s.signed_on::text)
            FROM bench_sign s
            UNION ALL
            SELECT s.case_id, 'case', s.case_id, 'agreement_take_effect', 'notified',
                   'agreement', NULL::integer, %(label)s, %(now)s, 'agreement ' || s.number,
                   'agreement_in_force', jsonb_build_object('agreement', s.number)
            FROM bench_sign s
            """,
            {"label": label, "now": now, "kind": CounterpartyKind.UNIT.value},
        )
        case_totals_refresh(
            ArrearsCase.objects.extra(where=["id IN (SELECT case_id FROM bench_sign)"]).values("pk")
        )
        c.execute("SELECT set_name, count(*) FROM bench_sign GROUP BY set_name")
        made = dict(c.fetchall())
        c.execute(
            "SELECT agreement_id FROM bench_sign WHERE set_name = 'to_terminate' "
            "ORDER BY agreement_id"
        )
        to_terminate = [row[0] for row in c.fetchall()]
    return {**made, "_terminate": to_terminate}


def terminate(agreement_ids: list[int]) -> int:
    """End agreements in force through the product's `agreement_terminate`, one by one."""
    from replenish.services.agreements import agreement_terminate

    for agreement_id in agreement_ids:
        agreement_terminate(
            agreement_id=agreement_id,
            actor=_actor(),
            reason="单位申请解除协议",
            on=TERMINATED_ON,
        )
    return len(agreement_ids)


def states(scale: Scale) -> str:
    """Every case state and the agreements (after the two waves' notices)."""
    done = events(scale)
    made = sign_agreements(scale)
    terminated = terminate(made.pop("_terminate"))
    return f"events: {done}; agreements signed: {made}; terminated: {terminated}"


def make_due(every: int, offset: int) -> int:
    """Deliver the notice of every `every`-th notified case (from `offset`) with its deadline
    already passed: the set-based stand-in for deliveries recorded over the past weeks."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE notices_notice n SET state = 'delivered', delivery_channel = 'post',
                   delivered_on = %s, deadline = %s
            FROM replenish_arrearscase c
            WHERE c.id = n.case_id AND c.state = 'notified' AND n.state = 'issued'
              AND c.id %% %s = %s
            """,
            [AS_OF - timedelta(days=20), AS_OF - timedelta(days=1), every, offset],
        )
        return cursor.rowcount


def write_arrivals_files(scale: Scale, work: Path) -> tuple[Path, Path]:
    """Two arrivals files (same database, same bytes).

    The earlier one (`arrivals // 10` rows, imported before the measured import): first the
    notice's total plus 10% for `scale.settled` notified cases (they settle, the rest is kept as
    credit), then the agreement's total for the agreements to fulfil, then random amounts quoting
    a random notice. The measured one: 60% quote a notice number, 20% only the payer (a unit
    whose other case the earlier file settled: it has exactly one open case), 10% an unknown
    payer (unmatched), 10% re-send references of the earlier file (duplicates).
    """
    from django.db import connection

    from units.samples import sample_uscc

    earlier, path = arrivals_paths(scale, work)
    count = scale.arrivals
    rng = random.Random(SEED)
    with connection.cursor() as cursor:
        # Notices of the cases a payment may reach: open, owed by the unit itself, not one of
        # the few agreements kept for a breach, a termination or a fulfilment.
        cursor.execute(
            """
            SELECT n.number, u.uscc, n.total, c.id, c.state FROM notices_notice n
            JOIN replenish_arrearscase c ON c.id = n.case_id
            JOIN units_unit u ON u.id = c.unit_id
            WHERE c.state IN ('notified', 'agreement') AND c.obligor_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM replenish_agreement a
                              WHERE a.case_id = c.id AND a.signed_on <> %s)
            ORDER BY n.id
            """,
            [SIGNED_IN_FORCE],
        )
        notices = cursor.fetchall()
        cursor.execute(
            """
            SELECT n.number, u.uscc, a.total FROM replenish_agreement a
            JOIN replenish_arrearscase c ON c.id = a.case_id
            JOIN units_unit u ON u.id = c.unit_id
            JOIN notices_notice n ON n.case_id = c.id
            WHERE a.state = 'in_force' AND a.signed_on = %s
              AND a.id NOT IN (SELECT subject_id FROM replenish_auditentry
                               WHERE subject = 'agreement' AND transition = 'terminate')
            ORDER BY a.id
            """,
            [SIGNED_OTHERS],
        )
        to_fulfil = cursor.fetchall()
    notified = [row for row in notices if row[4] == "notified" and row[3] % 5 == 0]
    to_settle = notified[: scale.settled]
    settled_payers = [uscc for _number, uscc, *_rest in to_settle]
    channels = ("wechat", "alipay", "etax", "bank", "counter")
    header = ("arrival_ref", "arrived_on", "amount", "payer_uscc", "reference", "channel")
    early_day = AS_OF - timedelta(days=5)
    resent = []
    with earlier.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        rows = [
            (number, uscc, (total * 11 / 10).quantize(total))
            for number, uscc, total, _case, _state in to_settle
        ]
        rows += [(number, uscc, total) for number, uscc, total in to_fulfil]
        for i in range(count // 10):
            if i < len(rows):
                number, uscc, amount = rows[i]
            else:
                number, uscc, *_rest = notices[rng.randrange(len(notices))]
                amount = f"{rng.randrange(100, 5000)}.00"
            row = (f"EARLY{i:08d}", early_day, amount, uscc, number, channels[i % 5])
            writer.writerow(row)
            resent.append(row)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for i in range(count):
            kind = i % 10
            arrived = AS_OF - timedelta(days=1 + i % 3)
            amount = f"{rng.randrange(100, 5000)}.{rng.randrange(100):02d}"
            channel = channels[i % 5]
            number, uscc, *_rest = notices[rng.randrange(len(notices))]
            if kind < 6:
                writer.writerow((f"ARR{i:08d}", arrived, amount, uscc, number, channel))
            elif kind < 8:
                payer = settled_payers[rng.randrange(len(settled_payers))]
                writer.writerow((f"ARR{i:08d}", arrived, amount, payer, "", channel))
            elif kind < 9:
                unknown = sample_uscc(20_000_000 + i, region_code="310115")
                writer.writerow((f"ARR{i:08d}", arrived, amount, unknown, "", channel))
            else:
                writer.writerow(resent[i // 10 % len(resent)])
    return earlier, path


def analyze() -> None:
    """What autovacuum does to a live region between two workloads, done at once (not
    measured): the statistics of tables just filled by a bulk load."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def census() -> dict:
    """What the region holds: cases by state, agreements by state, installments, arrivals."""
    from django.db import connection

    result = {}
    with connection.cursor() as cursor:
        for name, sql in (
            ("cases", "SELECT state, count(*) FROM replenish_arrearscase GROUP BY state"),
            ("agreements", "SELECT state, count(*) FROM replenish_agreement GROUP BY state"),
            ("arrivals", "SELECT state, count(*) FROM replenish_arrival GROUP BY state"),
            (
                "arrivals matched by",
                "SELECT COALESCE(NULLIF(matched_by, ''), '-'), count(*) FROM replenish_arrival "
                "GROUP BY 1",
            ),
        ):
            cursor.execute(sql)
            result[name] = dict(sorted(cursor.fetchall()))
        for name, table in (
            ("units", "units_unit"),
            ("lines", "replenish_arrearsline"),
            ("notices", "notices_notice"),
            ("installments", "replenish_installment"),
            ("ledger entries", "replenish_ledgerentry"),
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")
            result[name] = cursor.fetchone()[0]
    return result


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.timed bench.region <step> [...]` (Django set up by bench.timed)."""
    import argparse

    parser = argparse.ArgumentParser(prog="bench.region")
    parser.add_argument("step", choices=("analyze", "states", "due", "arrivals-files", "census"))
    parser.add_argument("--size", choices=tuple(SIZES), default="small")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--offset", type=int, default=0)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    scale = scale_of(args.size)
    if args.step == "analyze":
        analyze()
    elif args.step == "states":
        print(states(scale))
    elif args.step == "due":
        print(f"{make_due(args.every, args.offset)} notice(s) past their deadline")
    elif args.step == "arrivals-files":
        write_arrivals_files(scale, args.work)
    elif args.step == "census":
        import json

        print(json.dumps(census()))


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    main()
