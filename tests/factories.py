"""Test data: model factories, arrears CSV files built in memory, and table counts.

Valid identifiers come from `units.samples` (deterministic from a number). Data whose behaviour
depends on the import (lines, ledger entries, case numbers) is set up through the real
`arrears_import` service with `import_rows`; the model factories are for everything else.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import transaction

from kernel.actors import System
from kernel.money import LineDue, allocate_payment
from notices.models import Notice, UnitContact
from replenish.models import (
    Agreement,
    ArrearsCase,
    ArrearsLine,
    Arrival,
    ArrivalImport,
    AuditEntry,
    CaseState,
    CreditEntry,
    ImportBatch,
    Installment,
    LedgerEntry,
    LedgerKind,
    NumberSequence,
    Payment,
    WriteOffApplication,
    WriteOffDocument,
    WriteOffDocumentKind,
)
from replenish.services.arrears_import import COLUMNS, ArrearsImportResult, arrears_import
from replenish.services.arrivals_import import COLUMNS as ARRIVAL_COLUMNS
from replenish.services.arrivals_import import ArrivalsImportResult, arrivals_import
from replenish.services.ledger import Posting, ledger_post, lines_fee_fix
from replenish.services.payment import payment_accept, payment_record
from replenish.services.unit_events import Party
from units.models import Counterparty, InsuredPerson, Unit, UnitEvent, UnitEventAttachment
from units.samples import sample_id_number, sample_uscc

SYSTEM = System("tests")
# The date the imports of the suite pretend to run on: the periods of the factories' rows are
# before it and the docs/rules.md worked example (due 2026-01-15) falls after it.
IMPORT_DAY = date(2026, 3, 1)
REGION = "310101"

# --- users -----------------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    """A staff user; `permissions=["replenish.issue_notice", …]` grants permissions."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.django.Password("pw-for-tests")

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        for label in extracted or ():
            app_label, codename = label.split(".")
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


# What a collection department (征缴部门) officer may do with agreements and unit events.
COLLECTOR_PERMISSIONS = [
    "replenish.view_arrearscase",
    "replenish.view_agreement",
    "replenish.sign_agreement",
    "replenish.transfer_case",
    "units.view_unit",
    "units.view_unitevent",
    "units.record_unitevent",
    "units.view_counterparty",
]


def portal_user(username: str, *, unit=None, counterparty=None, password: str = "pw-for-tests"):
    """A portal user (no staff rights) acting for a unit or a counterparty."""
    from django.contrib.auth.models import Group

    from units.models import PortalMembership
    from units.portal import PORTAL_GROUP

    user = UserFactory(username=username, is_staff=False, password=password)
    # The group of migration units/0004, made again when a transactional test flushed it.
    group, _created = Group.objects.get_or_create(name=PORTAL_GROUP)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="notices", codename="acknowledge_notice")
    )
    user.groups.add(group)
    PortalMembership.objects.create(
        user=user, unit=unit, counterparty=counterparty, created_by="tests"
    )
    return get_user_model().objects.get(pk=user.pk)


class SuperUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_superuser = True


# --- units, persons, cases -------------------------------------------------------------------


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    class Params:
        kind = "91"

    region_code = REGION
    # High numbers, so the units never collide with the ones the CSV helpers generate.
    uscc = factory.LazyAttributeSequence(
        lambda o, n: sample_uscc(900_000 + n, region_code=o.region_code, kind=o.kind)
    )
    name = factory.Sequence(lambda n: f"工厂单位{n}有限公司")


class InsuredPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InsuredPerson

    id_number = factory.Sequence(lambda n: sample_id_number(5_000 + n, region_code="110105"))
    name = factory.Sequence(lambda n: f"职工乙{n}")


class ArrearsCaseFactory(factory.django.DjangoModelFactory):
    """A case without lines, in any state (the protected state field may be set on creation)."""

    class Meta:
        model = ArrearsCase

    case_no = factory.Sequence(lambda n: f"AC2026-9{n:06d}")
    unit = factory.SubFactory(UnitFactory)
    region_code = factory.SelfAttribute("unit.region_code")
    state = CaseState.REGISTERED
    opened_on = date(2026, 1, 5)


class PartyFactory(factory.Factory):
    """A party named by a unit event (`replenish.services.unit_events.Party`): a successor
    enterprise by default."""

    class Meta:
        model = Party

    name = factory.Sequence(lambda n: f"承继{n}有限公司")
    uscc = factory.Sequence(lambda n: sample_uscc(800_000 + n))
    head = factory.Sequence(lambda n: f"负责人{n}")
    contact = "021-12345678"
    share = None


class UnitContactFactory(factory.django.DjangoModelFactory):
    """E-mail and mobile of a unit (portal inbox needs none)."""

    class Meta:
        model = UnitContact

    unit = factory.SubFactory(UnitFactory)
    person = "财务 王芳"
    email = factory.Sequence(lambda n: f"finance{n}@unit.example.cn")
    mobile = factory.Sequence(lambda n: f"1380000{n % 10000:04d}")


def receipt(name: str = "receipt.pdf") -> ContentFile:
    """A scanned return receipt, as staff upload it for a delivery by post."""
    return ContentFile(b"%PDF-1.4\n% return receipt\n", name=name)


def deliver(notice: Notice, on: date, *, channel: str = "post", actor=SYSTEM) -> Notice:
    """Record a notice's delivery through the real service (post, with a receipt)."""
    from notices.services import notice_deliver

    notice_deliver(
        notice_id=notice.pk,
        channel=channel,
        delivered_on=on,
        proof=receipt() if channel == "post" else None,
        actor=actor,
        today=on,
    )
    notice.refresh_from_db()
    return notice


# --- arrears files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrearsRow:
    """One data row of an arrears file (docs/formats.md), every value as the file holds it."""

    unit_uscc: str
    unit_name: str
    region_code: str
    period: str
    id_number: str
    person_name: str
    base: str
    employer_amount: str
    employee_amount: str
    due_date: str

    def values(self) -> list[str]:
        return [getattr(self, column) for column in COLUMNS]


class ArrearsRowFactory(factory.Factory):
    """A valid row: unit `unit_no` (its USCC from region and kind) owes for person `person_no`.

    The same `unit_no` always gives the same unit (code, name, region) and the same `person_no`
    the same person, so rows of one file agree with each other.
    """

    class Meta:
        model = ArrearsRow

    class Params:
        unit_no = 1
        person_no = factory.Sequence(lambda n: n + 1)
        kind = "91"
        person_region = "110101"

    region_code = REGION
    unit_uscc = factory.LazyAttribute(
        lambda o: sample_uscc(o.unit_no, region_code=o.region_code, kind=o.kind)
    )
    unit_name = factory.LazyAttribute(lambda o: f"单位{o.unit_no}有限公司")
    period = "2025-12"
    id_number = factory.LazyAttribute(
        lambda o: sample_id_number(o.person_no, region_code=o.person_region)
    )
    person_name = factory.LazyAttribute(lambda o: f"职工{o.person_no}")
    base = "8000.00"
    employer_amount = "800.00"
    employee_amount = "200.00"
    due_date = "2026-01-15"


def arrears_csv_text(
    rows: Iterable[ArrearsRow | Sequence[str]], *, header: Sequence[str] | None = COLUMNS
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow(row.values() if isinstance(row, ArrearsRow) else row)
    return out.getvalue()


def arrears_csv(
    rows: Iterable[ArrearsRow | Sequence[str]] = (),
    *,
    header: Sequence[str] | None = COLUMNS,
    bom: bool = False,
) -> io.BytesIO:
    """An in-memory arrears file, as `arrears_import` receives it (bytes, UTF-8)."""
    data = arrears_csv_text(rows, header=header).encode("utf-8")
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


def generated_rows(
    count: int, *, first_unit: int = 1, persons_per_unit: int = 50, region_code: str = REGION
) -> list[ArrearsRow]:
    """`count` distinct valid rows: `persons_per_unit` persons per unit, one period (2025-12).

    Built without factory_boy, so ten thousand of them take a fraction of a second.
    """
    rows = []
    for i in range(count):
        unit_no = first_unit + i // persons_per_unit
        # Distinct persons for up to 14,000 rows; a different region from ArrearsRowFactory's.
        person_no = 1_000 + (first_unit * persons_per_unit + i) % 14_000
        employer = 500 + i % 700
        rows.append(
            ArrearsRow(
                unit_uscc=sample_uscc(unit_no, region_code=region_code),
                unit_name=f"单位{unit_no}有限公司",
                region_code=region_code,
                period="2025-12",
                id_number=sample_id_number(person_no, region_code="310104"),
                person_name=f"职工{person_no}",
                base="6000.00",
                employer_amount=f"{employer}.50",
                employee_amount="120.00",
                due_date="2026-01-15",
            )
        )
    return rows


def import_rows(
    rows: Iterable[ArrearsRow | Sequence[str]],
    *,
    today: date = IMPORT_DAY,
    file_name: str = "arrears.csv",
    actor=SYSTEM,
    bom: bool = False,
) -> ArrearsImportResult:
    """Import rows through the real service, as the core contribution system's file would."""
    return arrears_import(
        file=arrears_csv(list(rows), bom=bom), file_name=file_name, actor=actor, today=today
    )


def case_of(uscc: str, state: str = CaseState.REGISTERED) -> ArrearsCase:
    return ArrearsCase.objects.get(unit__uscc=uscc, state=state)


def pay(case_id: int, amount: str, *, on: date) -> None:
    """Apply an arrived payment to a case by docs/rules.md's allocation rule: a stand-in for the
    collection service (issue 4), through the same ledger functions it uses."""
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=case_id)
        lines = list(ArrearsLine.objects.select_for_update().filter(case=case).order_by("pk"))
        lines_fee_fix(
            [line for line in lines if line.principal_unpaid > 0],
            on=on,
            actor=SYSTEM,
            source="test:payment",
        )
        allocation = allocate_payment(
            Decimal(amount),
            [
                LineDue(line.pk, line.due_date, line.fee_unpaid, line.employee_unpaid,
                        line.employer_unpaid)
                for line in lines
            ],
        )  # fmt: skip
        ledger_post(
            [
                Posting(
                    case_id=case.pk,
                    line_id=paid.line_id,
                    kind=LedgerKind.PAYMENT_APPLIED,
                    effective_on=on,
                    source="test:payment",
                    employer=-paid.employer,
                    employee=-paid.employee,
                    late_fee=-paid.late_fee,
                )
                for paid in allocation.lines
            ],
            actor=SYSTEM,
        )


# --- whole-database views --------------------------------------------------------------------

COUNTED_MODELS = (
    Unit,
    InsuredPerson,
    ArrearsCase,
    ArrearsLine,
    LedgerEntry,
    AuditEntry,
    ImportBatch,
    NumberSequence,
    Notice,
    UnitEvent,
    UnitEventAttachment,
    Counterparty,
    Agreement,
    Installment,
)


def table_counts() -> dict[str, int]:
    """The number of rows of every table the workflow writes."""
    return {model._meta.label: model.objects.count() for model in COUNTED_MODELS}


# --- departments -------------------------------------------------------------------------------


def department_user(department: str, username: str | None = None):
    """A staff user in one department's group, as migration 0006 created it."""
    from django.contrib.auth.models import Group

    user = UserFactory(username=username) if username else UserFactory()
    user.groups.add(Group.objects.get(name=department))
    return get_user_model().objects.get(pk=user.pk)  # a fresh object: no stale permission cache


# --- arrivals files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrivalRow:
    """One data row of an arrivals file (docs/formats.md), every value as the file holds it."""

    arrival_ref: str
    arrived_on: str
    amount: str
    payer_uscc: str
    reference: str
    channel: str

    def values(self) -> list[str]:
        return [getattr(self, column) for column in ARRIVAL_COLUMNS]


class ArrivalRowFactory(factory.Factory):
    """A valid row: unit `unit_no` (the same code as ArrearsRowFactory's) paid 100.00 by bank."""

    class Meta:
        model = ArrivalRow

    class Params:
        unit_no = 1
        region_code = REGION

    arrival_ref = factory.Sequence(lambda n: f"BANK-2026-{n + 1:06d}")
    arrived_on = "2026-03-01"
    amount = "100.00"
    payer_uscc = factory.LazyAttribute(lambda o: sample_uscc(o.unit_no, region_code=o.region_code))
    reference = ""
    channel = "bank"


def arrivals_csv(
    rows: Iterable[ArrivalRow | Sequence[str]],
    *,
    header: Sequence[str] | None = None,
    bom: bool = False,
) -> io.BytesIO:
    """An in-memory arrivals file, as `arrivals_import` receives it (bytes, UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ARRIVAL_COLUMNS if header is None else header)
    for row in rows:
        writer.writerow(row.values() if isinstance(row, ArrivalRow) else row)
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))


def import_arrivals(
    rows: Iterable[ArrivalRow | Sequence[str]],
    *,
    today: date = IMPORT_DAY,
    file_name: str = "arrivals.csv",
    actor=SYSTEM,
    preview: bool = False,
) -> ArrivalsImportResult:
    """Import arrival rows through the real service, as finance's file would bring them."""
    return arrivals_import(
        file=arrivals_csv(list(rows)),
        file_name=file_name,
        actor=actor,
        today=today,
        preview=preview,
    )


def accepted_payment(case: ArrearsCase, amount: str, *, paid_on: date = IMPORT_DAY, **kwargs):
    """A payment recorded at the counter and accepted (finance has been asked to collect it)."""
    payment = payment_record(
        case_id=case.pk,
        amount=Decimal(amount),
        channel=kwargs.pop("channel", "counter"),
        paid_on=paid_on,
        actor=SYSTEM,
        today=paid_on,
        **kwargs,
    )
    return payment_accept(payment_id=payment.pk, actor=SYSTEM)


COLLECTION_MODELS = (
    Payment,
    Arrival,
    ArrivalImport,
    CreditEntry,
    WriteOffApplication,
    WriteOffDocument,
)


def all_table_counts() -> dict[str, int]:
    """`table_counts` and the tables of payments, arrivals and credit."""
    return {
        **table_counts(),
        **{model._meta.label: model.objects.count() for model in COLLECTION_MODELS},
    }


# --- write-off -------------------------------------------------------------------------------


def go_bankrupt(case: ArrearsCase, *, accepted_on: date = date(2026, 2, 10), actor=SYSTEM):
    """The case's unit goes bankrupt: its liquidation group owes the case from then on."""
    from replenish.services.unit_events import unit_record_bankruptcy

    unit_record_bankruptcy(
        unit_id=case.unit_id,
        court="上海市第三中级人民法院",
        court_case_no=f"(2026)沪03破{case.unit_id}号",
        accepted_on=accepted_on,
        liquidation_group=Party(name=f"{case.unit.name}清算组", head="李律师", contact="021-6000"),
        actor=actor,
        today=max(accepted_on, IMPORT_DAY),
    )
    return ArrearsCase.objects.get(pk=case.pk)


def writeoff_uploads(kinds: Iterable[str] = tuple(WriteOffDocumentKind.values)):
    """The liquidation group's documents, one small PDF per kind."""
    from replenish.services.writeoff import Upload

    return [Upload(kind=kind, file=ContentFile(b"%PDF-1.4", name=f"{kind}.pdf")) for kind in kinds]


def submitted_writeoff(case: ArrearsCase, *, actor=SYSTEM, kinds=None) -> WriteOffApplication:
    """A write-off application of the liquidation group owing the case, with its documents."""
    from replenish.services.writeoff import writeoff_submit

    documents = writeoff_uploads() if kinds is None else writeoff_uploads(kinds)
    return writeoff_submit(case_id=case.pk, documents=documents, actor=actor)


def at_nine(day: date) -> datetime:
    """09:00 of a day in the agency's time zone: when reminders go out."""
    from django.utils import timezone

    return datetime(day.year, day.month, day.day, 9, tzinfo=timezone.get_current_timezone())


def ensure_department_groups() -> None:
    """The groups of migration 0006: a transactional test before this one may have flushed them
    (a flush re-creates permissions, not data migrations' rows)."""
    from django.contrib.auth.models import Group, Permission

    from replenish.departments import DUTIES

    for name, duties in DUTIES.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            for duty in duties:
                app_label, codename = duty.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
