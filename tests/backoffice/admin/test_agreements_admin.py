"""Admin screens of agreements: the list, the page, the draft / sign / terminate forms with their
schedule preview, the printed agreement, and a split case's apportionment page."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from replenish.models import Agreement, AgreementState, ArrearsCase, CaseState
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.unit_events import EventDocument, unit_record_split
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    ArrearsRowFactory,
    PartyFactory,
    UserFactory,
    import_rows,
    table_counts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client, request):
    """These tests read the pages' messages in their English source text (the back office is
    in Chinese by default since the project's catalogue exists); the printed documents are
    Chinese in any case and are read as such."""
    if "printed" not in request.node.name and "claim_statement" not in request.node.name:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


SIGNED_ON = date(2026, 3, 1)


@pytest.fixture
def officer():
    return UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)


@pytest.fixture
def client_(client, officer):
    client.force_login(officer)
    return client


def cases(*unit_nos) -> list[ArrearsCase]:
    """Each unit owes 1,000.00 due 2026-01-15 and 333.33 due 2026-02-15."""
    rows = []
    for n in unit_nos:
        rows += [
            ArrearsRowFactory(unit_no=n, person_no=10 * n + 1),
            ArrearsRowFactory(
                unit_no=n,
                person_no=10 * n + 2,
                employer_amount="300.00",
                employee_amount="33.33",
                due_date="2026-02-15",
            ),
        ]
    import_rows(rows)
    return list(ArrearsCase.objects.order_by("pk"))


def signed(case, officer, count=3) -> Agreement:
    draft = agreement_draft(
        case_id=case.pk, installment_count=count, actor=officer, drafted_on=SIGNED_ON
    )
    return agreement_sign(agreement_id=draft.pk, actor=officer, signed_on=SIGNED_ON)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_agreement_list_shows_number_kind_counterparty_state_and_total(client_, officer):
    # given
    signed(cases(1)[0], officer)

    # when
    html = page(client_, reverse("admin:replenish_agreement_changelist"))

    # then
    assert "A310101-2026-000001" in html
    assert "单位1有限公司" in html
    assert '<td class="field-total">1358.16</td>' in html
    assert "in force" in html


def test_the_agreement_list_runs_the_same_queries_for_2_agreements_as_for_6(client_, officer):
    # given
    url = reverse("admin:replenish_agreement_changelist")
    for case in cases(1, 2):
        signed(case, officer)
    client_.get(url)
    with CaptureQueriesContext(connection) as two:
        page(client_, url)

    # when
    for case in ArrearsCase.objects.filter(pk__in=[c.pk for c in cases(3, 4, 5, 6)[2:]]):
        signed(case, officer)
    with CaptureQueriesContext(connection) as six:
        html = page(client_, url)

    # then
    assert html.count('class="field-number"') == 6
    assert len(six) == len(two)


def test_the_agreement_page_shows_the_schedule_with_what_is_paid_and_the_actions(client_, officer):
    # given
    agreement = signed(cases(1)[0], officer)

    # when
    html = page(client_, reverse("admin:replenish_agreement_change", args=[agreement.pk]))

    # then
    assert "452.72" in html
    assert html.count('<td class="field-paid_status">') == 3
    assert ">unpaid<" in html
    assert reverse("admin:replenish_agreement_terminate", args=[agreement.pk]) in html
    assert reverse("admin:replenish_agreement_document", args=[agreement.pk]) in html
    assert reverse("admin:replenish_agreement_sign", args=[agreement.pk]) not in html


def test_the_draft_page_previews_the_schedule_and_creates_the_draft(client_):
    # given
    (case,) = cases(1)
    url = reverse("admin:replenish_agreement_draft", args=[case.pk])

    # when the clerk previews 4 installments, then creates the draft
    preview = client_.post(url, {"installment_count": "4", "_preview": "1"})
    created = client_.post(url, {"installment_count": "4", "note": "资金困难", "_draft": "1"})

    # then the preview shows the schedule if signed today (no draft yet), the second creates it
    assert preview.status_code == 200
    schedule = preview.context["preview"]
    assert len(schedule.installments) == 4
    assert f'<strong class="preview-total">{schedule.total}</strong>' in preview.content.decode()
    agreement = Agreement.objects.get()
    assert created.status_code == 302
    assert created.url == reverse("admin:replenish_agreement_change", args=[agreement.pk])
    assert (agreement.state, agreement.installment_count, agreement.note) == (
        AgreementState.DRAFT,
        4,
        "资金困难",
    )


def test_a_draft_longer_than_the_allowed_term_is_refused_with_a_message(client_):
    # given
    (case,) = cases(1)
    before = table_counts()

    # when
    response = client_.post(
        reverse("admin:replenish_agreement_draft", args=[case.pk]),
        {"installment_count": "13", "_draft": "1"},
    )

    # then
    assert response.status_code == 200
    assert messages_of(response) == [
        "Number of installments: 13 is not allowed; an agreement runs for 1 to 12 monthly "
        "installments."
    ]
    assert table_counts() == before


def test_the_sign_page_previews_as_of_the_date_then_signs_and_keeps_the_scan(
    client_, officer, settings, tmp_path
):
    # given a draft
    settings.MEDIA_ROOT = tmp_path
    (case,) = cases(1)
    draft = agreement_draft(
        case_id=case.pk, installment_count=3, actor=officer, drafted_on=SIGNED_ON
    )
    url = reverse("admin:replenish_agreement_sign", args=[draft.pk])

    # when the clerk previews for 2026-03-01, then signs with the scan
    preview = client_.post(url, {"signed_on": "2026-03-01", "_preview": "1"})
    signing = client_.post(
        url,
        {
            "signed_on": "2026-03-01",
            "signatory": "张三",
            "scan": SimpleUploadedFile("signed.pdf", b"%PDF-1.4", "application/pdf"),
            "_sign": "1",
        },
    )

    # then
    html = preview.content.decode()
    assert '<strong class="preview-total">1358.16</strong>' in html
    assert html.count('<tr class="installment">') == 3
    assert signing.status_code == 302
    agreement = Agreement.objects.get()
    assert (agreement.state, agreement.signatory, agreement.total) == (
        AgreementState.IN_FORCE,
        "张三",
        Decimal("1358.16"),
    )
    assert re.fullmatch(r"agreements/[0-9a-f]{32}\.pdf", agreement.scan.name)
    assert ArrearsCase.objects.get().state == CaseState.AGREEMENT


def test_signing_again_through_the_page_is_refused_with_a_message(client_, officer):
    # given
    agreement = signed(cases(1)[0], officer)
    before = table_counts()

    # when
    response = client_.post(
        reverse("admin:replenish_agreement_sign", args=[agreement.pk]),
        {"signed_on": "2026-03-01", "_sign": "1"},
    )

    # then
    assert messages_of(response) == [
        f"Agreement {agreement.number} is in force: only a draft can be signed, once."
    ]
    assert table_counts() == before


def test_the_terminate_page_ends_the_agreement(client_, officer):
    # given
    agreement = signed(cases(1)[0], officer)

    # when
    response = client_.post(
        reverse("admin:replenish_agreement_terminate", args=[agreement.pk]),
        {"on": "2026-04-10", "reason": "单位申请解除"},
    )

    # then
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert (agreement.state, agreement.end_reason) == (AgreementState.TERMINATED, "单位申请解除")
    assert ArrearsCase.objects.get().state == CaseState.OVERDUE


def test_the_printed_agreement_shows_the_parties_amounts_and_schedule(client_, officer):
    # given
    agreement = signed(cases(1)[0], officer)

    # when
    html = page(client_, reverse("admin:replenish_agreement_document", args=[agreement.pk]))

    # then
    assert "社会保险费补缴协议" in html
    assert "协议编号：A310101-2026-000001" in html
    assert "单位1有限公司（参保单位）" in html
    assert "补缴总额 <strong>1358.16</strong> 元（大写：人民币壹仟叁佰伍拾捌元壹角陆分）" in html
    assert "<td>2025-12</td>" in html
    assert "第 3 期" in html and "2026年6月1日" in html
    assert "万分之五" in html
    assert "草案" not in html


def test_a_draft_prints_as_a_draft(client_, officer):
    # given
    (case,) = cases(1)
    draft = agreement_draft(case_id=case.pk, installment_count=3, actor=officer)

    # when
    html = page(client_, reverse("admin:replenish_agreement_document", args=[draft.pk]))

    # then
    assert "草案（未签订）" in html


def test_the_case_page_offers_a_draft_and_shows_its_agreements(client_, officer):
    # given
    first, second = cases(1, 2)
    agreement = signed(first, officer)

    # when
    under_agreement = page(client_, reverse("admin:replenish_arrearscase_change", args=[first.pk]))
    registered = page(client_, reverse("admin:replenish_arrearscase_change", args=[second.pk]))

    # then
    assert agreement.number in under_agreement
    assert reverse("admin:replenish_agreement_draft", args=[first.pk]) not in under_agreement
    assert reverse("admin:replenish_agreement_draft", args=[second.pk]) in registered


def test_a_split_units_late_case_is_apportioned_from_its_page(client_, officer):
    # given a split unit and a case of it opened afterwards
    (case,) = cases(1)
    unit_record_split(
        unit_id=case.unit_id,
        successors=[PartyFactory(share="1/2"), PartyFactory(share="1/2")],
        document=EventDocument(occurred_on=SIGNED_ON),
        actor=officer,
        today=SIGNED_ON,
    )
    import_rows([ArrearsRowFactory(unit_no=1, person_no=99, period="2026-01")])
    late = ArrearsCase.objects.get(state=CaseState.REGISTERED, predecessor__isnull=True)
    url = reverse("admin:replenish_arrearscase_split", args=[late.pk])

    # when
    case_page = page(client_, reverse("admin:replenish_arrearscase_change", args=[late.pk]))
    confirm = page(client_, url)
    response = client_.post(url, {"_split": "1"})

    # then
    assert url in case_page
    assert "1/2" in confirm
    assert response.status_code == 302
    assert ArrearsCase.objects.get(pk=late.pk).state == CaseState.TRANSFERRED
    assert ArrearsCase.objects.filter(predecessor=late).count() == 2


def test_staff_without_the_permission_see_no_actions_and_cannot_open_them(client):
    # given a clerk who may only look
    (case,) = cases(1)
    clerk = UserFactory(
        username="clerk", permissions=["replenish.view_arrearscase", "replenish.view_agreement"]
    )
    client.force_login(clerk)

    # then
    html = page(client, reverse("admin:replenish_arrearscase_change", args=[case.pk]))
    assert reverse("admin:replenish_agreement_draft", args=[case.pk]) not in html
    assert client.get(reverse("admin:replenish_agreement_draft", args=[case.pk])).status_code == 403
