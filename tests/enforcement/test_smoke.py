from datetime import date
from decimal import Decimal as D

import pytest

from enforcement.models import DossierState
from enforcement.services import (
    BankReply,
    dossier_demand_issue,
    dossier_document_deliver,
    dossier_inquiry_answer,
    dossier_inquiry_send,
    dossier_open,
    dossier_transfer_approve,
    dossier_transfer_propose,
)
from tests.enforcement.helpers import OPENED, SERVED, Staff, overdue_case, receipt

pytestmark = pytest.mark.django_db


def test_smoke():
    staff = Staff()
    case = overdue_case()
    dossier = dossier_open(case_id=case.pk, actor=staff.clerk, today=OPENED)
    demand = dossier_demand_issue(dossier_id=dossier.pk, actor=staff.clerk, today=OPENED)
    dossier_document_deliver(document_id=demand.pk, channel="post", delivered_on=SERVED, proof=receipt(), actor=staff.clerk, today=SERVED)
    dossier.refresh_from_db()
    assert dossier.demand_deadline == date(2026, 3, 26)
    dossier_inquiry_send(dossier_id=dossier.pk, banks=["工商银行"], actor=staff.clerk, today=SERVED)
    dossier_inquiry_answer(dossier_id=dossier.pk, replies=[BankReply("工商银行", "6222", "5000.00", SERVED, SERVED)], actor=staff.clerk, today=SERVED)
    dossier_transfer_propose(dossier_id=dossier.pk, actor=staff.clerk, today=SERVED)
    dossier_transfer_approve(dossier_id=dossier.pk, actor=staff.chief, today=SERVED)
    dossier.refresh_from_db()
    assert dossier.state == DossierState.TRANSFER_REQUESTED
    assert dossier.transfer_amount > D("1000")


def test_documents_render():
    from enforcement.documents import enforcement_document
    from enforcement.models import EnforcementDocument
    from notices.documents import html_render, pdf_render
    from django.utils import translation
    test_smoke()
    for doc in EnforcementDocument.objects.all():
        d = enforcement_document(doc, language="zh-hans")
        print(d.text())
        html_render(d)
        pdf_render(d)
