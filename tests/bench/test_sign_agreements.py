"""`bench.region.sign_agreements` (set-based SQL) writes exactly the rows that
`agreement_draft` + `agreement_sign` write for the same cases on the same dates: the same
database state is built twice, once by each, and compared row by row (ids aside)."""

import json

import pytest
from django.db import transaction

from bench import region
from replenish.models import (
    Agreement,
    ArrearsCase,
    ArrearsLine,
    AuditEntry,
    Installment,
    LedgerEntry,
    NumberSequence,
)
from replenish.services.agreements import agreement_draft, agreement_sign
from tests.bench.test_region import run_here
from units.models import Counterparty

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def ledger_rows(*fields):
    return LedgerEntry.objects.values_list(*fields)


def audit_rows(*fields):
    return AuditEntry.objects.values_list(*fields)


def snapshot() -> dict:
    numbers = dict(Agreement.objects.values_list("pk", "number"))

    def agreement(ref):
        return numbers.get(int(ref), ref)

    return {
        "agreements": sorted(
            Agreement.objects.values_list(
                "number",
                "case_id",
                "kind",
                "counterparty__unit_id",
                "state",
                "installment_count",
                "drafted_on",
                "note",
                "signed_on",
                "signatory",
                "principal",
                "late_fee",
                "total",
                "paid_before",
                "periods",
                "ended_on",
                "breached_due_on",
                "end_reason",
                "scan",
            )
        ),
        "installments": sorted(
            Installment.objects.values_list(
                "agreement__number", "seq", "due_on", "amount", "cumulative"
            )
        ),
        "ledger": sorted(
            (
                case,
                line,
                kind,
                employer,
                employee,
                fee,
                on,
                label,
                f"agreement:{agreement(source.split(':')[1])}"
                if source.startswith("agreement:")
                else source,
                reason,
                code,
                json.dumps(args, sort_keys=True, ensure_ascii=False),
            )
            for (
                case,
                line,
                kind,
                employer,
                employee,
                fee,
                on,
                label,
                source,
                reason,
                code,
                args,
            ) in ledger_rows(
                "case_id",
                "line_id",
                "kind",
                "employer",
                "employee",
                "late_fee",
                "effective_on",
                "actor_label",
                "source",
                "reason",
                "reason_code",
                "reason_args",
            )
        ),
        "lines": sorted(
            ArrearsLine.objects.values_list(
                "pk",
                "employer_unpaid",
                "employee_unpaid",
                "fee_unpaid",
                "fee_fixed_total",
                "fee_accrues_after",
                "fee_stops_on",
            )
        ),
        "cases": sorted(
            ArrearsCase.objects.values_list(
                "pk",
                "state",
                "principal_assessed",
                "principal_unpaid",
                "fee_unpaid",
                "paid_total",
                "written_off_total",
                "transferred_total",
            )
        ),
        "audit": sorted(
            (
                case,
                subject,
                agreement(subject_id) if subject == "agreement" else subject_id,
                transition,
                source,
                target,
                label,
                reason,
                code,
                json.dumps(args, sort_keys=True, ensure_ascii=False),
            )
            for (
                case,
                subject,
                subject_id,
                transition,
                source,
                target,
                label,
                reason,
                code,
                args,
            ) in audit_rows(
                "case_id",
                "subject",
                "subject_id",
                "transition",
                "from_state",
                "to_state",
                "actor_label",
                "reason",
                "reason_code",
                "reason_args",
            )
        ),
        "sequences": sorted(NumberSequence.objects.values_list("scope", "last_value")),
        "counterparties": sorted(
            Counterparty.objects.values_list("kind", "unit_id", "name", "uscc")
        ),
    }


def test_the_sql_signs_as_the_services_do(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    scale = region.scale_of("tiny")
    wave1, wave2 = region.arrears_files(scale, tmp_path)
    run_here(["import_arrears", str(wave1)])
    run_here(["issue_notices", "--date", str(region.WAVE1_NOTICES)])
    run_here(["import_arrears", str(wave2)])
    run_here(["issue_notices", "--date", str(region.WAVE2_NOTICES)])

    before = transaction.savepoint()
    made = region.sign_agreements(scale)
    assert made.pop("_terminate")
    by_sql = snapshot()
    signed = sorted(Agreement.objects.values_list("case_id", "signed_on"))
    transaction.savepoint_rollback(before)

    assert len(signed) == scale.agreements + 3 * scale.few
    actor = region._actor()
    for case_id, signed_on in signed:
        draft = agreement_draft(
            case_id=case_id,
            installment_count=region.INSTALLMENTS,
            actor=actor,
            drafted_on=signed_on,
        )
        agreement_sign(
            agreement_id=draft.pk, actor=actor, signed_on=signed_on, signatory="法定代表人"
        )
    by_services = snapshot()
    assert len(by_sql["installments"]) == region.INSTALLMENTS * len(signed)
    assert sum(1 for row in by_sql["ledger"] if row[2] == "late_fee_fixed") > len(signed)
    assert sum(1 for row in by_sql["audit"] if row[3] == "agreement_take_effect") == len(signed)
    for part in by_sql:
        assert by_sql[part] == by_services[part], part
