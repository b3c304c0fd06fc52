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
from replenish.models.corrections import CorrectionState, LineCorrection
from replenish.models.credit import (
    FINAL_REFUND_STATES,
    CreditOffset,
    CreditRefund,
    RefundState,
)
from replenish.models.ledger import LedgerEntry, LedgerKind
from replenish.models.numbering import NumberSequence
from replenish.models.records import (
    AccessChannel,
    MonthStatus,
    PaidMonthBatch,
    PaidMonthRow,
    PersonRecordAccess,
    ReportedMonth,
)
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
    "AccessChannel",
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
    "CorrectionState",
    "CreditEntry",
    "CreditKind",
    "CreditOffset",
    "CreditRefund",
    "ImportBatch",
    "Installment",
    "LedgerEntry",
    "LedgerKind",
    "LineCorrection",
    "MatchedBy",
    "MonthStatus",
    "NumberSequence",
    "PaidMonthBatch",
    "PaidMonthRow",
    "Payment",
    "PaymentChannel",
    "PaymentState",
    "PaymentVia",
    "PersonRecordAccess",
    "RefundState",
    "ReportedMonth",
    "WriteOffApplication",
    "WriteOffDocument",
    "WriteOffDocumentKind",
    "WriteOffState",
]
