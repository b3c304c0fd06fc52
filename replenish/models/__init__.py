from replenish.models.agreements import (
    KIND_OF_COUNTERPARTY,
    LIVE_AGREEMENT_STATES,
    Agreement,
    AgreementKind,
    AgreementState,
    Installment,
)
from replenish.models.audit import AuditEntry
from replenish.models.cases import (
    CLOSED_STATES,
    OPEN_STATES,
    ArrearsCase,
    ArrearsLine,
    CaseState,
    ImportBatch,
)
from replenish.models.collection import (
    Arrival,
    ArrivalImport,
    ArrivalState,
    CreditEntry,
    CreditKind,
    MatchedBy,
    Payment,
    PaymentChannel,
    PaymentState,
    PaymentVia,
)
from replenish.models.credit import (
    FINAL_REFUND_STATES,
    CreditOffset,
    CreditRefund,
    RefundState,
)
from replenish.models.ledger import LedgerEntry, LedgerKind
from replenish.models.numbering import NumberSequence
from replenish.models.writeoff import (
    OPEN_WRITEOFF_STATES,
    WriteOffApplication,
    WriteOffDocument,
    WriteOffDocumentKind,
    WriteOffState,
)

__all__ = [
    "CLOSED_STATES",
    "FINAL_REFUND_STATES",
    "KIND_OF_COUNTERPARTY",
    "LIVE_AGREEMENT_STATES",
    "OPEN_STATES",
    "OPEN_WRITEOFF_STATES",
    "Agreement",
    "AgreementKind",
    "AgreementState",
    "ArrearsCase",
    "ArrearsLine",
    "Arrival",
    "ArrivalImport",
    "ArrivalState",
    "AuditEntry",
    "CaseState",
    "CreditEntry",
    "CreditKind",
    "CreditOffset",
    "CreditRefund",
    "ImportBatch",
    "Installment",
    "LedgerEntry",
    "LedgerKind",
    "MatchedBy",
    "NumberSequence",
    "Payment",
    "PaymentChannel",
    "PaymentState",
    "PaymentVia",
    "RefundState",
    "WriteOffApplication",
    "WriteOffDocument",
    "WriteOffDocumentKind",
    "WriteOffState",
]
