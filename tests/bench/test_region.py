"""The benchmark's region at a tiny size, built through the same steps `bench.run` runs
(bench.region.build), in this process: every case state, the agreements and installments the
scale asks for, every class of arrivals, and a ledger that agrees with its caches. No time is
asserted."""

import importlib
import io

import pytest
from django.core.management import call_command

from bench import region
from bench.pages import BIG_CASES
from replenish.models import ArrearsCase, CaseState, Installment
from replenish.models.agreements import Agreement, AgreementState
from replenish.services.ledger import ledger_differences
from units.samples import sample_uscc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def run_here(argv: list[str], label: str | None = None, env: dict | None = None) -> str:
    """A step of the region in this process (`env`, settings of a step's environment, only
    sizes the batches: the tiny region fits in one)."""
    name, args = argv[0], argv[1:]
    out = io.StringIO()
    if name.startswith("bench."):
        importlib.import_module(name).main(args)
    else:
        call_command(name, *args, stdout=out)
    return out.getvalue()


def test_the_tiny_region_has_every_state_and_a_clean_ledger(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    scale = region.scale_of("tiny")
    region.build(scale, tmp_path, run_here)

    states = set(ArrearsCase.objects.values_list("state", flat=True))
    assert states == set(CaseState.values)
    assert ArrearsCase.objects.filter(predecessor__isnull=True).count() == scale.cases
    in_force = Agreement.objects.filter(state=AgreementState.IN_FORCE)
    assert in_force.count() == scale.agreements
    assert Installment.objects.filter(agreement__in=in_force).count() == 10 * scale.agreements
    agreement_states = set(Agreement.objects.values_list("state", flat=True))
    assert agreement_states == {"in_force", "breached", "terminated", "fulfilled"}
    census = region.census()
    # Matched by reference and by payer (and posted since), unmatched, and the re-sent ones
    # refused as already received (no row of their own).
    assert {"posted", "matched", "unmatched"} <= set(census["arrivals"]), census
    assert {"reference", "payer"} <= set(census["arrivals matched by"]), census
    received = sum(census["arrivals"].values())
    assert received < scale.arrivals + scale.arrivals // 10
    assert ledger_differences() == []
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "agree" in out.getvalue()
    # Every page bench.run measures answers (bench.pages exits otherwise), the cases of 500 and
    # 5,000 lines among them, imported whole.
    run_here(["bench.pages", "--repeat", "1", "--big-cases"])
    big = ArrearsCase.objects.filter(unit__uscc__in=[sample_uscc(n) for n, _ in BIG_CASES.values()])
    assert sorted(case.lines.count() for case in big) == [500, 5_000]
