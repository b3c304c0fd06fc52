"""`kernel.lookups`: `__in` with a list of integers is one array parameter on PostgreSQL, and
answers exactly what Django's `IN` answers, on either database, whatever the list holds."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from replenish.models import ArrearsCase, ArrearsLine
from tests.factories import ArrearsCaseFactory, ArrearsRowFactory, import_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases() -> list[ArrearsCase]:
    # two imported cases, the first of three lines, and one case without lines
    import_rows([ArrearsRowFactory(unit_no=1) for _ in range(3)] + [ArrearsRowFactory(unit_no=2)])
    return [*ArrearsCase.objects.order_by("pk"), ArrearsCaseFactory()]


def _pks(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


def test_every_kind_of_list_answers_what_in_answers(cases):
    first, second, *_ = cases
    missing = max(c.pk for c in cases) + 1000
    lines_of_first = _pks(ArrearsLine.objects.filter(case=first))
    assert lines_of_first  # the fixture's first case has lines
    # a key list with repeats, None and an id that exists nowhere
    assert _pks(
        ArrearsCase.objects.filter(pk__in=[second.pk, first.pk, None, first.pk, missing])
    ) == sorted([first.pk, second.pk])
    # through a foreign key: by id, by column name and by model instance
    assert _pks(ArrearsLine.objects.filter(case__in=[first.pk])) == lines_of_first
    assert _pks(ArrearsLine.objects.filter(case_id__in=[first.pk])) == lines_of_first
    assert _pks(ArrearsLine.objects.filter(case__in=[first])) == lines_of_first
    # a subquery, strings, expressions and an empty list stay Django's `IN`
    assert (
        _pks(ArrearsLine.objects.filter(case__in=ArrearsCase.objects.filter(pk=first.pk)))
        == lines_of_first
    )
    assert _pks(ArrearsCase.objects.filter(pk__in=[str(first.pk)])) == [first.pk]
    assert _pks(ArrearsCase.objects.filter(pk__in=[F("pk")])) == _pks(ArrearsCase.objects.all())
    assert _pks(ArrearsCase.objects.filter(case_no__in=[first.case_no])) == [first.pk]
    assert list(ArrearsCase.objects.filter(pk__in=[])) == []
    # excluded, the same: NULL never matches
    assert _pks(ArrearsCase.objects.exclude(pk__in=[first.pk, None])) == sorted(
        c.pk for c in cases if c.pk != first.pk
    )


@pytest.mark.postgres
def test_on_postgresql_a_list_of_keys_is_one_parameter(cases):
    ids = [c.pk for c in cases]
    with CaptureQueriesContext(connection) as queries:
        list(ArrearsCase.objects.filter(pk__in=ids))
        list(ArrearsLine.objects.filter(case__in=ids))
        list(ArrearsCase.objects.filter(case_no__in=["A", "B"]))
    by_ids, by_key, by_text = (q["sql"] for q in queries.captured_queries)
    assert '"replenish_arrearscase"."id" = ANY(' in by_ids and " IN (" not in by_ids
    assert '"replenish_arrearsline"."case_id" = ANY(' in by_key
    assert " IN (" in by_text  # strings: Django's own SQL
