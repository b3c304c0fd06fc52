"""The adjustment (workflow step 5): the collection department adjusts the arrears from the arrival
information of finance and from the write-off information of audit.

On demand (admin, `post_adjustments`) and in the daily run; idempotent: what was posted is not
posted again. The report says what was posted.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.actors import Actor, require_permission
from replenish.models import CreditOffset
from replenish.services.arrival import PostedArrival, arrivals_out_of_order, arrivals_post
from replenish.services.credit import credits_offset
from replenish.services.credit_reversal import offsets_take_back_for_earlier_arrivals
from replenish.services.writeoff import PostedWriteOff, writeoffs_post


@dataclass
class AdjustmentReport:
    as_of: date
    arrivals: list[PostedArrival] = field(default_factory=list)
    writeoffs: list[PostedWriteOff] = field(default_factory=list)
    # Matched arrivals dated before money already posted to their case, left unposted.
    held: int = 0
    offsets: list[CreditOffset] = field(default_factory=list)
    # Offsets taken back so that money that arrived before them went first.
    taken_back: list[int] = field(default_factory=list)

    @property
    def applied(self) -> Decimal:
        return sum((a.applied for a in self.arrivals), Decimal("0.00"))

    @property
    def credit(self) -> Decimal:
        return sum((a.credit for a in self.arrivals), Decimal("0.00"))

    @property
    def written_off(self) -> Decimal:
        return sum((w.amount for w in self.writeoffs), Decimal("0.00"))

    @property
    def settled(self) -> list[str]:
        return sorted({a.case_no for a in self.arrivals if a.settled})

    def summary(self) -> str:
        held = (
            _("; %(held)d arrival(s) held: dated before money already posted to their case")
            % {"held": self.held}
            if self.held
            else ""
        )
        return (
            _(
                "%(on)s: %(arrivals)d arrival(s) posted, %(applied)s applied, %(credit)s kept as "
                "credit, %(settled)d case(s) settled"
            )
            % {
                "on": self.as_of,
                "arrivals": len(self.arrivals),
                "applied": self.applied,
                "credit": self.credit,
                "settled": len(self.settled),
            }
            + held
        )

    def writeoff_summary(self) -> str:
        return _("%(on)s: %(writeoffs)d write-off(s) posted, %(amount)s written off") % {
            "on": self.as_of,
            "writeoffs": len(self.writeoffs),
            "amount": self.written_off,
        }

    @property
    def offset(self) -> Decimal:
        return sum((o.amount for o in self.offsets), Decimal("0.00"))

    def offset_summary(self) -> str:
        return _("%(on)s: %(n)d credit offset(s), %(amount)s offset") % {
            "on": self.as_of,
            "n": len(self.offsets),
            "amount": self.offset,
        }

    def lines(self) -> list[str]:
        return [
            self.summary(),
            *(f"  {a}" for a in self.arrivals),
            self.writeoff_summary(),
            *(f"  {w}" for w in self.writeoffs),
            *([self.offset_summary()] if self.offsets else []),
            *([self.taken_back_summary()] if self.taken_back else []),
        ]

    def taken_back_summary(self) -> str:
        return _(
            "%(on)s: %(n)d credit offset(s) taken back: money that arrived before them was "
            "posted first"
        ) % {"on": self.as_of, "n": len(self.taken_back)}


def adjustments_post(*, actor: Actor, as_of: date | None = None) -> AdjustmentReport:
    """Post every matched arrival that arrived on or before `as_of` (default today), then every
    write-off approved by audit (whatever its date: the decision is made), then — when
    `CREDIT_OFFSET_AUTOMATIC` is on — offset each unit's credit against its open arrears. An
    offset dated after an arrival of its case that is posted now is taken back first
    (`offsets_take_back_for_earlier_arrivals`), so that money is posted in the order it arrived."""
    require_permission(actor, "replenish.post_arrival", action=_("post the adjustments"))
    as_of = as_of or timezone.localdate()
    # Money read after an offset of the unit's credit but arrived before it goes first.
    taken_back = offsets_take_back_for_earlier_arrivals(as_of=as_of, actor=actor)
    report = AdjustmentReport(
        as_of=as_of,
        taken_back=taken_back,
        arrivals=arrivals_post(actor=actor, as_of=as_of),
        writeoffs=writeoffs_post(actor=actor),
        held=arrivals_out_of_order().filter(arrived_on__lte=as_of).count(),
    )
    if settings.CREDIT_OFFSET_AUTOMATIC:
        report.offsets = credits_offset(actor=actor, on=as_of)
    return report
