"""Admin screens of unit events: recording each kind from the unit's page (the split with its
successors' shares), the event page with its parties, attachments and claim statement, and the
lists of events and counterparties."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from replenish.models import ArrearsCase, CaseState
from replenish.services.unit_events import (
    EventDocument,
    Party,
    unit_record_bankruptcy,
    unit_record_merger,
)
from tests.factories import (
    COLLECTOR_PERMISSIONS,
    ArrearsRowFactory,
    PartyFactory,
    UserFactory,
    import_rows,
    table_counts,
)
from units.models import Unit, UnitEvent, UnitEventKind, UnitStatus
from units.samples import sample_id_number, sample_uscc

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(client, request):
    """These tests read the pages' messages in their English source text (the back office is
    in Chinese by default since the project's catalogue exists); the printed documents are
    Chinese in any case and are read as such."""
    if "printed" not in request.node.name and "claim_statement" not in request.node.name:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


FULL_ID = sample_id_number(11, region_code="110101")


@pytest.fixture
def officer():
    return UserFactory(username="officer", permissions=COLLECTOR_PERMISSIONS)


@pytest.fixture
def client_(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def unit():
    """Unit 1 owes 1,000.00 (800.00 + 200.00) due 2026-01-15 for person 11."""
    import_rows([ArrearsRowFactory(unit_no=1, person_no=11)])
    return Unit.objects.get()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def record_url(unit, kind: str) -> str:
    return reverse("admin:units_unit_record_event", args=[unit.pk, kind])


def successor_rows(*rows) -> dict:
    data = {
        "successor-TOTAL_FORMS": str(len(rows)),
        "successor-INITIAL_FORMS": "0",
        "successor-MIN_NUM_FORMS": "2",
        "successor-MAX_NUM_FORMS": "1000",
    }
    for index, (name, uscc, share) in enumerate(rows):
        data |= {
            f"successor-{index}-name": name,
            f"successor-{index}-uscc": uscc,
            f"successor-{index}-share": share,
        }
    return data


def test_an_active_units_page_offers_each_event(client_, unit):
    # when
    html = page(client_, reverse("admin:units_unit_change", args=[unit.pk]))

    # then
    for kind in ("merger", "split", "bankruptcy", "auction"):
        assert record_url(unit, kind) in html
    assert "AC2026-0000001" in html  # its cases


def test_a_merger_is_recorded_from_the_units_page(client_, unit):
    # when
    response = client_.post(
        record_url(unit, "merger"),
        {
            "occurred_on": "2026-02-20",
            "document_ref": "沪市监合并〔2026〕18号",
            "party-name": "上海申江控股集团有限公司",
            "party-uscc": sample_uscc(4242),
            "party-head": "王董",
        },
    )

    # then
    event = UnitEvent.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:units_unitevent_change", args=[event.pk])
    assert Unit.objects.get().status == UnitStatus.MERGED
    assert ArrearsCase.objects.get().obligor.name == "上海申江控股集团有限公司"
    # and the page no longer offers events
    assert record_url(unit, "split") not in page(
        client_, reverse("admin:units_unit_change", args=[unit.pk])
    )


def test_the_merging_units_page_lists_the_cases_it_took_over_and_can_pass_them_on(
    client_, officer, unit
):
    # given unit 1 merged into unit 2, which the agency knows
    import_rows([ArrearsRowFactory(unit_no=2, person_no=12)])
    successor = Unit.objects.exclude(pk=unit.pk).get()
    unit_record_merger(
        unit_id=unit.pk,
        merging_party=Party(name=successor.name, uscc=successor.uscc),
        document=EventDocument(occurred_on=date(2026, 2, 20)),
        actor=officer,
        today=date(2026, 3, 1),
    )
    taken_over = ArrearsCase.objects.get(unit=unit)

    # when
    html = page(client_, reverse("admin:units_unit_change", args=[successor.pk]))

    # then its page lists the case it took over, and still offers its own events
    assert reverse("admin:replenish_arrearscase_change", args=[taken_over.pk]) in html
    assert f"began with {unit.name}" in html
    assert record_url(successor, "merger") in html


def test_a_split_is_recorded_with_the_successors_shares(client_, unit):
    # when
    response = client_.post(
        record_url(unit, "split"),
        {
            "occurred_on": "2026-02-20",
            **successor_rows(
                ("承继甲有限公司", sample_uscc(801), "1/3"),
                ("承继乙有限公司", sample_uscc(802), "2/3"),
                ("", "", ""),
            ),
        },
    )

    # then
    assert response.status_code == 302
    assert Unit.objects.get().status == UnitStatus.SPLIT
    assert list(
        ArrearsCase.objects.filter(predecessor__isnull=False)
        .order_by("pk")
        .values_list("obligor__name", "principal_unpaid")
    ) == [("承继甲有限公司", Decimal("333.33")), ("承继乙有限公司", Decimal("666.67"))]
    assert ArrearsCase.objects.filter(state=CaseState.TRANSFERRED).count() == 1


def test_shares_that_do_not_sum_to_one_are_a_message_and_change_nothing(client_, unit):
    # given
    before = table_counts()

    # when
    response = client_.post(
        record_url(unit, "split"),
        {
            "occurred_on": "2026-02-20",
            **successor_rows(
                ("承继甲有限公司", sample_uscc(801), "1/3"),
                ("承继乙有限公司", sample_uscc(802), "1/3"),
            ),
        },
    )

    # then
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "The shares sum to 2/3; they must sum to exactly 1."
    ]
    assert "承继乙有限公司" in response.content.decode()  # the form keeps what was typed
    assert table_counts() == before
    assert Unit.objects.get().status == UnitStatus.ACTIVE


def test_a_bankruptcy_accepted_tomorrow_is_a_message(client_, unit):
    # given
    tomorrow = timezone.localdate() + timedelta(days=1)

    # when
    response = client_.post(
        record_url(unit, "bankruptcy"),
        {
            "court": "上海市第三中级人民法院",
            "court_case_no": "(2026)沪03破12号",
            "accepted_on": tomorrow.isoformat(),
            "party-name": "清算组",
            "party-head": "李律师",
        },
    )

    # then
    assert [str(m) for m in response.context["messages"]] == [
        f"Acceptance date {tomorrow} is in the future (today is {timezone.localdate()})."
    ]
    assert UnitEvent.objects.count() == 0


def test_an_auction_lease_is_recorded(client_, unit):
    # when
    client_.post(
        record_url(unit, "auction"),
        {"occurred_on": "2026-02-20", "lease": "1", "party-name": "区国资委"},
    )

    # then
    assert UnitEvent.objects.get().kind == UnitEventKind.AUCTION_LEASE
    assert ArrearsCase.objects.get().obligor.name == "区国资委"


def test_the_event_page_shows_its_parties_and_takes_attachments(
    client_, officer, unit, settings, tmp_path
):
    # given
    settings.MEDIA_ROOT = tmp_path
    event = unit_record_merger(
        unit_id=unit.pk,
        merging_party=PartyFactory(name="上海申江控股集团有限公司"),
        document=EventDocument(
            occurred_on=date(2026, 2, 20), document_ref="沪市监合并〔2026〕18号"
        ),
        actor=officer,
    )
    url = reverse("admin:units_unitevent_change", args=[event.pk])

    # when
    html = page(client_, url)
    response = client_.post(
        url,
        {
            "attachments-TOTAL_FORMS": "1",
            "attachments-INITIAL_FORMS": "0",
            "attachments-MIN_NUM_FORMS": "0",
            "attachments-MAX_NUM_FORMS": "1000",
            "attachments-0-title": "合并登记通知书",
            "attachments-0-file": SimpleUploadedFile("notice.pdf", b"%PDF-1.4"),
            "parties-TOTAL_FORMS": "1",
            "parties-INITIAL_FORMS": "1",
            "parties-MIN_NUM_FORMS": "0",
            "parties-MAX_NUM_FORMS": "1000",
            "parties-0-id": str(event.parties.get().pk),
            "parties-0-event": str(event.pk),
        },
    )

    # then
    assert "上海申江控股集团有限公司" in html
    assert "沪市监合并〔2026〕18号" in html
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert list(event.attachments.values_list("title", "uploaded_by")) == [
        ("合并登记通知书", "officer")
    ]
    assert re.fullmatch(r"unit-events/[0-9a-f]{32}\.pdf", event.attachments.get().file.name)


def test_the_claim_statement_lists_the_three_tiers(client_, officer, unit):
    # given a bankruptcy accepted 2026-02-10: fee 25 days on 1,000.00 = 12.50
    event = unit_record_bankruptcy(
        unit_id=unit.pk,
        court="上海市第三中级人民法院",
        court_case_no="(2026)沪03破12号",
        accepted_on=date(2026, 2, 10),
        liquidation_group=Party(name="单位1有限公司清算组", head="李律师"),
        actor=officer,
    )

    # when
    event_page = page(client_, reverse("admin:units_unitevent_change", args=[event.pk]))
    html = page(client_, reverse("admin:units_unitevent_claim_statement", args=[event.pk]))

    # then
    assert reverse("admin:units_unitevent_claim_statement", args=[event.pk]) in event_page
    assert "社会保险费债权申报书" in html
    assert "第一顺序：职工债权" in html
    assert '<td class="amount">200.00</td>' in html
    assert '<td class="amount">800.00</td>' in html
    assert '<td class="amount">12.50</td>' in html
    assert "1012.50" in html and "壹仟零壹拾贰元伍角" in html
    assert "2026年2月9日" in html
    assert FULL_ID[:6] + "********" + FULL_ID[-4:] in html
    assert FULL_ID not in html


def test_the_event_and_counterparty_lists_run_the_same_queries_for_2_as_for_6(client_, officer):
    # given
    events = reverse("admin:units_unitevent_changelist")
    parties = reverse("admin:units_counterparty_changelist")

    def merge(unit_nos):
        import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in unit_nos])
        for unit in Unit.objects.filter(status=UnitStatus.ACTIVE):
            unit_record_merger(
                unit_id=unit.pk,
                merging_party=PartyFactory(),
                document=EventDocument(occurred_on=date(2026, 2, 20)),
                actor=officer,
            )

    merge([1, 2])
    client_.get(events)
    with CaptureQueriesContext(connection) as two_events:
        page(client_, events)
    with CaptureQueriesContext(connection) as two_parties:
        page(client_, parties)

    # when
    merge([3, 4, 5, 6])
    with CaptureQueriesContext(connection) as six_events:
        event_html = page(client_, events)
    with CaptureQueriesContext(connection) as six_parties:
        party_html = page(client_, parties)

    # then
    assert event_html.count('class="field-kind"') == 6
    assert party_html.count('class="field-kind"') == 6
    assert len(six_events) == len(two_events)
    assert len(six_parties) == len(two_parties)


def test_staff_without_the_permission_cannot_record(client, unit):
    clerk = UserFactory(username="clerk", permissions=["units.view_unit"])
    client.force_login(clerk)
    assert record_url(unit, "merger") not in page(
        client, reverse("admin:units_unit_change", args=[unit.pk])
    )
    assert client.get(record_url(unit, "merger")).status_code == 403
