"""The back office's employees' records: a person's months opened by exact ID number (by POST,
with a reason, logged), the paid person-month batches, and the access log audit reads."""

from datetime import date

import pytest
from django.urls import reverse

from replenish.departments import AUDIT, COLLECTION, FINANCE
from replenish.models import PaidMonthBatch, PersonRecordAccess
from replenish.services.arrival import arrivals_post
from replenish.services.records import paid_months_batch_make, paid_months_csv
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    UserFactory,
    department_user,
    import_arrivals,
    import_rows,
)
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db
PERSON = sample_id_number(1, region_code="110101")
MASKED = PERSON[:6] + "********" + PERSON[-4:]
PAGE = "/admin/replenish/personrecordaccess/person/"


@pytest.fixture
def restored():
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, period="2025-11"),
            ArrearsRowFactory(unit_no=1, person_no=1, period="2025-12"),
        ]
    )
    import_arrivals(
        [ArrivalRowFactory(arrival_ref="A1", amount="1022.50", arrived_on="2026-03-01")],
        today=date(2026, 3, 31),
    )
    arrivals_post(actor=SYSTEM)


def logged_in(client, user):
    client.force_login(user)
    return client


def test_a_clerk_opens_a_persons_months_by_post_and_the_opening_is_logged(client, restored):
    clerk = logged_in(client, department_user(COLLECTION, "clerk"))

    page = clerk.post(PAGE, {"id_number": PERSON, "reason": "职工到柜台查询"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "职工1" in html and MASKED in html and PERSON not in html
    assert "2025-11" in html and "2025-12" in html
    assert "已缴" in html or "paid" in html
    assert "单位1有限公司" in html
    access = PersonRecordAccess.objects.get()
    assert (access.actor_label, access.reason) == ("clerk", "职工到柜台查询")


def test_the_full_number_shows_only_with_its_permission(client, restored):
    user = department_user(COLLECTION, "clerk")
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    page = logged_in(client, user).post(PAGE, {"id_number": PERSON, "reason": "核对"})
    assert PERSON in page.content.decode()


def test_without_a_reason_nothing_is_opened_or_logged(client, restored):
    page = logged_in(client, department_user(COLLECTION, "clerk")).post(
        PAGE, {"id_number": PERSON, "reason": ""}
    )
    assert "2025-11" not in page.content.decode()
    assert PersonRecordAccess.objects.count() == 0


def test_the_page_is_a_form_on_get_and_refused_to_audit(client, restored):
    assert logged_in(client, department_user(COLLECTION, "c")).get(PAGE).status_code == 200
    client.logout()
    assert logged_in(client, department_user(AUDIT, "a")).get(PAGE).status_code == 403


def test_audit_reads_the_access_log(client, restored):
    logged_in(client, department_user(COLLECTION, "clerk")).post(
        PAGE, {"id_number": PERSON, "reason": "职工来电"}
    )
    client.logout()
    log = logged_in(client, department_user(AUDIT, "auditor")).get(
        reverse("admin:replenish_personrecordaccess_changelist")
    )
    html = log.content.decode()
    assert log.status_code == 200
    assert "职工来电" in html and MASKED in html and PERSON not in html


def test_the_access_log_names_its_channel_as_the_way_the_records_were_asked_for(client, restored):
    # given an opening of a person's records in the back office
    logged_in(client, department_user(COLLECTION, "clerk")).post(
        PAGE, {"id_number": PERSON, "reason": "职工来电"}
    )
    client.logout()

    # when audit reads the log in Chinese
    log = logged_in(client, department_user(AUDIT, "auditor")).get(
        reverse("admin:replenish_personrecordaccess_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    # then the column is the channel of the inquiry, not a payment channel
    html = log.content.decode()
    assert "查询渠道" in html and "业务后台" in html
    assert "缴费渠道" not in html


def test_finance_makes_lists_and_downloads_batches(client, restored):
    finance = logged_in(client, department_user(FINANCE, "cashier"))

    finance.post(reverse("admin:replenish_paidmonthbatch_make"))
    batch = PaidMonthBatch.objects.get()
    assert batch.rows == 1
    listing = finance.get(reverse("admin:replenish_paidmonthbatch_changelist")).content.decode()
    assert "download" in listing or "下载" in listing
    file = finance.get(reverse("admin:replenish_paidmonthbatch_file", args=[batch.number]))
    assert b"".join(file.streaming_content).decode() == "".join(paid_months_csv(batch.number))
    page = finance.get(
        reverse("admin:replenish_paidmonthbatch_change", args=[batch.pk])
    ).content.decode()
    assert "2025-11" in page and MASKED in page and PERSON not in page


def test_collection_sees_batches_but_may_not_make_one(client, restored):
    batch = paid_months_batch_make(actor=SYSTEM)
    clerk = logged_in(client, department_user(COLLECTION, "clerk"))
    clerk.post(reverse("admin:replenish_paidmonthbatch_make"))
    assert PaidMonthBatch.objects.count() == 1
    assert (
        clerk.get(reverse("admin:replenish_paidmonthbatch_file", args=[batch.number])).status_code
        == 200
    )
    client.logout()
    outsider = logged_in(client, UserFactory(username="nobody"))
    assert outsider.get(
        reverse("admin:replenish_paidmonthbatch_file", args=[batch.number])
    ).status_code in (
        302,
        403,
    )
