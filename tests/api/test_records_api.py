"""The core contribution system pulls the paid person-month batches; a city-service front end
asks for a person's own months, and learns nothing about an ID number whose name it got wrong."""

from datetime import date

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from replenish.departments import CITY_FRONT_ENDS, CORE_SYSTEM, FINANCE
from replenish.models import PersonRecordAccess
from replenish.services.arrival import arrivals_post
from replenish.services.records import paid_months_batch_make, paid_months_csv
from tests.factories import (
    SYSTEM,
    ArrearsRowFactory,
    ArrivalRowFactory,
    department_user,
    import_arrivals,
    import_rows,
)
from units.samples import sample_id_number

pytestmark = pytest.mark.django_db
PERSON = sample_id_number(1, region_code="110101")
OTHER = sample_id_number(2, region_code="110101")


def client_of(user) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def restored():
    """Person 1 owes unit 1 two months; the older is paid on 2026-03-01 and batched."""
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
    return paid_months_batch_make(actor=SYSTEM, today=date(2026, 3, 2))


def test_the_core_system_lists_the_batches_and_pulls_one_byte_for_byte(restored):
    core = client_of(department_user(CORE_SYSTEM, "core"))

    listing = core.get("/api/core/paid-months/")
    assert listing.status_code == 200
    assert [(b["batch"], b["months"]) for b in listing.json()] == [(1, 1)]

    file = core.get("/api/core/paid-months/1/")
    assert file.status_code == 200
    assert file["Content-Type"].startswith("text/csv")
    assert b"".join(file.streaming_content).decode() == "".join(paid_months_csv(1))
    assert core.get("/api/core/paid-months/9/").status_code == 404


def test_the_core_credential_reads_nothing_else_and_others_cannot_pull(restored):
    core = client_of(department_user(CORE_SYSTEM, "core"))
    assert core.get("/api/finance/arrivals/unmatched/").status_code == 403
    assert (
        core.post("/api/person/months/", {"id_number": PERSON, "name": "职工1"}).status_code == 403
    )
    front_end = client_of(department_user(CITY_FRONT_ENDS, "wechat"))
    assert front_end.get("/api/core/paid-months/").status_code == 403


def test_a_front_end_gets_the_persons_months_and_the_call_is_logged(restored):
    wechat = client_of(department_user(CITY_FRONT_ENDS, "wechat"))

    response = wechat.post(
        "/api/person/months/", {"id_number": PERSON, "name": "职工1"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert [(m["period"], m["status"], m["restored"], m["unit_name"]) for m in body["months"]] == [
        ("2025-11", "paid", True, "单位1有限公司"),
        ("2025-12", "owed", False, "单位1有限公司"),
    ]
    assert body["agency_contact"]
    access = PersonRecordAccess.objects.get()
    assert (access.channel, access.actor_label, access.person.id_number) == (
        "front_end",
        "wechat",
        PERSON,
    )


def test_a_wrong_name_answers_exactly_as_an_unknown_id_number(restored):
    # given a front end that tries to enumerate: a known number with a wrong name, and a valid
    # number nobody has
    wechat = client_of(department_user(CITY_FRONT_ENDS, "wechat"))
    wrong_name = wechat.post("/api/person/months/", {"id_number": PERSON, "name": "张三"})
    unknown = wechat.post("/api/person/months/", {"id_number": OTHER, "name": "张三"})

    # then both answers are the same, status and body, and neither shows a month
    assert (wrong_name.status_code, wrong_name.content) == (unknown.status_code, unknown.content)
    assert wrong_name.json()["months"] == []
    # and both calls are logged, the wrong name noted
    reasons = sorted(PersonRecordAccess.objects.values_list("reason", flat=True))
    assert reasons[1].endswith("(name did not match: nothing shown)")


def test_an_invalid_id_number_is_a_json_400_that_logs_nothing(restored):
    wechat = client_of(department_user(CITY_FRONT_ENDS, "wechat"))
    response = wechat.post("/api/person/months/", {"id_number": "12345", "name": "x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "id_number"
    assert PersonRecordAccess.objects.count() == 0


def test_inquiries_about_one_person_are_limited_across_front_ends(restored, settings):
    # given a low limit per person
    from api.records import PersonThrottle

    rates = {**PersonThrottle.THROTTLE_RATES, "person": "2/hour"}
    PersonThrottle.THROTTLE_RATES = rates
    try:
        wechat = client_of(department_user(CITY_FRONT_ENDS, "wechat"))
        alipay = client_of(department_user(CITY_FRONT_ENDS, "alipay"))
        body = {"id_number": PERSON, "name": "职工1"}
        # when two front ends ask three times about the same person
        codes = [
            wechat.post("/api/person/months/", body).status_code,
            alipay.post("/api/person/months/", body).status_code,
            alipay.post("/api/person/months/", body).status_code,
        ]
        # then the third is refused, whichever front end asks; another person is still answered
        assert codes == [200, 200, 429]
        other = alipay.post("/api/person/months/", {"id_number": OTHER, "name": "x"})
        assert other.status_code == 200
    finally:
        del PersonThrottle.THROTTLE_RATES


def test_finance_staff_may_not_use_the_front_end_inquiry(restored):
    finance = client_of(department_user(FINANCE, "f"))
    assert (
        finance.post("/api/person/months/", {"id_number": PERSON, "name": "职工1"}).status_code
        == 403
    )
