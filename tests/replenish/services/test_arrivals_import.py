"""`arrivals_import`: the arrivals file of docs/formats.md, matched, accepted whole or rejected
whole; a re-sent arrival_ref posts nothing."""

import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from kernel.csvfiles import FileRejected
from notices.services import case_issue_notice
from replenish.departments import AUDIT, FINANCE
from replenish.models import (
    ArrearsCase,
    Arrival,
    ArrivalImport,
    ArrivalState,
    AuditEntry,
    CaseState,
    LedgerEntry,
    MatchedBy,
)
from replenish.services.arrival import arrivals_post
from replenish.services.arrivals_import import Outcome, PreviewRow, arrivals_import
from replenish.services.ledger import ledger_differences
from tests.factories import (
    IMPORT_DAY,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    all_table_counts,
    arrivals_csv,
    case_of,
    department_user,
    import_arrivals,
    import_rows,
)
from units.identifiers import validate_uscc
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases():
    """Unit 1: one case, notified (N310101-2026-000001). Unit 2: one registered case. Unit 3:
    two open cases (one notified, one registered since). Unit 4: known, nothing open."""
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2, 3)])
    case_issue_notice(case_id=case_of(sample_uscc(1)).pk, actor=SYSTEM, issued_on=date(2026, 2, 1))
    case_issue_notice(case_id=case_of(sample_uscc(3)).pk, actor=SYSTEM, issued_on=date(2026, 2, 1))
    import_rows([ArrearsRowFactory(unit_no=3, person_no=33, period="2026-01")])
    import_rows([ArrearsRowFactory(unit_no=4, person_no=4)])
    four = case_of(sample_uscc(4))
    import_arrivals([ArrivalRowFactory(arrival_ref="PAID-4", unit_no=4, amount="1022.50")])
    arrivals_post(actor=SYSTEM)
    assert ArrearsCase.objects.get(pk=four.pk).state == CaseState.SETTLED
    return {n: list(ArrearsCase.objects.filter(unit__uscc=sample_uscc(n))) for n in (1, 2, 3, 4)}


def arrival(ref: str) -> tuple:
    return (
        Arrival.objects.filter(arrival_ref=ref)
        .values_list("state", "case__case_no", "matched_by", "match_note")
        .get()
    )


def test_each_row_is_matched_by_reference_then_by_the_payers_single_open_case(cases):
    # given a file with each way of matching, and of not matching
    rows = [
        ArrivalRowFactory(arrival_ref="R1", unit_no=1, reference="N310101-2026-000001"),
        ArrivalRowFactory(arrival_ref="R2", unit_no=2),
        ArrivalRowFactory(arrival_ref="R3", unit_no=2, reference="N310101-2026-999999"),
        ArrivalRowFactory(arrival_ref="R4", unit_no=3),
        ArrivalRowFactory(arrival_ref="R5", unit_no=3, reference="N310101-2026-000002"),
        ArrivalRowFactory(arrival_ref="R6", unit_no=2, reference="N310101-2026-000001"),
        ArrivalRowFactory(arrival_ref="R7", unit_no=4),
        ArrivalRowFactory(arrival_ref="R8", unit_no=8),
    ]

    # when
    result = import_arrivals(rows)

    # then
    assert (
        result.summary()
        == "8 rows: 8 arrivals received (4 matched, 4 unmatched), 0 already received"
    )
    U, M = ArrivalState.UNMATCHED, ArrivalState.MATCHED
    assert arrival("R1") == (M, "AC2026-0000001", MatchedBy.REFERENCE, "notice N310101-2026-000001")
    assert arrival("R2") == (M, "AC2026-0000002", MatchedBy.PAYER, "the payer's single open case")
    assert arrival("R3") == (
        M,
        "AC2026-0000002",
        MatchedBy.PAYER,
        "reference N310101-2026-999999 not found; the payer's single open case",
    )
    assert arrival("R4") == (U, None, "", "the payer has 2 open cases")
    assert arrival("R5") == (M, "AC2026-0000003", MatchedBy.REFERENCE, "notice N310101-2026-000002")
    assert arrival("R6") == (
        U,
        None,
        "",
        "notice N310101-2026-000001 is of case AC2026-0000001 of another unit",
    )
    assert arrival("R7") == (U, None, "", "the payer has no open case")
    assert arrival("R8") == (U, None, "", "the payer is not a known unit")
    batch = ArrivalImport.objects.get(pk=result.import_id)
    assert (batch.rows, batch.received, batch.resent, batch.matched, batch.unmatched) == (
        8, 8, 0, 4, 4,
    )  # fmt: skip
    assert Arrival.objects.get(arrival_ref="R8").payer is None
    assert Arrival.objects.get(arrival_ref="R1").payer.uscc == sample_uscc(1)
    # nothing is posted by the import: that is the adjustment's work
    assert (
        not LedgerEntry.objects.filter(source__startswith="arrival:")
        .exclude(source=f"arrival:{Arrival.objects.get(arrival_ref='PAID-4').pk}")
        .exists()
    )


def test_every_arrival_records_how_it_was_received_in_the_audit_trail(cases):
    # when
    import_arrivals(
        [
            ArrivalRowFactory(arrival_ref="R1", unit_no=1, reference="N310101-2026-000001"),
            ArrivalRowFactory(arrival_ref="R8", unit_no=8),
        ],
        file_name="bank-0301.csv",
    )

    # then the matched one's row belongs to its case; the unmatched one's to no case yet
    r1, r8 = Arrival.objects.get(arrival_ref="R1"), Arrival.objects.get(arrival_ref="R8")
    assert list(
        AuditEntry.objects.filter(subject="arrival", subject_id__in=[r1.pk, r8.pk])
        .order_by("subject_id")
        .values_list("case_id", "subject_id", "transition", "from_state", "to_state", "reason")
    ) == [
        (r1.case_id, r1.pk, "match", "received", "matched",
         "arrivals file bank-0301.csv: matched by the reference quoted"),
        (None, r8.pk, "queue", "received", "unmatched",
         "arrivals file bank-0301.csv: no case found"),
    ]  # fmt: skip


def test_a_re_sent_arrival_ref_posts_nothing(cases):
    # given a file imported and posted
    rows = [
        ArrivalRowFactory(arrival_ref="R1", unit_no=1, amount="300.00"),
        ArrivalRowFactory(arrival_ref="R2", unit_no=8),
    ]
    import_arrivals(rows)
    arrivals_post(actor=SYSTEM)
    before = all_table_counts()
    owed = ArrearsCase.objects.get(case_no="AC2026-0000001").principal_unpaid

    # when the same file comes again, and again with one new row
    again = import_arrivals(rows)
    more = import_arrivals([*rows, ArrivalRowFactory(arrival_ref="R3", unit_no=2)])
    arrivals_post(actor=SYSTEM)

    # then the repeated rows added nothing and posted nothing
    assert (
        again.summary()
        == "2 rows: 0 arrivals received (0 matched, 0 unmatched), 2 already received"
    )
    assert again.import_id is None
    assert (
        more.summary() == "3 rows: 1 arrivals received (1 matched, 0 unmatched), 2 already received"
    )
    after = all_table_counts()
    assert after["replenish.Arrival"] == before["replenish.Arrival"] + 1
    assert after["replenish.ArrivalImport"] == before["replenish.ArrivalImport"] + 1
    assert ArrearsCase.objects.get(case_no="AC2026-0000001").principal_unpaid == owed
    assert ledger_differences() == []


def test_the_idempotency_is_the_unique_constraint_not_a_look_up(cases):
    # given R1 received
    import_arrivals([ArrivalRowFactory(arrival_ref="R1", unit_no=1)])

    # when the import runs, the insert of arrivals is one statement that skips conflicts
    with CaptureQueriesContext(connection) as queries:
        import_arrivals([ArrivalRowFactory(arrival_ref="R1", unit_no=1)])
    inserts = [
        q["sql"] for q in queries if re.match(r"\s*INSERT INTO replenish_arrival\s", q["sql"])
    ]
    assert len(inserts) == 1
    assert "ON CONFLICT (arrival_ref) DO NOTHING" in inserts[0]

    # and the database itself refuses a second arrival with the reference
    first = Arrival.objects.get(arrival_ref="R1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Arrival.objects.create(
            arrival_ref="R1",
            arrived_on=first.arrived_on,
            amount=first.amount,
            payer_uscc=first.payer_uscc,
            channel=first.channel,
        )


def test_a_re_sent_arrival_ref_with_other_money_is_a_bad_row(cases):
    # given
    import_arrivals([ArrivalRowFactory(arrival_ref="R1", unit_no=1, amount="300.00")])
    before = all_table_counts()

    # when
    with pytest.raises(FileRejected) as refusal:
        import_arrivals(
            [
                ArrivalRowFactory(arrival_ref="R2", unit_no=2),
                ArrivalRowFactory(arrival_ref="R1", unit_no=1, amount="300.01"),
            ]
        )

    # then
    assert [str(e) for e in refusal.value.errors] == [
        "line 3: amount: arrival_ref already received with amount 300.00; a correction is a "
        "reversal and a new arrival_ref"
    ]
    assert all_table_counts() == before


@pytest.mark.parametrize(
    ("other", "reason"),
    [
        ({"reference": "AG-1"}, "arrival_ref already received with reference (empty)"),
        ({"channel": "wechat"}, "arrival_ref already received with channel bank"),
    ],
)
def test_a_re_sent_arrival_ref_with_another_reference_or_channel_is_a_bad_row(cases, other, reason):
    # given
    import_arrivals([ArrivalRowFactory(arrival_ref="R1", unit_no=1)])
    before = all_table_counts()

    # when
    with pytest.raises(FileRejected) as refusal:
        import_arrivals([ArrivalRowFactory(arrival_ref="R1", unit_no=1, **other)])

    # then
    assert [str(e) for e in refusal.value.errors] == [
        f"line 2: {next(iter(other))}: {reason}; a correction is a reversal and a new arrival_ref"
    ]
    assert all_table_counts() == before


def bad_uscc() -> str:
    good = sample_uscc(5)
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def uscc_reason(value: str) -> str:
    try:
        validate_uscc(value)
    except Exception as exc:  # the reason the validator gives
        return " ".join(exc.messages)
    raise AssertionError("valid")


def test_every_bad_row_is_named_with_its_line_and_nothing_is_written(cases):
    # given a file whose every row but the first and the last has one fault
    before = all_table_counts()
    rows = [
        ArrivalRowFactory(arrival_ref="OK1", unit_no=1),
        ArrivalRowFactory(arrival_ref="X3", amount="100.001"),
        ArrivalRowFactory(arrival_ref="X4", amount="-5.00"),
        ArrivalRowFactory(arrival_ref="X5", amount="0.00"),
        ArrivalRowFactory(arrival_ref="X6", channel="paypal"),
        ArrivalRowFactory(arrival_ref="X7", payer_uscc=bad_uscc()),
        ArrivalRowFactory(arrival_ref="X8", arrived_on="2026-03-02"),
        ArrivalRowFactory(arrival_ref="OK1", unit_no=2),
        ArrivalRowFactory(arrival_ref=""),
        ArrivalRowFactory(arrival_ref="X11", arrived_on="2026-02-30"),
        ArrivalRowFactory(arrival_ref="X12", amount="1,000.00"),
        ["X13", "2026-03-01", "1.00"],
        ArrivalRowFactory(arrival_ref="X" * 65),
        ArrivalRowFactory(arrival_ref="OK2", unit_no=2),
    ]

    # when it is imported (on 2026-03-01)
    with pytest.raises(FileRejected) as refusal:
        import_arrivals(rows, today=date(2026, 3, 1))

    # then every bad row is named, with its line (the header is line 1), and nothing changed
    assert [str(e) for e in refusal.value.errors] == [
        "line 3: amount: '100.001' has more than 2 decimals",
        "line 4: amount: must not be negative",
        "line 5: amount: must be greater than 0",
        "line 6: channel: 'paypal' is not a channel (wechat, alipay, etax, bank, counter)",
        f"line 7: payer_uscc: {uscc_reason(bad_uscc())}",
        "line 8: arrived_on: 2026-03-02 is in the future",
        "line 9: arrival_ref: the same arrival_ref as line 2",
        "line 10: arrival_ref: must not be empty",
        "line 11: arrived_on: '2026-02-30' is not a real date",
        "line 12: amount: '1,000.00' is not an amount (digits with at most 2 decimals)",
        "line 13: row: 3 values, 6 expected",
        "line 14: arrival_ref: longer than 64 characters",
    ]
    assert all_table_counts() == before


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "line 1: header: the file is empty"),
        (b"arrival_ref,arrived_on,amount,payer_uscc,reference,channel\n",
         "line 2: row: the file has no data rows"),
        (b"arrival_ref,amount,arrived_on,payer_uscc,reference,channel\nA,1.00,2026-03-01,x,,bank\n",
         "line 1: header: expected columns arrival_ref,arrived_on,amount,payer_uscc,reference,"
         "channel; got arrival_ref,amount,arrived_on,payer_uscc,reference,channel"),
    ],
)  # fmt: skip
def test_an_empty_or_headless_file_is_refused(content, error):
    import io

    with pytest.raises(FileRejected) as refusal:
        arrivals_import(file=io.BytesIO(content), file_name="x.csv", actor=SYSTEM, today=IMPORT_DAY)
    assert [str(e) for e in refusal.value.errors] == [error]
    assert sum(all_table_counts().values()) == 0


def test_a_byte_order_mark_and_optional_columns_at_the_end_are_accepted(cases):
    # given a file with a BOM and an extra column at the end
    import io

    data = arrivals_csv(
        [[*ArrivalRowFactory(arrival_ref="R1", unit_no=2).values(), "note"]],
        header=[
            "arrival_ref",
            "arrived_on",
            "amount",
            "payer_uscc",
            "reference",
            "channel",
            "memo",
        ],
        bom=True,
    )

    # when
    result = arrivals_import(file=io.BytesIO(data.getvalue()), file_name="x.csv", actor=SYSTEM,
                             today=IMPORT_DAY)  # fmt: skip

    # then
    assert (result.received, result.matched) == (1, 1)


def test_the_preview_is_the_import_rolled_back_and_says_what_the_adjustment_would_post(cases):
    # given unit 2 owes 1,000.00 + 45 days of fee (22.50) on 2026-03-01
    rows = [
        ArrivalRowFactory(arrival_ref="R1", unit_no=2, amount="1000.00"),
        ArrivalRowFactory(arrival_ref="R2", unit_no=2, amount="100.00"),
        ArrivalRowFactory(arrival_ref="R3", unit_no=8, amount="5.00", channel="wechat"),
        ArrivalRowFactory(arrival_ref="PAID-4", unit_no=4, amount="1022.50"),
    ]
    before = all_table_counts()

    # when previewed
    result = import_arrivals(rows, preview=True)

    # then row by row what it would do, and nothing was written
    assert all_table_counts() == before
    assert (
        result.summary()
        == "4 rows: 3 arrivals received (2 matched, 1 unmatched), 1 already received"
    )
    assert result.import_id is None
    common = dict(arrived_on=date(2026, 3, 1), reference="")
    u2, u8, u4 = sample_uscc(2), sample_uscc(8), sample_uscc(4)
    assert result.preview == (
        PreviewRow(2, "R1", amount=D("1000.00"), payer_uscc=u2, channel="bank", **common,
                   outcome=Outcome.MATCHED, case_no="AC2026-0000002",
                   note="the payer's single open case", applied=D("1000.00"), credit=D("0.00")),
        PreviewRow(3, "R2", amount=D("100.00"), payer_uscc=u2, channel="bank", **common,
                   outcome=Outcome.MATCHED, case_no="AC2026-0000002",
                   note="the payer's single open case", applied=D("22.50"), credit=D("77.50"),
                   settles=True),
        PreviewRow(4, "R3", amount=D("5.00"), payer_uscc=u8, channel="wechat", **common,
                   outcome=Outcome.UNMATCHED, note="the payer is not a known unit"),
        PreviewRow(5, "PAID-4", amount=D("1022.50"), payer_uscc=u4, channel="bank", **common,
                   outcome=Outcome.RESENT),
    )  # fmt: skip
    assert [str(row) for row in result.preview][1:3] == [
        f"line 3: R2 100.00 from {u2}: matched to AC2026-0000002 (the payer's single open case); "
        "the adjustment applies 22.50 and keeps 77.50 as credit, settles the case",
        f"line 4: R3 5.00 from {u8}: unmatched (the payer is not a known unit), waits for finance",
    ]

    # and confirming it does what the preview said
    done = import_arrivals(rows)
    posted = {p.arrival_ref: p for p in arrivals_post(actor=SYSTEM)}
    assert (done.received, done.matched, done.unmatched, done.resent) == (3, 2, 1, 1)
    assert [(posted[r].applied, posted[r].credit, posted[r].settled) for r in ("R1", "R2")] == [
        (D("1000.00"), D("0.00"), False),
        (D("22.50"), D("77.50"), True),
    ]


def test_the_import_takes_the_same_statements_for_10_rows_as_for_1000(sqlite_variable_limit):
    # given
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in range(1, 11)])
    small = [ArrivalRowFactory(unit_no=1 + n % 10) for n in range(10)]
    large = [ArrivalRowFactory(unit_no=1 + n % 10) for n in range(1000)]

    # when
    with CaptureQueriesContext(connection) as few:
        import_arrivals(small)
    with CaptureQueriesContext(connection) as many:
        result = import_arrivals(large)

    # then
    assert result.received == 1000
    assert len(many) == len(few)


def test_finance_may_import_and_audit_may_not(cases):
    # given
    clerk, auditor = department_user(FINANCE, "cashier"), department_user(AUDIT, "inspector")

    # when / then
    assert import_arrivals([ArrivalRowFactory(arrival_ref="F1", unit_no=2)], actor=clerk).received
    received = Arrival.objects.get(arrival_ref="F1")
    assert AuditEntry.objects.filter(subject="arrival", subject_id=received.pk).values_list(
        "actor_id", "actor_label"
    ).get() == (clerk.pk, "cashier")
    with pytest.raises(PermissionDenied) as refused:
        import_arrivals([ArrivalRowFactory(unit_no=2)], actor=auditor)
    assert str(refused.value) == (
        "inspector may not import arrivals (needs permission replenish.add_arrival)."
    )
