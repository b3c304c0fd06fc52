"""Admin screens of cases, units and insured persons: what they show, and what they never show."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notices.services import case_issue_notice
from replenish.departments import COLLECTION
from replenish.models import ArrearsCase
from replenish.selectors import case_owed
from tests.factories import (
    SYSTEM,
    ArrearsCaseFactory,
    ArrearsRowFactory,
    department_user,
    import_rows,
)
from units.models import InsuredPerson, Unit
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db
FULL_ID = sample_id_number(1, region_code="110101")
MASKED_ID = FULL_ID[:6] + "********" + FULL_ID[-4:]


@pytest.fixture
def case():
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1, employer_amount="812.34")])
    case = ArrearsCase.objects.get()
    case_issue_notice(case_id=case.pk, actor=SYSTEM, issued_on=date(2026, 3, 2))
    return case


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_case_list_shows_the_case_and_its_unit(staff_client, case):
    # when
    html = page(staff_client, reverse("admin:replenish_arrearscase_changelist"))

    # then
    assert "AC2026-0000001" in html
    assert "单位1有限公司" in html
    assert '<td class="field-principal_shown">1,012.34</td>' in html
    assert FULL_ID not in html


def test_the_case_list_shows_what_the_case_owes_today_by_the_money_rules(staff_client, case):
    # given what the money rules say the case owes today, and since when
    today = timezone.localdate()
    owed = case_owed(case.pk, as_of=today)
    days = (today - case.lines.get().due_date).days

    # when
    html = page(staff_client, reverse("admin:replenish_arrearscase_changelist"))

    # then the list shows it, right-aligned with thousands separators
    assert f'<td class="field-owed_today">{owed.total:,.2f}</td>' in html
    assert f'<td class="field-days_overdue">{days}</td>' in html
    assert owed.late_fee > 0


@pytest.fixture
def collection_client(client):
    """A collection clerk: sees cases and persons, but not full ID numbers."""
    client.force_login(department_user(COLLECTION))
    return client


def test_the_case_page_shows_its_lines_with_masked_id_numbers_only(collection_client, case):
    # when
    html = page(collection_client, reverse("admin:replenish_arrearscase_change", args=[case.pk]))

    # then the case, its line, its ledger entry and its audit trail are there; the ID number only
    # masked
    assert "AC2026-0000001" in html
    assert MASKED_ID in html
    assert "职工1" in html
    assert "812.34" in html
    assert "N310101-2026-000001" in html  # the audit row of the case's notice
    assert FULL_ID not in html


def test_the_case_page_is_read_only(staff_client, case):
    # when a change is posted
    url = reverse("admin:replenish_arrearscase_change", args=[case.pk])
    staff_client.post(url, {"principal_unpaid": "0.00", "case_no": "X"})

    # then nothing changed
    assert ArrearsCase.objects.values_list("case_no", "principal_unpaid").get() == (
        "AC2026-0000001",
        case.principal_unpaid,
    )


def test_the_case_list_runs_the_same_queries_for_5_cases_as_for_50(staff_client):
    # given
    url = reverse("admin:replenish_arrearscase_changelist")
    ArrearsCaseFactory.create_batch(5)
    staff_client.get(url)  # warm up the session and the content types
    with CaptureQueriesContext(connection) as five:
        page(staff_client, url)

    # when
    ArrearsCaseFactory.create_batch(45)
    with CaptureQueriesContext(connection) as fifty:
        html = page(staff_client, url)

    # then
    assert html.count('class="field-case_no"') == 50
    assert len(fifty) == len(five)


def test_the_unit_list_and_page_show_the_unit(staff_client, case):
    # given
    unit = Unit.objects.get()

    # when
    listing = page(staff_client, reverse("admin:units_unit_changelist"))
    detail = page(staff_client, reverse("admin:units_unit_change", args=[unit.pk]))

    # then
    for html in (listing, detail):
        assert unit.uscc in html
        assert "单位1有限公司" in html
        assert FULL_ID not in html


def test_the_person_list_and_page_show_the_masked_id_number_only(collection_client, case):
    # given
    person = InsuredPerson.objects.get()

    # when
    listing = page(collection_client, reverse("admin:units_insuredperson_changelist"))
    detail = page(collection_client, reverse("admin:units_insuredperson_change", args=[person.pk]))

    # then
    for html in (listing, detail):
        assert MASKED_ID in html
        assert "职工1" in html
        assert FULL_ID not in html


def test_a_user_with_the_permission_sees_full_id_numbers(client, case):
    # given a collection clerk also granted replenish.view_full_id_number
    user = department_user(COLLECTION)
    user.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    client.force_login(user)
    person = InsuredPerson.objects.get()

    # when
    case_page = page(client, reverse("admin:replenish_arrearscase_change", args=[case.pk]))
    listing = page(client, reverse("admin:units_insuredperson_changelist"))
    detail = page(client, reverse("admin:units_insuredperson_change", args=[person.pk]))

    # then (object names elsewhere on the page stay masked)
    for html in (case_page, listing, detail):
        assert FULL_ID in html
