"""What a portal member's queries find: its own cases and those it owes as a counterparty, found
through the cases' own columns (no join to the counterparty in the condition)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal import selectors
from replenish.services.unit_events import EventDocument, Party, unit_record_merger
from tests.factories import SYSTEM, ArrearsRowFactory, case_of, import_rows, portal_user
from units.models import PortalMembership
from units.samples import sample_uscc

pytestmark = pytest.mark.django_db


def test_a_unit_sees_its_own_cases_and_those_it_owes_after_a_merger_and_no_others():
    # given three units' cases, and unit 1 absorbed by unit 2
    import_rows([ArrearsRowFactory(unit_no=n, person_no=n) for n in (1, 2, 3)])
    absorbed, successor, other = (case_of(sample_uscc(n)) for n in (1, 2, 3))
    unit_record_merger(
        unit_id=absorbed.unit_id,
        merging_party=Party(name="单位2有限公司", uscc=sample_uscc(2)),
        document=EventDocument(occurred_on=date(2026, 2, 20)),
        actor=SYSTEM,
        today=date(2026, 3, 1),
    )
    member = PortalMembership.objects.get(user=portal_user("u2", unit=successor.unit))
    absorbed.refresh_from_db()
    assert absorbed.obligor.unit_id == successor.unit_id

    # when
    with CaptureQueriesContext(connection) as queries:
        found = set(selectors.cases(member))

    # then both cases it owes, not the third unit's; and no condition joins the counterparty
    assert found == {absorbed, successor}
    assert other not in found
    case_query = queries.captured_queries[-1]["sql"]
    assert "units_counterparty" not in case_query
