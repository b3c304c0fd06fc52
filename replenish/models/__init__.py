from replenish.models.audit import AuditEntry
from replenish.models.cases import (
    CLOSED_STATES,
    OPEN_STATES,
    ArrearsCase,
    ArrearsLine,
    CaseState,
    ImportBatch,
)
from replenish.models.ledger import LedgerEntry, LedgerKind
from replenish.models.numbering import NumberSequence

__all__ = [
    "CLOSED_STATES",
    "OPEN_STATES",
    "ArrearsCase",
    "ArrearsLine",
    "AuditEntry",
    "CaseState",
    "ImportBatch",
    "LedgerEntry",
    "LedgerKind",
    "NumberSequence",
]
