"""Test data: model factories, arrears CSV files built in memory, and table counts.

Valid identifiers come from `units.samples` (deterministic from a number). Data whose behaviour
depends on the import (lines, ledger entries, case numbers) is set up through the real
`arrears_import` service with `import_rows`; the model factories are for everything else.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile

from notices.models import Notice, UnitContact
from replenish.actors import System
from replenish.models import (
    ArrearsCase,
    ArrearsLine,
    AuditEntry,
    CaseState,
    ImportBatch,
    LedgerEntry,
    NumberSequence,
)
from replenish.services.arrears_import import COLUMNS, ArrearsImportResult, arrears_import
from units.models import InsuredPerson, Unit
from units.samples import sample_id_number, sample_uscc

SYSTEM = System("tests")
# The date the imports of the suite pretend to run on: the periods of the factories' rows are
# before it and the DESIGN.md worked example (due 2026-01-15) falls after it.
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
    """One data row of an arrears file (formats/README.md), every value as the file holds it."""

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
)


def table_counts() -> dict[str, int]:
    """The number of rows of every table the workflow writes."""
    return {model._meta.label: model.objects.count() for model in COUNTED_MODELS}
