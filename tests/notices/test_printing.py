"""Bulk printing for delivery by post: selected notices, or every issued and undelivered one, as
one PDF, each notice followed by its delivery receipt with the unit's postal address."""

import io
from datetime import date

import pypdf
import pytest

from notices.models import Notice
from notices.printing import notices_print, undelivered_notices
from notices.services import case_issue_notice
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    UnitContactFactory,
    UserFactory,
    case_of,
    deliver,
    import_rows,
    table_counts,
)
from tests.screenshots import pdf_page_png
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db
URL = "/admin/notices/notice/print-undelivered/"


@pytest.fixture
def notices():
    """Units 1-3 notified on 1 March 2026; unit 1 has a postal address; unit 3's notice is
    delivered."""
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2, 3)])
    issued = [
        case_issue_notice(
            case_id=case_of(sample_uscc(n)).pk, actor=SYSTEM, issued_on=date(2026, 3, 1)
        )
        for n in (1, 2, 3)
    ]
    UnitContactFactory(
        unit=issued[0].case.unit, postal_address="上海市黄浦区中山东一路1号 财务部 王芳"
    )
    issued[2] = deliver(issued[2], date(2026, 3, 3))
    return issued


def pages(pdf: bytes) -> list[str]:
    return [p.extract_text().replace("\n", "") for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_every_undelivered_notice_is_printed_each_followed_by_its_receipt(client, notices):
    # given a clerk who may see notices
    client.force_login(UserFactory(permissions=["notices.view_notice"]))

    # when it prints every undelivered notice
    response = client.get(URL)

    # then one PDF holds the two issued notices, each followed by its own receipt
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="undelivered-notices.pdf"'
    text = pages(response.content)
    pdf_page_png(response.content, "document-bulk-print-receipt", page=3)
    titles = [
        (
            "receipt" if "送达回证" in page else "notice",
            next(n.number for n in notices if n.number in page),
        )
        for page in text
        if "社会保险费补缴通知单" in page[:40] or "送达回证" in page
    ]
    first, second = notices[0].number, notices[1].number
    assert titles == [
        ("notice", first),
        ("receipt", first),
        ("notice", second),
        ("receipt", second),
    ]
    # the delivered notice is not printed, and the receipt carries the postal address
    assert notices[2].number not in "".join(text)
    receipt = next(p for p in text if "送达回证" in p and first in p)
    assert "上海市黄浦区中山东一路1号" in receipt


def test_the_selected_notices_are_printed_from_the_list(client, notices):
    client.force_login(UserFactory(permissions=["notices.view_notice"]))
    response = client.post(
        "/admin/notices/notice/",
        {"action": "print_notices", "_selected_action": [notices[1].pk, notices[2].pk]},
    )
    text = "".join(pages(response.content))
    assert notices[1].number in text and notices[2].number in text
    assert notices[0].number not in text


def test_printing_takes_the_same_queries_for_one_notice_or_many(notices, django_assert_num_queries):
    with django_assert_num_queries(3):
        notices_print(undelivered_notices())
    with django_assert_num_queries(3):
        notices_print(Notice.objects.filter(pk=notices[0].pk))


def test_nothing_to_print_or_too_much_says_so_and_changes_nothing(client, notices, monkeypatch):
    # given a clerk, and a limit of one notice per PDF
    client.force_login(UserFactory(permissions=["notices.view_notice"]))
    monkeypatch.setattr("notices.printing.BULK_PRINT_MAX", 1)
    before = table_counts()

    # when it prints the two undelivered notices
    response = client.get(URL, follow=True)

    # then it is told how many at most, and nothing changed
    assert "每次最多打印 1 份" in response.content.decode()
    assert table_counts() == before


def test_without_the_permission_nothing_is_printed(client, notices):
    client.force_login(UserFactory())
    assert client.get(URL).status_code == 403
