import pytest
from django.db import connection, IntegrityError, transaction
from tests.factories import *
from replenish.services.ledger import ledger_differences

@pytest.mark.django_db
def test_smoke():
    r = import_rows([ArrearsRowFactory(unit_no=1, person_no=1), ArrearsRowFactory(unit_no=2, person_no=1)])
    print(r)
    print(table_counts())
    print(list(ArrearsCase.objects.values_list("case_no","principal_unpaid","opened_on")))
    print(ledger_differences())
    e = LedgerEntry.objects.first()
    try:
        with transaction.atomic():
            LedgerEntry.objects.filter(pk=e.pk).update(reason="x")
    except Exception as exc:
        print(type(exc), type(exc).__mro__, exc)
    r = import_rows([ArrearsRowFactory(unit_no=1, person_no=1, employer_amount="700.00")])
