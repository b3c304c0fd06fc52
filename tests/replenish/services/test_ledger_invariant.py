"""The ledger invariant under random sequences of the workflow (hypothesis stateful testing).

What a case owes equals its assessed principal and fixed late fees minus what was applied (net of
reversals), written off and transferred, never below zero; the cached figures say the same as the
ledger; and every yuan that arrived is either applied to a case, kept as credit, or reversed.

Units merge, split and go bankrupt, and a unit that took cases over may do so in turn (nested
successions, issue 13 rule 5).

The machine drives the real services only. To extend it (agreements, write-offs), add a `@rule`
that calls the new service on a case or an agreement drawn from the database (`_pick`), and,
where the new step moves money, add its ledger kind to `owed_from_ledger` and to the
conservation check; every invariant runs after every step.
"""

from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import translation
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from kernel.csvfiles import FileRejected
from kernel.money import line_fee_due
from notices.models import CURRENT_NOTICE_STATES, Notice
from notices.services import case_issue_notice
from operations.daily import daily_run
from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import (
    OPEN_STATES,
    Agreement,
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalState,
    AuditEntry,
    CaseState,
    CreditEntry,
    CreditRefund,
    LedgerEntry,
    LedgerKind,
    Payment,
    PaymentState,
    RefundState,
    WriteOffApplication,
    WriteOffState,
    owed_by_unit,
)
from replenish.selectors import late_fee_policy, line_late_fee
from replenish.services.adjustment import adjustments_post
from replenish.services.agreements import AGREEMENT_CASE_STATES, agreement_draft, agreement_sign
from replenish.services.arrival import arrival_confirm, arrival_match, arrival_reverse
from replenish.services.corrections import (
    correction_approve,
    correction_record,
    correction_reject,
)
from replenish.services.credit import (
    credit_offset,
    refund_apply,
    refund_approve,
    refund_pay,
    refund_withdraw,
    unit_credit,
    unit_credit_pending,
)
from replenish.services.ledger import ledger_differences
from replenish.services.records import _month_figures_sql, _status_sql, paid_months_batch_make
from replenish.services.unit_events import (
    EventDocument,
    Party,
    unit_record_bankruptcy,
    unit_record_merger,
    unit_record_split,
)
from replenish.services.writeoff import (
    writeoff_accept,
    writeoff_approve,
    writeoff_reject,
    writeoff_return,
    writeoff_withdraw,
)
from tests.english_words import english_words
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    UserFactory,
    accepted_payment,
    all_table_counts,
    department_user,
    import_arrivals,
    import_rows,
    submitted_writeoff,
)
from tests.replenish.services.test_fee_where_money_reaches import (
    assert_arrivals_fix_only_lines_they_pay,
    own_history,
)
from units.models import Unit, UnitStatus
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db

UNITS = (1, 2, 3)
PERIODS = {"2025-10": "2025-11-15", "2025-11": "2025-12-15", "2025-12": "2026-01-15"}
money = st.integers(min_value=1, max_value=400_000).map(lambda fen: D(fen).scaleb(-2))
PAYABLE = (CaseState.REGISTERED, CaseState.NOTIFIED, CaseState.OVERDUE)
STEPS = {"count": 0}


def owed_from_ledger() -> dict[int, tuple[D, D]]:
    """Per case, (what it owes by the ledger's kinds, what its cache says it owes)."""
    k = LedgerKind
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.id,
                   ROUND(COALESCE(SUM(CASE WHEN e.kind IN ('{k.ASSESSED}', '{k.CORRECTION}')
                         THEN e.employer + e.employee ELSE 0 END), 0)
                 + COALESCE(SUM(CASE WHEN e.kind IN ('{k.LATE_FEE_FIXED}', '{k.CORRECTION}')
                         THEN e.late_fee ELSE 0 END), 0)
                 + COALESCE(SUM(CASE WHEN e.kind IN ('{k.PAYMENT_APPLIED}', '{k.PAYMENT_REVERSED}',
                                                     '{k.WRITTEN_OFF}', '{k.TRANSFERRED}')
                         THEN e.employer + e.employee + e.late_fee ELSE 0 END), 0), 2),
                   c.principal_unpaid + c.fee_unpaid
            FROM replenish_arrearscase c LEFT JOIN replenish_ledgerentry e ON e.case_id = c.id
            GROUP BY c.id, c.principal_unpaid, c.fee_unpaid
            """
        )
        return {
            pk: (D(str(ledger)).quantize(D("0.01")), D(str(cached)).quantize(D("0.01")))
            for pk, ledger, cached in cursor.fetchall()
        }


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.today = date(2026, 3, 1)
        # Each example runs in a transaction rolled back at its end: a clean database each time.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()

    def teardown(self):
        try:
            self.every_reason_reads_in_chinese()
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    def every_reason_reads_in_chinese(self):
        """Why each state changed and each yuan moved, as a Chinese clerk reads it on the case
        page (the trail and the ledger) and on the credit's page: the reasons the services wrote
        are codes read in Chinese, the ones typed here are Chinese already. Checked once, at the
        end of each sequence, over everything it wrote."""
        with translation.override("zh-hans"):
            english = [
                (model.__name__, entry.pk, entry.reason_shown)
                for model in (AuditEntry, LedgerEntry, CreditEntry)
                for entry in model.objects.only("reason", "reason_code", "reason_args")
                if english_words(entry.reason_shown, allowed=frozenset({"tests"}))
            ]
        assert not english, english

    def _pick(self, data, queryset):
        pks = list(queryset.order_by("pk").values_list("pk", flat=True))
        return data.draw(st.sampled_from(pks)) if pks else None

    def step(self):
        STEPS["count"] += 1

    # --- the steps ----------------------------------------------------------------------------

    @rule(
        unit=st.sampled_from(UNITS),
        person=st.integers(1, 4),
        period=st.sampled_from(sorted(PERIODS)),
        employer=st.sampled_from(["800.00", "123.45", "0.00", "19.99"]),
        employee=st.sampled_from(["200.00", "0.01", "37.50"]),
    )
    def import_arrears(self, unit, person, period, employer, employee):
        self.step()
        row = ArrearsRowFactory(
            unit_no=unit,
            person_no=person,
            period=period,
            due_date=PERIODS[period],
            employer_amount=employer,
            employee_amount=employee,
        )
        before = all_table_counts()
        try:
            import_rows([row], today=self.today)
        except FileRejected:
            # the same line imported before with other amounts: nothing may have changed
            assert all_table_counts() == before

    @rule(days=st.integers(0, 45))
    def time_passes(self, days):
        self.step()
        self.today += timedelta(days=days)

    @rule(data=st.data())
    def issue_notice(self, data):
        self.step()
        case_id = self._pick(
            data,
            ArrearsCase.objects.filter(state__in=[CaseState.REGISTERED, CaseState.OVERDUE]).exclude(
                principal_unpaid=0, fee_unpaid=0
            ),
        )
        if case_id:
            case_issue_notice(case_id=case_id, actor=SYSTEM, issued_on=self.today)

    @rule(data=st.data(), count=st.integers(1, 3))
    def agreement_signed(self, data, count):
        self.step()
        case_id = self._pick(
            data,
            ArrearsCase.objects.filter(state__in=AGREEMENT_CASE_STATES).exclude(
                principal_unpaid=0, fee_unpaid=0
            ),
        )
        if not case_id:
            return
        if not hasattr(self, "officer"):
            self.officer = UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)
        before = all_table_counts()
        try:
            with transaction.atomic():
                draft = agreement_draft(
                    case_id=case_id,
                    installment_count=count,
                    actor=self.officer,
                    drafted_on=self.today,
                )
                agreement_sign(agreement_id=draft.pk, actor=self.officer, signed_on=self.today)
        except ValidationError:
            # e.g. a split unit's case, or a draft already waiting: nothing may have changed
            assert all_table_counts() == before

    @rule(
        data=st.data(),
        employer=st.sampled_from(["0.00", "100.00", "799.99", "1500.00"]),
        employee=st.sampled_from(["0.00", "50.00", "200.00"]),
        approve=st.booleans(),
    )
    def line_corrected(self, data, employer, employee, approve):
        # issue 13, rule 4: recorded by one collection user, decided by another
        self.step()
        line_id = self._pick(data, ArrearsLine.objects.all())
        if not line_id:
            return
        if not hasattr(self, "recorder"):
            self.recorder = department_user(COLLECTION, "recorder")
            self.approver = department_user(COLLECTION, "approver")
        before = all_table_counts()
        try:
            with transaction.atomic():
                correction = correction_record(
                    line_id=line_id,
                    employer_amount=D(employer),
                    employee_amount=D(employee),
                    reason="核定错误",
                    document_ref="17",
                    actor=self.recorder,
                )
        except ValidationError:
            # a case under agreement or write-off, a split line, the same amounts: unchanged
            assert all_table_counts() == before
            return
        if approve:
            correction_approve(correction_id=correction.pk, actor=self.approver, on=self.today)
        else:
            correction_reject(correction_id=correction.pk, reason="不符", actor=self.approver)

    @rule()
    def daily(self):
        self.step()
        daily_run(as_of=self.today)

    @rule(
        data=st.data(),
        unit=st.sampled_from((*UNITS, 9)),
        amount=money,
        days_ago=st.integers(0, 10),
        reference=st.sampled_from(["notice", "", "N310101-2026-999999"]),
    )
    def money_arrives(self, data, unit, amount, days_ago, reference):
        self.step()
        if reference == "notice":
            notice_id = self._pick(data, Notice.objects.filter(state__in=CURRENT_NOTICE_STATES))
            reference = Notice.objects.get(pk=notice_id).number if notice_id else ""
        row = ArrivalRowFactory(
            unit_no=unit,
            amount=str(amount),
            arrived_on=str(self.today - timedelta(days=days_ago)),
            reference=reference,
        )
        import_arrivals([row], today=self.today)
        # a re-sent file posts nothing
        assert import_arrivals([row], today=self.today).received == 0

    @rule(data=st.data(), amount=money)
    def counter_payment_arrives(self, data, amount):
        self.step()
        case_id = self._pick(data, ArrearsCase.objects.filter(state__in=PAYABLE))
        if case_id:
            payment = accepted_payment(
                ArrearsCase.objects.get(pk=case_id), str(amount), paid_on=self.today
            )
            arrival_confirm(
                payment_id=payment.pk, arrived_on=self.today, actor=SYSTEM, today=self.today
            )

    @rule()
    def adjust(self):
        self.step()
        adjustments_post(actor=SYSTEM, as_of=self.today)
        # a case its arrived money paid off is settled
        assert not ArrearsCase.objects.filter(
            state__in=PAYABLE,
            principal_unpaid=0,
            fee_unpaid=0,
            arrivals__state=ArrivalState.POSTED,
        ).exists()

    @rule(data=st.data())
    def finance_matches_by_hand(self, data):
        self.step()
        arrival_id = self._pick(data, Arrival.objects.filter(state=ArrivalState.UNMATCHED))
        case_id = self._pick(data, ArrearsCase.objects.all())
        if arrival_id and case_id:
            arrival_match(arrival_id=arrival_id, case_id=case_id, actor=SYSTEM)

    @rule(data=st.data())
    def finance_reverses(self, data):
        self.step()
        arrival_id = self._pick(
            data,
            Arrival.objects.filter(
                state__in=[ArrivalState.UNMATCHED, ArrivalState.MATCHED, ArrivalState.POSTED]
            ),
        )
        if arrival_id:
            before = all_table_counts()
            try:
                with transaction.atomic():
                    arrival_reverse(
                        arrival_id=arrival_id, reason="到账有误", actor=SYSTEM, on=self.today
                    )
            except ValidationError as refused:
                # only money posted to a case closed otherwise than by payment stays, the reversal
                # would reinstate an agreement beside a draft, or credit already refunded has to
                # be recovered from the unit first
                assert (
                    "cannot be reversed" in str(refused)
                    or "draft" in str(refused)
                    or "recover it" in str(refused)
                )
                assert all_table_counts() == before

    # --- credit: offset, refund ------------------------------------------------------------

    def _units_with_credit(self) -> list[int]:
        return sorted(
            unit_id
            for unit_id in set(CreditEntry.objects.values_list("unit_id", flat=True))
            if unit_credit(unit_id) > 0
        )

    @rule(data=st.data())
    def collection_offsets_credit(self, data):
        self.step()
        units = self._units_with_credit()
        if units:
            credit_offset(unit_id=data.draw(st.sampled_from(units)), actor=SYSTEM, on=self.today)

    @rule(data=st.data(), share=st.sampled_from([D("1"), D("0.5"), D("0.01")]))
    def unit_applies_for_a_refund(self, data, share):
        self.step()
        units = self._units_with_credit()
        if not units:
            return
        unit_id = data.draw(st.sampled_from(units))
        available = unit_credit(unit_id) - unit_credit_pending(unit_id)
        amount = max((available * share).quantize(D("0.01")), D("0.01"))
        if available <= 0:
            return
        refund_apply(
            unit_id=unit_id, amount=min(amount, available), account_name="单位",
            account_bank="银行", account_no="6222", actor=SYSTEM,
        )  # fmt: skip

    @rule(data=st.data())
    def finance_approves_a_refund(self, data):
        self.step()
        refund_id = self._pick(
            data,
            CreditRefund.objects.filter(
                state__in=[RefundState.APPLIED, RefundState.FIRST_APPROVED]
            ),
        )
        if not refund_id:
            return
        if not hasattr(self, "cashiers"):
            self.cashiers = [department_user(FINANCE), department_user(FINANCE)]
        refund = CreditRefund.objects.get(pk=refund_id)
        approver = self.cashiers[refund.first_approver_id == self.cashiers[0].pk]
        try:
            refund_approve(refund_id=refund_id, actor=approver)
        except ValidationError as refused:
            # a reversal took the credit it asked for meanwhile
            assert "cannot be approved" in str(refused)

    @rule(data=st.data())
    def finance_pays_a_refund_out(self, data):
        self.step()
        refund_id = self._pick(data, CreditRefund.objects.filter(state=RefundState.APPROVED))
        if refund_id:
            refund_pay(
                refund_id=refund_id, paid_on=self.today, payout_ref=f"OUT-{refund_id}",
                actor=SYSTEM, today=self.today,
            )  # fmt: skip

    @rule(data=st.data())
    def unit_withdraws_a_refund(self, data):
        self.step()
        refund_id = self._pick(data, CreditRefund.objects.filter(state=RefundState.APPLIED))
        if refund_id:
            refund_withdraw(refund_id=refund_id, actor=SYSTEM)

    def _pick_debtor(self, data) -> Unit | None:
        """An active unit that owes an open case, its own or one it took over (rule 5)."""
        owing = [
            unit
            for unit in Unit.objects.filter(status=UnitStatus.ACTIVE).order_by("pk")
            if ArrearsCase.objects.filter(owed_by_unit(unit.pk), state__in=OPEN_STATES).exists()
        ]
        return data.draw(st.sampled_from(owing)) if owing else None

    def _successor_of(self, data, unit: Unit) -> Party:
        """An insured unit the agency knows, other than `unit`, as a party of its event."""
        others = list(Unit.objects.exclude(pk=unit.pk).order_by("pk"))
        if not others:
            return Party(name="承继有限公司", uscc=sample_uscc(990_001))
        other = data.draw(st.sampled_from(others))
        return Party(name=other.name, uscc=other.uscc)

    def _succession(self, record, **kwargs):
        """Record a succession event; one refused (a case under write-off examination cannot be
        apportioned) changes nothing."""
        before = all_table_counts()
        try:
            record(
                document=EventDocument(occurred_on=self.today),
                actor=SYSTEM,
                today=self.today,
                **kwargs,
            )
        except ValidationError:
            assert all_table_counts() == before

    @rule(data=st.data())
    def unit_goes_bankrupt(self, data):
        self.step()
        unit = self._pick_debtor(data)
        if unit is not None:
            unit_record_bankruptcy(
                unit_id=unit.pk,
                court="上海市第三中级人民法院",
                court_case_no=f"(2026)沪03破{unit.pk}号",
                accepted_on=self.today,
                liquidation_group=Party(name=f"{unit.name}清算组", head="李律师"),
                actor=SYSTEM,
                today=self.today,
            )

    @rule(data=st.data())
    def unit_merges_into_another(self, data):
        # nested: the merging party may be a unit that took cases over before, or that will
        self.step()
        unit = self._pick_debtor(data)
        if unit is not None:
            self._succession(
                unit_record_merger, unit_id=unit.pk, merging_party=self._successor_of(data, unit)
            )

    @rule(data=st.data(), share=st.sampled_from(["1/2", "1/3", "0.99"]))
    def unit_splits_between_a_known_unit_and_another(self, data, share):
        self.step()
        unit = self._pick_debtor(data)
        if unit is None:
            return
        known = self._successor_of(data, unit)
        known = Party(name=known.name, uscc=known.uscc, share=share)
        rest = Party(
            name=f"{unit.name}分立新设公司",
            uscc=sample_uscc(900_000 + unit.pk),
            share=1 - Fraction(share),
        )
        self._succession(unit_record_split, unit_id=unit.pk, successors=[known, rest])

    @rule(data=st.data())
    def liquidation_group_applies_and_collection_accepts(self, data):
        self.step()
        case_id = self._pick(
            data,
            ArrearsCase.objects.filter(
                state__in=[*PAYABLE, CaseState.AGREEMENT], obligor__kind="liquidation_group"
            ),
        )
        if case_id:
            application = submitted_writeoff(ArrearsCase.objects.get(pk=case_id))
            writeoff_accept(application_id=application.pk, actor=SYSTEM)

    @rule(data=st.data(), withdraw=st.booleans())
    def collection_returns_and_the_group_withdraws(self, data, withdraw):
        self.step()
        case_id = self._pick(
            data,
            ArrearsCase.objects.filter(
                state__in=[*PAYABLE, CaseState.AGREEMENT], obligor__kind="liquidation_group"
            ),
        )
        if not case_id:
            return
        application = submitted_writeoff(ArrearsCase.objects.get(pk=case_id))
        writeoff_return(application_id=application.pk, reason="缺件", actor=SYSTEM)
        if withdraw:
            writeoff_withdraw(application_id=application.pk, actor=SYSTEM)

    @rule(data=st.data(), approve=st.booleans())
    def audit_decides(self, data, approve):
        self.step()
        application_id = self._pick(
            data, WriteOffApplication.objects.filter(state=WriteOffState.ACCEPTED)
        )
        if not application_id:
            return
        if not hasattr(self, "auditor"):
            self.auditor = department_user(AUDIT)
        if approve:
            writeoff_approve(application_id=application_id, actor=self.auditor, today=self.today)
        else:
            writeoff_reject(application_id=application_id, reason="尚有财产", actor=self.auditor)

    @rule()
    def the_core_system_takes_its_paid_months_batch(self):
        # issue 17: the batch looks only at the months touched since the previous one; right
        # after it, a look at every month finds nothing left to report
        self.step()
        paid_months_batch_make(actor=SYSTEM, today=self.today)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM ({_status_sql(_month_figures_sql())}) s "
                "WHERE s.status <> s.reported"
            )
            assert cursor.fetchone()[0] == 0

    # --- what must hold after every step ------------------------------------------------------

    @invariant()
    def an_arrival_fixes_the_fee_only_of_the_lines_its_money_reaches(self):
        # issue 13, rule 1
        assert_arrivals_fix_only_lines_they_pay(ArrearsCase.objects.values("pk"))

    @invariant()
    def each_lines_fee_is_the_pure_rule_on_its_own_payments(self):
        # issue 13, rule 1, on the lines whose fee only payments fixed: no agreement, no
        # bankruptcy, no reversal, no write-off or transfer on their case
        plain = (
            ArrearsLine.objects.exclude(case__agreements__signed_on__isnull=False)
            .exclude(case__bankruptcy_fee_stop__isnull=False)
            .exclude(
                case__ledger_entries__kind__in=[
                    LedgerKind.PAYMENT_REVERSED,
                    LedgerKind.CORRECTION,
                    LedgerKind.WRITTEN_OFF,
                    LedgerKind.TRANSFERRED,
                ]
            )
            .distinct()
        )
        for line in plain:
            expected = own_history(line)
            assert (line.fee_unpaid, line.fee_fixed_total) == (
                expected.fee_unpaid,
                expected.fee_fixed_total,
            ), line
            assert line_late_fee(line, as_of=self.today) == line_fee_due(
                expected, as_of=self.today, policy=late_fee_policy()
            ), line

    @invariant()
    def an_agreement_in_force_has_its_case_under_it(self):
        # issue 13, rule 3: a reversal never leaves a fulfilled agreement over an owing case
        in_force = Agreement.objects.filter(state="in_force").values_list("case__state", flat=True)
        assert set(in_force) <= {CaseState.AGREEMENT, CaseState.WRITEOFF, CaseState.SETTLED}
        orphans = ArrearsCase.objects.filter(state=CaseState.AGREEMENT).exclude(
            agreements__state="in_force"
        )
        assert not orphans.exists(), [  # the case's trail says how it got there
            list(
                AuditEntry.objects.filter(case=case)
                .order_by("pk")
                .values_list("subject", "transition", "from_state", "to_state", "reason")
            )
            for case in orphans
        ]

    @invariant()
    def cached_figures_are_the_ledgers(self):
        assert ledger_differences() == []

    @invariant()
    def what_a_case_owes_is_its_ledger_and_never_below_zero(self):
        for ledger, cached in owed_from_ledger().values():
            assert ledger == cached
            assert cached >= 0
        assert not ArrearsLine.objects.filter(
            Q(employer_unpaid__lt=0) | Q(employee_unpaid__lt=0) | Q(fee_unpaid__lt=0)
        ).exists()

    @invariant()
    def every_yuan_that_arrived_is_applied_or_credit_or_refunded_or_reversed(self):
        posted = Arrival.objects.filter(state=ArrivalState.POSTED)
        arrived = posted.aggregate(total=Sum("amount"))["total"] or 0
        # paid: by arrivals and by the credit offset (net of reversals of either)
        paid = ArrearsCase.objects.aggregate(total=Sum("paid_total"))["total"] or 0
        credit = CreditEntry.objects.aggregate(total=Sum("amount"))["total"] or 0
        refunded = -(
            CreditEntry.objects.filter(kind="refund").aggregate(total=Sum("amount"))["total"] or 0
        )
        # the credit entries net the refunds out: add them back to see the money refunded
        assert round(D(arrived), 2) == round(D(paid) + D(credit) + D(refunded), 2)
        kept = round(D(credit), 2)
        assert kept >= 0
        for unit_id in set(CreditEntry.objects.values_list("unit_id", flat=True)):
            assert unit_credit(unit_id) >= 0
        approved = (
            CreditRefund.objects.filter(
                state__in=[RefundState.APPROVED, RefundState.PAID]
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        assert round(D(approved), 2) == round(D(refunded), 2)
        for amount, applied, kept in posted.values_list(
            "amount", "applied_amount", "credit_amount"
        ):
            assert applied + kept == amount

    @invariant()
    def a_settled_case_owes_nothing_and_only_matched_arrivals_have_cases(self):
        assert (
            not ArrearsCase.objects.filter(state__in=[CaseState.SETTLED, CaseState.WRITTEN_OFF])
            .exclude(principal_unpaid=0, fee_unpaid=0)
            .exists()
        )
        assert not Arrival.objects.filter(state=ArrivalState.UNMATCHED, case__isnull=False).exists()
        assert not Payment.objects.filter(state=PaymentState.ARRIVED, arrival__isnull=True).exists()
        # a case is under examination exactly while its application is open
        assert set(
            ArrearsCase.objects.filter(state=CaseState.WRITEOFF).values_list("pk", flat=True)
        ) == set(
            WriteOffApplication.objects.exclude(
                state__in=[WriteOffState.REJECTED, WriteOffState.POSTED, WriteOffState.WITHDRAWN]
            ).values_list("case_id", flat=True)
        )


def test_the_ledger_invariant_holds_after_every_step_of_any_sequence():
    STEPS["count"] = 0
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=200,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    # thousands of steps in all (hypothesis ends some sequences early)
    print("steps:", STEPS["count"])
    assert STEPS["count"] >= 8000, STEPS["count"]
