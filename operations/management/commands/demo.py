"""Realistic demo data, loaded through the product's own services; safe to run twice."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from kernel.actors import System
from notices.documents import Document, Section, pdf_render
from notices.models import UnitContact
from notices.services import case_issue_notice, notice_deliver
from operations.daily import daily_run
from replenish import departments
from replenish.models import (
    Agreement,
    ArrearsCase,
    CaseState,
    Payment,
    PaymentChannel,
    WriteOffApplication,
    WriteOffDocumentKind,
)
from replenish.selectors import case_owed
from replenish.services.adjustment import adjustments_post
from replenish.services.agreements import agreement_draft, agreement_sign
from replenish.services.arrears_import import COLUMNS, arrears_import
from replenish.services.arrival import arrival_confirm
from replenish.services.arrivals_import import COLUMNS as ARRIVAL_COLUMNS
from replenish.services.arrivals_import import arrivals_import
from replenish.services.payment import payment_accept, payment_record
from replenish.services.unit_events import (
    EventDocument,
    Party,
    unit_record_auction,
    unit_record_bankruptcy,
    unit_record_merger,
    unit_record_split,
)
from replenish.services.writeoff import Upload, writeoff_accept, writeoff_approve, writeoff_submit
from units.models import PortalMembership, Unit
from units.portal import PORTAL_GROUP
from units.samples import sample_id_number, sample_uscc

DEMO = System("demo")
# A payer the agency does not know: its money waits in finance's unmatched queue.
UNKNOWN_PAYER = sample_uscc(7999, region_code="310101")
UNITS = [
    ("91", "310101", "上海申江精密机械有限公司"),
    ("91", "310104", "上海徐汇云帆信息技术有限公司"),
    ("12", "310105", "长宁区社区卫生服务中心"),
    ("51", "310106", "静安区餐饮行业协会"),
    ("N2", "310112", "闵行区七宝镇联明村股份经济合作社"),
    ("91", "310115", "上海浦东临港物流有限公司"),
    ("91", "310101", "上海黄浦老城厢餐饮管理有限公司"),
    ("91", "310110", "上海杨浦五角场建材商行有限公司"),
    # One example of each kind of agreement (see demo_agreements).
    ("91", "310106", "上海静安华茂纺织有限公司"),
    ("91", "310107", "上海普陀宏达印刷有限公司"),
    ("91", "310109", "上海虹口新港贸易有限公司"),
    ("91", "310113", "上海宝山钢联机械制造有限公司"),
    ("91", "310114", "上海嘉定第二化工厂"),
    # Bankrupt, their liquidation groups applied for a write-off (see demo_writeoffs).
    ("91", "310117", "上海松江远大五金有限公司"),
    ("91", "310118", "上海青浦恒昌塑料制品有限公司"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
# The departments' groups come from migration 0006 (replenish/departments.py).
STAFF = [
    ("collector", departments.COLLECTION, "Collection"),
    ("finance", departments.FINANCE, "Finance"),
    ("auditor", departments.AUDIT, "Audit"),
]


def arrivals_file(rows) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ARRIVAL_COLUMNS)
    for ref, arrived_on, amount, payer, reference, channel in rows:
        writer.writerow([ref, arrived_on.isoformat(), amount, payer, reference, channel])
    return io.BytesIO(out.getvalue().encode("utf-8"))


def demo_file(today) -> io.BytesIO:
    """Arrears lines for each demo unit: a few employees over several unpaid months."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    person_no = 0
    for unit_no, (kind, region, name) in enumerate(UNITS):
        uscc = sample_uscc(7000 + unit_no, region_code=region, kind=kind)
        months = 3 + unit_no % 5
        for _employee in range(2 + unit_no % 4):
            person_no += 1
            id_number = sample_id_number(person_no, region_code=region)
            person = SURNAMES[person_no % len(SURNAMES)] + GIVEN[person_no % len(GIVEN)]
            base = Decimal(6000 + 500 * (person_no % 9))
            for back in range(months, 0, -1):
                month_start = (today.replace(day=1) - timedelta(days=31 * back)).replace(day=1)
                due = (month_start + timedelta(days=45)).replace(day=15)
                writer.writerow(
                    [
                        uscc,
                        name,
                        region,
                        f"{month_start:%Y-%m}",
                        id_number,
                        person,
                        base,
                        (base * Decimal("0.095")).quantize(Decimal("0.01")),
                        (base * Decimal("0.02")).quantize(Decimal("0.01")),
                        due.isoformat(),
                    ]
                )
    return io.BytesIO(out.getvalue().encode("utf-8"))


SPLIT_SUCCESSORS = [
    ("上海新港国际贸易有限公司", "赵一"),
    ("上海新港物流服务有限公司", "赵二"),
    ("上海新港仓储有限公司", "赵三"),
]


def _uscc(index: int) -> str:
    kind, region, _name = UNITS[index]
    return sample_uscc(7000 + index, region_code=region, kind=kind)


def demo_agreements(today) -> list[str]:
    """One agreement of each kind, signed 20 days ago, each after its unit's event; a unit whose
    cases already have an agreement is left alone, so a second run adds nothing."""
    signed_on = today - timedelta(days=20)
    event_day = today - timedelta(days=30)
    done = []

    def sign_all(unit: Unit, count: int, signatory: str) -> int:
        """Sign an agreement for each of the unit's open cases; returns how many."""
        signed = 0
        for case in ArrearsCase.objects.filter(
            unit=unit, state__in=[CaseState.REGISTERED, CaseState.NOTIFIED, CaseState.OVERDUE]
        ).order_by("pk"):
            draft = agreement_draft(
                case_id=case.pk, installment_count=count, actor=DEMO, drafted_on=signed_on
            )
            agreement = agreement_sign(
                agreement_id=draft.pk, actor=DEMO, signed_on=signed_on, signatory=signatory
            )
            done.append(
                f"demo agreement {agreement.number}: {agreement.get_kind_display()}, "
                f"{agreement.total} in {count}"
            )
            signed += 1
        return signed

    examples = {
        8: lambda unit: sign_all(unit, 6, "陈华茂"),
        9: lambda unit: (
            unit_record_merger(
                unit_id=unit.pk,
                merging_party=Party(
                    name=UNITS[0][2], uscc=_uscc(0), head="王申江", contact="021-63210000"
                ),
                document=EventDocument(occurred_on=event_day, document_ref="沪市监合并〔2026〕7号"),
                actor=DEMO,
                today=signed_on,
            ),
            sign_all(unit, 12, "王申江"),
        ),
        10: lambda unit: (
            unit_record_split(
                unit_id=unit.pk,
                successors=[
                    Party(
                        name=name,
                        uscc=sample_uscc(7100 + n, region_code="310109"),
                        share="1/3",
                        head=head,
                        contact=f"021-6500000{n + 1}",
                    )
                    for n, (name, head) in enumerate(SPLIT_SUCCESSORS)
                ],
                document=EventDocument(occurred_on=event_day, document_ref="沪市监分立〔2026〕3号"),
                actor=DEMO,
                today=signed_on,
            ),
            sign_all(unit, 3, "赵一"),
        ),
        11: lambda unit: (
            unit_record_bankruptcy(
                unit_id=unit.pk,
                court="上海市第三中级人民法院",
                court_case_no="(2026)沪03破18号",
                accepted_on=today - timedelta(days=45),
                liquidation_group=Party(
                    name="上海宝山钢联机械制造有限公司清算组", head="孙律师", contact="021-56000000"
                ),
                actor=DEMO,
                today=signed_on,
            ),
            sign_all(unit, 1, "孙律师"),
        ),
        12: lambda unit: (
            unit_record_auction(
                unit_id=unit.pk,
                lease=False,
                competent_authority=Party(
                    name="上海市嘉定区国有资产监督管理委员会", head="周主任", contact="021-59990000"
                ),
                document=EventDocument(occurred_on=event_day, document_ref="嘉国资拍〔2026〕2号"),
                actor=DEMO,
                today=signed_on,
            ),
            sign_all(unit, 4, "周主任"),
        ),
    }
    for index, example in examples.items():
        unit = Unit.objects.get(uscc=_uscc(index))
        if not Agreement.objects.filter(case__unit=unit).exists():
            with transaction.atomic():
                example(unit)
    return done


def _demo_pdf(title, unit: Unit) -> bytes:
    """A one-page PDF standing for a liquidation group's document, so it opens as one does."""
    return pdf_render(
        Document(
            title=str(title),
            number="",
            sections=(
                Section(
                    paragraphs=(
                        f"{unit.name}（{unit.uscc}）清算组提交的材料。本文件为演示数据，不具有法律效力。",
                    )
                ),
            ),
        )
    )


def demo_writeoffs(today, users) -> list[str]:
    """Two bankrupt units whose liquidation groups applied for a write-off with the five
    documents, accepted by collection: one waits in audit, one is approved (the adjustment posts
    it). A unit that already has an application is left alone."""
    done = []
    for index, approve in ((13, False), (14, True)):
        unit = Unit.objects.get(uscc=_uscc(index))
        if WriteOffApplication.objects.filter(case__unit=unit).exists():
            continue
        with transaction.atomic():
            unit_record_bankruptcy(
                unit_id=unit.pk,
                court="上海市第一中级人民法院",
                court_case_no=f"(2025)沪01破{index}号",
                accepted_on=today - timedelta(days=90),
                liquidation_group=Party(
                    name=f"{unit.name}清算组", head="钱律师", contact="021-52000000"
                ),
                actor=DEMO,
                today=today,
            )
            for case in ArrearsCase.objects.filter(unit=unit, state=CaseState.REGISTERED):
                documents = [
                    Upload(kind=kind, file=ContentFile(_demo_pdf(label, unit), name=f"{kind}.pdf"))
                    for kind, label in WriteOffDocumentKind.choices
                ]
                application = writeoff_submit(
                    case_id=case.pk, documents=documents, actor=users["collector"]
                )
                writeoff_accept(application_id=application.pk, actor=users["collector"])
                if approve:
                    writeoff_approve(
                        application_id=application.pk,
                        actor=users["auditor"],
                        reason="破产程序终结，无财产可供清偿",
                    )
                done.append(f"demo write-off {application.writeoff_no} of case {case.case_no}")
    return done


class Command(BaseCommand):
    help = "Load demo data: units of several kinds, cases in several states, one user per role."

    def handle(self, *args, **options):
        today = timezone.localdate()
        result = arrears_import(file=demo_file(today), file_name="demo-arrears.csv", actor=DEMO)
        self.stdout.write(
            f"demo arrears: {result.lines_created} lines imported, "
            f"{result.lines_skipped} already there"
        )
        for line in demo_agreements(today):
            self.stdout.write(line)
        users = self._users()
        for line in demo_writeoffs(today, users):
            self.stdout.write(line)
        registered = list(
            ArrearsCase.objects.filter(
                state=CaseState.REGISTERED, import_batch__file_name="demo-arrears.csv"
            )
            .order_by("case_no")
            .values_list("pk", flat=True)
        )
        self._contacts(registered)
        # Leave two registered; notify the rest, half of them long enough ago to be overdue
        # (delivered by post two days after issue; the others go out by e-mail and SMS).
        for n, case_id in enumerate(registered[2:]):
            issued_on = today - timedelta(days=30) if n % 2 == 0 else today
            notice = case_issue_notice(case_id=case_id, actor=DEMO, issued_on=issued_on)
            if issued_on < today:
                notice_deliver(
                    notice_id=notice.pk,
                    channel="post",
                    delivered_on=issued_on + timedelta(days=2),
                    proof=ContentFile(b"%PDF-1.4\n% demo return receipt\n", name="receipt.pdf"),
                    actor=DEMO,
                )
        daily_run(as_of=today)
        self._money(today, users)
        self._portal_member()

    def _portal_member(self) -> None:
        """The demo user `unit` acts in the portal for the unit of the first notified case."""
        unit_user = get_user_model().objects.get(username="unit")
        unit_user.groups.add(Group.objects.get(name=PORTAL_GROUP))
        if PortalMembership.objects.filter(user=unit_user).exists():
            return
        unit_id = (
            ArrearsCase.objects.filter(import_batch__file_name="demo-arrears.csv")
            .exclude(state=CaseState.REGISTERED)
            .order_by("case_no")
            .values_list("unit_id", flat=True)
            .first()
        )
        PortalMembership.objects.create(user=unit_user, unit_id=unit_id, created_by=str(DEMO))

    def _money(self, today, users) -> None:
        """Payments at the counter in each state, an arrivals file with a matched and an
        unmatched arrival, and the adjustment: one case settled, one paid in part."""
        demo_cases = ArrearsCase.objects.filter(import_batch__file_name="demo-arrears.csv")
        notified = list(demo_cases.filter(state=CaseState.NOTIFIED).order_by("case_no"))
        collector, finance = users["collector"], users["finance"]
        if not Payment.objects.filter(channel_ref__startswith="DEMO-").exists() and notified:
            # Paid in full at the counter, accepted, confirmed by finance: settled below.
            settled = notified[0]
            payment = payment_record(
                case_id=settled.pk,
                amount=case_owed(settled.pk, as_of=today).total,
                channel=PaymentChannel.COUNTER,
                paid_on=today,
                channel_ref="DEMO-1",
                actor=collector,
            )
            payment_accept(payment_id=payment.pk, actor=collector)
            arrival_confirm(
                payment_id=payment.pk, arrived_on=today, arrival_ref="DEMO-1", actor=finance
            )
            for n, case in enumerate(notified[1:3], start=2):
                # Declared by bank transfer: one waiting to be accepted, one for finance.
                payment = payment_record(
                    case_id=case.pk,
                    amount=Decimal("2000.00"),
                    channel=PaymentChannel.BANK,
                    paid_on=today,
                    channel_ref=f"DEMO-{n}",
                    actor=collector,
                )
                if n == 3:
                    payment_accept(payment_id=payment.pk, actor=collector)
        partly = demo_cases.filter(state__in=[CaseState.OVERDUE, CaseState.NOTIFIED]).last()
        notice = partly.notices.order_by("-issued_on", "-number").first() if partly else None
        arrivals = arrivals_import(
            file=arrivals_file(
                [
                    ("DEMO-BANK-1", today, "3000.00", partly.unit.uscc, notice.number, "bank"),
                    ("DEMO-BANK-2", today, "880.00", UNKNOWN_PAYER, "", "wechat"),
                ]
                if partly and notice
                else []
            ),
            file_name="demo-arrivals.csv",
            actor=finance,
        )
        self.stdout.write(f"demo arrivals: {arrivals.summary()}")
        report = adjustments_post(actor=collector, as_of=today)
        self.stdout.write(f"demo adjustment: {report.summary()}")

    def _contacts(self, case_ids):
        """E-mail and mobile for every other demo unit, so notices go out on several channels."""
        for n, (unit_id, uscc) in enumerate(
            ArrearsCase.objects.filter(pk__in=case_ids)
            .order_by("case_no")
            .values_list("unit_id", "unit__uscc")
        ):
            if n % 2:
                UnitContact.objects.get_or_create(
                    unit_id=unit_id,
                    defaults={
                        "email": f"finance-{uscc[-6:].lower()}@example.cn",
                        "mobile": f"1390000{n:04d}",
                    },
                )

    @transaction.atomic
    def _users(self) -> dict:
        User = get_user_model()
        logins = []
        users = {}
        for username, group_name, label in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "email": f"{username}@ybj.example"},
            )
            if created:
                user.set_password(f"demo-{username}")
                user.save()
            user.groups.add(Group.objects.get(name=group_name))
            users[username] = User.objects.get(pk=user.pk)  # fresh: no stale permission cache
            logins.append(f"  {label:<11} {username} / demo-{username}")
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password("demo-admin")
            admin.save()
        logins.append("  Superuser   admin / demo-admin")
        unit_user, created = User.objects.get_or_create(username="unit")
        if created:
            unit_user.set_password("demo-unit")
            unit_user.save()
        logins.append("  Unit portal unit / demo-unit")
        self.stdout.write("demo logins (user / password):\n" + "\n".join(logins))
        return users
