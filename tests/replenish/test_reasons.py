"""Why a state changed or money moved reads in the reader's language wherever it is stored: the
trail, the ledger, the credit, the access log. A service passes a `Reason` (a code and its
arguments, replenish/reasons.py), never a sentence; a reason a person typed stays as typed."""

import ast
import sys
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from replenish.departments import FINANCE
from replenish.models import (
    Arrival,
    AuditEntry,
    CreditEntry,
    CreditKind,
    LedgerEntry,
    LedgerKind,
    PersonRecordAccess,
)
from replenish.reasons import Reason, reason_split
from replenish.services.arrival import arrival_reverse, arrivals_post
from replenish.services.records import person_records_open
from tests.english_words import english_words, visible_text
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    case_of,
    department_user,
    import_arrivals,
    import_rows,
)
from units.models import InsuredPerson
from units.samples import sample_uscc

ROOT = Path(__file__).resolve().parents[2]
# The product's code that writes reasons: every layer but the screens' forms and the models'
# field labels, which name a reason field rather than write one.
WRITERS = ("replenish", "notices", "enforcement", "units", "api", "portal", "operations")
NAMES = {"reason", "why"}


# The parts of an expression that make up its value: what it chooses between or joins.
_PARTS = {
    ast.BoolOp: ("values",),
    ast.IfExp: ("body", "orelse"),
    ast.BinOp: ("left", "right"),
    ast.List: ("elts",),
    ast.Tuple: ("elts",),
    ast.Set: ("elts",),
    ast.Dict: ("values",),
    ast.ListComp: ("elt",),
    ast.SetComp: ("elt",),
    ast.GeneratorExp: ("elt",),
    ast.DictComp: ("value",),
    ast.Lambda: ("body",),
}


def _sentences(node: ast.AST):
    """The string literals and f-strings an expression is made of: itself, or the parts it
    chooses between or joins (`a or "…"`, `"…" + b`, `[f"…" for …]`, `lambda o: f"…"`). What a
    call makes of its arguments (`Reason("code", …)`, `data.get("reason")`) is not a sentence."""
    if isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip()
    ):
        yield node
    for name in _PARTS.get(type(node), ()):
        part = getattr(node, name)
        for child in part if isinstance(part, list) else [part]:
            yield from _sentences(child)


def sentences_written_as_reasons() -> list[str]:
    """Each place the product's code gives a reason (a `reason=`/`why=` argument, a `reason` or
    `why` variable) made of a sentence it wrote itself."""
    found = []
    for layer in WRITERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "models" in parts or path.name == "models.py":
                continue
            if "management" in parts and path.name == "demo.py":
                continue  # the demo's reasons stand for what a clerk typed (in Chinese)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.keyword) and node.arg in NAMES:
                    value = node.value
                elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if not any(isinstance(t, ast.Name) and t.id in NAMES for t in targets):
                        continue
                    value = node.value
                else:
                    continue
                if value is None:  # an annotation alone (`reason: str`)
                    continue
                found += [
                    (str(path.relative_to(ROOT)), s.lineno, ast.unparse(s))
                    for s in _sentences(value)
                ]
    return [f"{path}:{line}: {sentence}" for path, line, sentence in sorted(found)]


def test_no_service_writes_a_reason_as_a_sentence():
    # a sentence written in the code would be stored in English and shown so to a Chinese clerk
    assert sentences_written_as_reasons() == []


def test_the_scan_finds_a_reason_written_as_a_sentence(tmp_path, monkeypatch):
    # given a module that passes reasons as sentences, in each of the shapes the scan knows
    layer = tmp_path / "replenish" / "services"
    layer.mkdir(parents=True)
    (layer / "bad.py").write_text(
        "def f(case, note, data):\n"
        '    transition_apply(case, "settle", reason=f"settled {case}")\n'
        '    why = "paid"\n'
        '    why += "; and more"\n'
        '    audit_record(case, "x", reason=note.strip() or "nothing typed")\n'
        '    audit_record(case, "x", reason=Reason("arrival", arrival=f"{case}"))\n'
        '    audit_record(case, "x", reason=data["reason"])\n'
        '    why = {o: f"offset {o}" for o in case}\n'
        '    offsets_undo(case, reason=lambda o: "posted before it")\n'
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "WRITERS", ("replenish",))

    # then each sentence is found, the coded reason and the typed one are not
    assert sentences_written_as_reasons() == [
        "replenish/services/bad.py:2: f'settled {case}'",
        "replenish/services/bad.py:3: 'paid'",
        "replenish/services/bad.py:4: '; and more'",
        "replenish/services/bad.py:5: 'nothing typed'",
        "replenish/services/bad.py:8: f'offset {o}'",
        "replenish/services/bad.py:9: 'posted before it'",
    ]


def test_a_reason_inside_a_reason_is_stored_as_codes_and_read_in_chinese():
    # given the fee fixed on principal a reversal restored: a reason about another reason
    reason = Reason(
        "late_fee_on_restored_principal",
        since=date(2026, 3, 1),
        to=date(2026, 3, 10),
        why=Reason("arrival_reversed_because", arrival="A1", why="银行退回"),
    )

    # when it is stored
    text, code, args = reason_split(reason)

    # then the row keeps the codes and the English sentence, and a Chinese reader reads Chinese
    assert (code, args) == (
        "late_fee_on_restored_principal",
        {
            "since": "2026-03-01",
            "to": "2026-03-10",
            "why": {
                "code": "arrival_reversed_because",
                "args": {"arrival": "A1", "why": "银行退回"},
            },
        },
    )
    assert text == "late fee 2026-03-01..2026-03-10 on arrival A1 reversed: 银行退回"
    with translation.override("zh-hans"):
        assert str(reason) == "滞纳金 2026-03-01 至 2026-03-10，因到账 A1 已冲正：银行退回"


def _chinese_words_only(text: str) -> list[str]:
    # the test's own names: its system actor and its users' login names
    return english_words(text, allowed=frozenset({"tests", "cashier", "reader"}))


@pytest.mark.django_db
def test_the_ledger_and_the_credit_of_a_reversed_arrival_read_in_chinese(client):
    # given unit 1's line of 1,000.00 paid by 500.00 on 2026-03-01 and 600.00 on 2026-03-11 (the
    # second leaves credit), and the first reversed on 2026-03-20 as never real
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    case = case_of(sample_uscc(1))
    for ref, amount, on in (("A1", "500.00", "2026-03-01"), ("A2", "600.00", "2026-03-11")):
        import_arrivals(
            [ArrivalRowFactory(arrival_ref=ref, amount=amount, arrived_on=on, unit_no=1)],
            today=date(2026, 3, 31),
        )
        arrivals_post(actor=SYSTEM)
    cashier = department_user(FINANCE, "cashier")
    arrival_reverse(
        arrival_id=Arrival.objects.get(arrival_ref="A1").pk,
        reason="银行退回",
        actor=cashier,
        on=date(2026, 3, 20),
    )

    # then every entry's reason is stored as a code (or as typed) and reads in Chinese
    entries = [
        *LedgerEntry.objects.filter(case=case).exclude(kind=LedgerKind.ASSESSED),
        *CreditEntry.objects.filter(case=case),
        *AuditEntry.objects.filter(case=case),
    ]
    assert {type(e).__name__ for e in entries} == {"LedgerEntry", "CreditEntry", "AuditEntry"}
    assert all(e.reason_code or e.reason == "银行退回" for e in entries), [
        (type(e).__name__, e.reason) for e in entries if not e.reason_code
    ]
    with translation.override("zh-hans"):
        shown = {(type(e).__name__, e.reason_shown) for e in entries}
    assert [s for s in shown if _chinese_words_only(s[1])] == []
    assert ("LedgerEntry", "到账 A1 已冲正：银行退回") in shown
    assert ("CreditEntry", "到账 A2 超出案件 AC2026-0000001 的欠费") in shown

    # and the case page (its ledger, its trail) and the credit's page show them so
    client.force_login(department_user(FINANCE, "reader"))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    case_page = client.get(reverse("admin:replenish_arrearscase_change", args=[case.pk]))
    assert case_page.status_code == 200
    text = visible_text(case_page.content.decode())
    assert "到账 A1 已冲正：银行退回" in text
    assert _chinese_words_only(text) == []
    credit = CreditEntry.objects.get(case=case, kind=CreditKind.OVERPAYMENT)
    credit_page = client.get(reverse("admin:replenish_creditentry_change", args=[credit.pk]))
    assert credit_page.status_code == 200
    text = visible_text(credit_page.content.decode())
    assert "到账 A2 超出案件 AC2026-0000001 的欠费" in text
    assert _chinese_words_only(text) == []
    assert credit.amount > D("0")


@pytest.mark.django_db
def test_an_inquiry_whose_name_does_not_match_is_logged_in_chinese():
    # given a person of unit 1 and a front end that authenticated someone of another name
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    person = InsuredPerson.objects.get()
    clerk = department_user(FINANCE, "records")
    clerk.user_permissions.add(Permission.objects.get(codename="view_person_records"))

    # when its months are opened with a reason typed, and the name does not match
    shown, months = person_records_open(
        id_number=person.id_number,
        reason="核对欠费",
        actor=clerk,
        expected_name=person.name + "甲",
    )

    # then nothing is shown, and the access log says why in Chinese, with the typed reason
    assert (shown, months) == (None, [])
    access = PersonRecordAccess.objects.get()
    with translation.override("zh-hans"):
        assert access.reason_shown == "核对欠费（姓名不符：未显示任何信息）"
