"""`manage.py check_ledger [--fix]`: the cached figures of cases and lines against the ledger."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from replenish.models import ArrearsCase, ArrearsLine
from tests.factories import ArrearsRowFactory, import_rows

pytestmark = pytest.mark.django_db
D = Decimal


def check_ledger(*args) -> str:
    out = io.StringIO()
    call_command("check_ledger", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def case():
    import_rows(
        [
            ArrearsRowFactory(unit_no=1, person_no=1, employer_amount="800.00"),
            ArrearsRowFactory(unit_no=1, person_no=2, employer_amount="450.25"),
        ]
    )
    return ArrearsCase.objects.get()


def test_a_clean_database_prints_agreement(case):
    # given the figures the import cached / when / then
    assert check_ledger() == "ledger and cached figures agree\n"


def test_a_tampered_case_figure_is_reported_and_the_command_fails(case):
    # given a cached figure changed behind the ledger's back
    ArrearsCase.objects.filter(pk=case.pk).update(principal_unpaid=D("900.00"))
    out = io.StringIO()

    # when
    with pytest.raises(CommandError, match=r"^1 difference\(s\) found$") as failure:
        call_command("check_ledger", stdout=out)

    # then
    assert failure.value.returncode == 1
    assert out.getvalue() == (
        "AC2026-0000001: principal_unpaid cached 900.00, ledger says 1650.25\n"
    )


def test_a_tampered_line_figure_is_reported_with_its_line(case):
    # given
    line = ArrearsLine.objects.get(employer_amount=D("450.25"))
    ArrearsLine.objects.filter(pk=line.pk).update(employee_unpaid=D("0.00"))
    out = io.StringIO()

    # when
    with pytest.raises(CommandError):
        call_command("check_ledger", stdout=out)

    # then
    assert out.getvalue() == (
        f"AC2026-0000001 line {line.pk}: employee_unpaid cached 0.00, ledger says 200.00\n"
    )


def test_fix_sets_the_cached_figures_to_what_the_ledger_says(case):
    # given two tampered figures
    ArrearsCase.objects.filter(pk=case.pk).update(principal_unpaid=D("900.00"))
    line = ArrearsLine.objects.get(employer_amount=D("800.00"))
    ArrearsLine.objects.filter(pk=line.pk).update(employer_unpaid=D("1.00"))

    # when
    output = check_ledger("--fix")

    # then both are repaired and a second check agrees
    assert output == (
        "AC2026-0000001: principal_unpaid cached 900.00, ledger says 1650.25\n"
        f"AC2026-0000001 line {line.pk}: employer_unpaid cached 1.00, ledger says 800.00\n"
        "2 difference(s) fixed from the ledger\n"
    )
    assert ArrearsCase.objects.get().principal_unpaid == D("1650.25")
    assert ArrearsLine.objects.get(pk=line.pk).employer_unpaid == D("800.00")
    assert check_ledger() == "ledger and cached figures agree\n"
