"""The three departments of the agency and their duties (docs/rules.md, "Who uses it").

Each department is a `Group` created by migration 0006 with exactly these permissions; staff are
given their department's group. Segregation of duties follows from the sets: finance cannot
record or accept a payment, audit cannot touch money, collection cannot confirm an arrival.

Later migrations that add duties (write-off examination and decision, …) grant them to these
groups by name and extend `DUTIES`; a test keeps the two in step.
"""

COLLECTION = "征缴部门"
FINANCE = "财务管理部门"
AUDIT = "稽核监督部门"
DEPARTMENTS = (COLLECTION, FINANCE, AUDIT)
# Groups of service credentials (migration 0011), not departments: the core contribution system
# reads the paid person-month batches; the city-service front ends answer a person's inquiry.
CORE_SYSTEM = "核心征缴系统"
CITY_FRONT_ENDS = "城市服务前端"

_SEE_CASES = (
    "replenish.view_arrearscase",
    "replenish.view_arrearsline",
    "replenish.view_ledgerentry",
    "replenish.view_agreement",
    "replenish.view_installment",
    "notices.view_notice",
    "notices.view_notification",
    "notices.view_reminder",
    "notices.view_reminderrule",
    "notices.view_unitcontact",
    "notices.view_calendarexception",
    "units.view_region",
    "units.view_unit",
    "units.view_unitevent",
    "units.view_counterparty",
)
_SEE_MONEY = (
    "replenish.view_payment",
    "replenish.view_arrival",
    "replenish.view_arrivalimport",
    "replenish.view_creditentry",
    "replenish.view_writeoffapplication",
    "replenish.view_writeoffdocument",
    # Enforcement dossiers (enforcement migration 0002): every department reads them.
    "enforcement.view_dossier",
    "enforcement.view_bankaccount",
    "enforcement.view_guarantee",
    "enforcement.view_finereferral",
    "enforcement.view_enforcementdocument",
    "replenish.view_linecorrection",
    "replenish.view_creditoffset",
    "replenish.view_creditrefund",
)

DUTIES: dict[str, frozenset[str]] = {
    # Establishes arrears, issues notices, signs agreements, accepts payments and write-off
    # applications, posts the adjustments.
    COLLECTION: frozenset(
        {
            *_SEE_CASES,
            *_SEE_MONEY,
            "replenish.view_importbatch",
            "units.view_insuredperson",
            "replenish.add_arrearsline",
            "replenish.issue_notice",
            "replenish.sign_agreement",
            "replenish.examine_writeoff",
            "replenish.add_writeoffapplication",
            "replenish.transfer_case",
            "units.record_unitevent",
            "units.change_counterparty",
            "notices.deliver_notice",
            "notices.retry_notification",
            "notices.change_reminderrule",
            # The holiday calendar every deadline counts on (notices migration 0007).
            "notices.add_calendarexception",
            "notices.change_calendarexception",
            "notices.delete_calendarexception",
            # The region names beside the codes (units migration 0005).
            "units.add_region",
            "units.change_region",
            "notices.add_unitcontact",
            "notices.change_unitcontact",
            "replenish.add_payment",
            "replenish.accept_payment",
            "replenish.post_arrival",
            "replenish.correct_line",
            "replenish.offset_credit",
            "replenish.add_creditrefund",
            "units.add_portalmembership",
            "units.view_portalmembership",
            "replenish.view_paidmonthbatch",
            "replenish.view_paidmonthrow",
            "replenish.view_person_records",
            # Works the enforcement dossiers; a second collection user approves a transfer
            # request or a court application (four eyes, checked by the services).
            "enforcement.run_dossier",
            "enforcement.approve_dossier",
        }
    ),
    # Collects the money, confirms arrivals (到账信息), imports arrival files, resolves unmatched
    # arrivals, reverses an arrival found wrong.
    FINANCE: frozenset(
        {
            *_SEE_CASES,
            *_SEE_MONEY,
            "replenish.confirm_arrival",
            "replenish.add_arrival",
            "replenish.match_arrival",
            "replenish.reverse_arrival",
            "replenish.view_paidmonthbatch",
            "replenish.view_paidmonthrow",
            "replenish.view_person_records",
            "replenish.add_paidmonthbatch",
            "enforcement.confirm_enforcement_money",
            "replenish.approve_refund",
            "replenish.pay_refund",
        }
    ),
    # Supervises: sees everything, decides write-offs, handles no money.
    AUDIT: frozenset(
        {
            *_SEE_CASES,
            *_SEE_MONEY,
            "replenish.view_importbatch",
            "units.view_insuredperson",
            "replenish.decide_writeoff",
            "units.view_portalmembership",
            "replenish.view_personrecordaccess",
        }
    ),
}
