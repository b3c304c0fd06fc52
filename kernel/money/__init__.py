"""Pure money rules: late fee, payment allocation, installments and apportionment.

No Django here; amounts are Decimal yuan with two places, never float.
"""

from kernel.money.allocation import Allocation, LineAllocation, LineDue, allocate_payment
from kernel.money.apportion import Share, apportion, validate_shares
from kernel.money.installments import Installment, installment_schedule
from kernel.money.late_fee import (
    DEFAULT_POLICY,
    DEFAULT_RATE_TABLE,
    FEN,
    Freeze,
    LateFeePolicy,
    LineFeeState,
    PrincipalChange,
    RatePeriod,
    Segment,
    accrued_fee,
    fee_fix_at_changes,
    fee_to_fix,
    fix_fee,
    from_fen,
    late_fee,
    late_fee_breakdown,
    line_fee_due,
    round_fen,
    to_fen,
    validate_rate_table,
)

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_RATE_TABLE",
    "FEN",
    "Allocation",
    "Freeze",
    "Installment",
    "LateFeePolicy",
    "LineAllocation",
    "LineDue",
    "LineFeeState",
    "PrincipalChange",
    "RatePeriod",
    "Segment",
    "Share",
    "accrued_fee",
    "allocate_payment",
    "apportion",
    "fee_fix_at_changes",
    "fee_to_fix",
    "fix_fee",
    "from_fen",
    "installment_schedule",
    "late_fee",
    "late_fee_breakdown",
    "line_fee_due",
    "round_fen",
    "to_fen",
    "validate_rate_table",
    "validate_shares",
]
