"""Admin screens of notices: the number, the amounts, and the ID numbers masked only."""

from datetime import date

import pytest
from django.urls import reverse

from notices.models import Notice
from notices.services import case_issue_notice
from replenish.models import ArrearsCase
from tests.factories import SYSTEM, ArrearsRowFactory, import_rows
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db
FULL_ID = sample_id_number(1, region_code="110101")
MASKED_ID = FULL_ID[:6] + "********" + FULL_ID[-4:]


@pytest.fixture
def notice():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    return case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 1)
    )


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_notice_list_shows_number_case_and_total(staff_client, notice):
    # when
    html = page(staff_client, reverse("admin:notices_notice_changelist"))

    # then
    assert '<th class="field-number">' in html
    assert "N310101-2026-000001" in html
    assert "AC2026-0000001" in html
    assert '<td class="field-total">1022.50</td>' in html


def test_the_notice_page_shows_the_notice_not_its_snapshot_with_masked_id_numbers_only(
    staff_client, notice
):
    # when
    html = page(staff_client, reverse("admin:notices_notice_change", args=[notice.pk]))
    document_url = reverse("notices:notice_html", args=[notice.pk])
    document = page(staff_client, document_url)

    # then the page shows the notice as the unit reads it, not the JSON it was made from
    assert "N310101-2026-000001" in html
    assert "AC2026-0000001" in html
    assert f'<iframe src="{document_url}"' in html
    assert '"lines":' not in html and "late_fee_rule" not in html
    assert "22.50" in document
    for shown in (html, document):
        assert FULL_ID not in shown
    assert MASKED_ID in document


def test_the_notice_page_is_read_only(staff_client, notice):
    # when a change is posted
    url = reverse("admin:notices_notice_change", args=[notice.pk])
    staff_client.post(url, {"total": "1.00", "number": "N1"})

    # then
    assert Notice.objects.values_list("number", "total").get() == (notice.number, notice.total)
