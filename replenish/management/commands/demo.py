"""Realistic demo data, loaded through the product's own services; safe to run twice."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from notices.models import UnitContact
from notices.services import case_issue_notice, notice_deliver
from replenish.actors import System
from replenish.models import ArrearsCase, CaseState
from replenish.services.arrears_import import COLUMNS, arrears_import
from replenish.services.daily import daily_run
from units.samples import sample_id_number, sample_uscc

DEMO = System("demo")
UNITS = [
    ("91", "310101", "上海申江精密机械有限公司"),
    ("91", "310104", "上海徐汇云帆信息技术有限公司"),
    ("12", "310105", "长宁区社区卫生服务中心"),
    ("51", "310106", "静安区餐饮行业协会"),
    ("N2", "310112", "闵行区七宝镇联明村股份经济合作社"),
    ("91", "310115", "上海浦东临港物流有限公司"),
    ("91", "310101", "上海黄浦老城厢餐饮管理有限公司"),
    ("91", "310110", "上海杨浦五角场建材商行有限公司"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
NOTICE_PERMISSIONS = [
    "view_notice",
    "deliver_notice",
    "view_notification",
    "retry_notification",
    "view_reminder",
    "view_reminderrule",
    "change_reminderrule",
    "view_unitcontact",
    "add_unitcontact",
    "change_unitcontact",
]
STAFF = [
    (
        "collector",
        "征缴部门",
        "Collection",
        [
            "view_arrearscase",
            "issue_notice",
            "sign_agreement",
            "examine_writeoff",
            "transfer_case",
            "add_arrearsline",
            *NOTICE_PERMISSIONS,
        ],
    ),
    ("finance", "财务管理部门", "Finance", ["view_arrearscase", "view_notification"]),
    (
        "auditor",
        "稽核监督部门",
        "Audit",
        ["view_arrearscase", "decide_writeoff", "view_notification"],
    ),
]


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


class Command(BaseCommand):
    help = "Load demo data: units of several kinds, cases in several states, one user per role."

    def handle(self, *args, **options):
        today = timezone.localdate()
        result = arrears_import(file=demo_file(today), file_name="demo-arrears.csv", actor=DEMO)
        self.stdout.write(
            f"demo arrears: {result.lines_created} lines imported, "
            f"{result.lines_skipped} already there"
        )
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
        self._users()

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
    def _users(self):
        User = get_user_model()
        logins = []
        for username, group_name, label, codenames in STAFF:
            group, _created = Group.objects.get_or_create(name=group_name)
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label__in=["replenish", "notices"], codename__in=codenames
                )
            )
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "email": f"{username}@ybj.example"},
            )
            if created:
                user.set_password(f"demo-{username}")
                user.save()
            user.groups.add(group)
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
