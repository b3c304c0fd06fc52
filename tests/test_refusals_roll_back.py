"""A refusal shown on a page leaves nothing done: the views run inside the request's
transaction (ATOMIC_REQUESTS), so a view that catches a service's ValidationError and shows the
page again would otherwise commit whatever ran before the refusal. Every such call runs in its
own savepoint, rolled back by the refusal."""

import ast
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from replenish.models import Agreement, AgreementState, ArrearsCase, CaseState, LedgerEntry
from replenish.services.agreements import agreement_draft
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    ArrearsRowFactory,
    UserFactory,
    all_table_counts,
    import_rows,
)

ROOT = Path(__file__).resolve().parent.parent
VIEW_MODULES = [
    *sorted((ROOT / "replenish" / "admin").glob("*.py")),
    ROOT / "units" / "admin.py",
    ROOT / "notices" / "admin.py",
    ROOT / "notices" / "views.py",
    ROOT / "portal" / "views.py",
    ROOT / "api" / "views.py",
    ROOT / "replenish" / "dashboard.py",
]
# Functions that catch a ValidationError around something that writes nothing.
READS_ONLY = {"_preview", "search_by_id_number", "as_id_number"}


def _catches_validation_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(k, "id", getattr(k, "attr", None)) == "ValidationError" for k in kinds)


def _in_savepoint(node: ast.Try) -> bool:
    return (
        len(node.body) == 1
        and isinstance(node.body[0], ast.With)
        and ast.unparse(node.body[0].items[0].context_expr) == "transaction.atomic()"
    )


def unguarded_catches() -> list[str]:
    found = []
    for path in VIEW_MODULES:
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if function.name in READS_ONLY:
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Try)
                    and any(_catches_validation_error(h) for h in node.handlers if h.type)
                    and not _in_savepoint(node)
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} ({function.name})")
    return found


def test_every_view_that_catches_a_refusal_runs_the_services_in_a_savepoint():
    assert unguarded_catches() == []


@pytest.mark.django_db
def test_signing_with_a_scan_of_a_forbidden_type_leaves_the_agreement_a_draft(
    client, settings, tmp_path
):
    # given a draft agreement of a case that owes 1,000.00 (plus its late fee)
    settings.MEDIA_ROOT = tmp_path
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    officer = UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)
    client.force_login(officer)
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = ArrearsCase.objects.get()
    draft = agreement_draft(case_id=case.pk, installment_count=3, actor=officer)
    before = all_table_counts()
    ledger = list(LedgerEntry.objects.values_list("pk", flat=True))

    # when the clerk signs with a scan named .html
    response = client.post(
        reverse("admin:replenish_agreement_sign", args=[draft.pk]),
        {
            "signed_on": draft.drafted_on.isoformat(),
            "signatory": "张三",
            "scan": SimpleUploadedFile("signed.html", b"<html></html>", "text/html"),
            "_sign": "1",
        },
    )

    # then the page shows the refusal and nothing is signed, fixed or stored
    assert response.status_code == 200
    assert any("extension" in str(m) or "type" in str(m) for m in response.context["messages"])
    agreement = Agreement.objects.get()
    assert (agreement.state, agreement.signed_on, agreement.scan.name) == (
        AgreementState.DRAFT,
        None,
        "",
    )
    assert ArrearsCase.objects.get().state != CaseState.AGREEMENT
    assert list(LedgerEntry.objects.values_list("pk", flat=True)) == ledger
    assert all_table_counts() == before
    assert list(tmp_path.rglob("*")) == []
