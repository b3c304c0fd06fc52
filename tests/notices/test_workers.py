"""Real Celery workers on a real broker: a private `redis-server` on a free port (never the
machine's shared Redis, which other test processes use), PostgreSQL as the database the worker
processes share with the test, bounded waits, and everything stopped even when a test fails."""

import json
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from config.celery import app
from notices.messages import Kind
from notices.models import Notice, NoticeState, Notification
from notices.outbox import Outgoing, notifications_create
from notices.services import case_issue_notice
from notices.tasks import dispatch_task
from replenish.models import ArrearsCase
from tests.factories import SYSTEM, ArrearsRowFactory, UnitContactFactory, import_rows
from units.models import Unit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
BASE_DIR = Path(settings.BASE_DIR)
CELERY = BASE_DIR / ".venv" / "bin" / "celery"


def wait_for(
    condition: Callable[[], bool], *, timeout: float, what: str, logs: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs()}")


class PrivateRedis:
    def __init__(self, folder: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.exceptions.ConnectionError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=10, what="the private redis-server")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def broker(tmp_path, monkeypatch):
    """Celery in this process publishes to a private Redis; tasks no longer run in-process."""
    server = PrivateRedis(tmp_path)
    server.start()
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "task_always_eager", "broker_transport_options")
    }
    app.conf.update(
        broker_url=server.url,
        task_always_eager=False,
        broker_transport_options={"visibility_timeout": 3},
    )
    reset_connections()
    assert app.connection_for_write().as_uri().endswith(f":{server.port}/0")
    try:
        yield server
    finally:
        monkeypatch.undo()
        app.conf.update(saved)
        reset_connections()
        server.stop()


def reset_connections() -> None:
    """Forget the connections to the broker, so the next message goes to the one now set.

    kombu keeps its pools in a registry of its own, by connection: a pool closed here and left
    in it would be handed back, closed, to the next publish to the same broker ("Acquire on
    closed pool", taken for a broker that is down), so the registry is emptied too."""
    if app._pool is not None:
        app._pool.force_close_all()
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


class Workers:
    """`celery worker` processes, each in its own process group, against the test database."""

    def __init__(self, folder: Path, broker_url: str):
        self.folder = folder
        self.sms_file = folder / "sms.jsonl"
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "worker-test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "SMS_BACKEND": "notices.sms.FileSmsBackend",
            "SMS_FILE_PATH": str(self.sms_file),
            "EMAIL_URL": "dummymail://",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, *, delay: float = 0.0) -> subprocess.Popen:
        n = len(self.processes)
        log = open(self.folder / f"worker{n}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [
                *(str(CELERY), "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"),
                *("-n", f"test{n}@%h", "--without-gossip", "--without-mingle"),
            ],
            cwd=BASE_DIR,
            env={**self.env, "SMS_FILE_DELAY": str(delay)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)

    def logs(self) -> str:
        states = Counter(Notification.objects.values_list("state", flat=True))
        return f"notifications: {dict(states)}\n" + "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.folder.glob("*.log"))
        )

    def sent_references(self) -> list[str]:
        if not self.sms_file.exists():
            return []
        return [json.loads(line)["reference"] for line in self.sms_file.read_text().splitlines()]

    def references_offered_again(self) -> list[str]:
        repeated = self.sms_file.with_suffix(".repeated")
        return repeated.read_text().splitlines() if repeated.exists() else []

    def sends_started(self) -> int:
        sending = self.sms_file.with_suffix(".sending")
        return len(sending.read_text().splitlines()) if sending.exists() else 0


@pytest.fixture
def workers(tmp_path, broker):
    pool = Workers(tmp_path, broker.url)
    try:
        yield pool
    finally:
        pool.stop_all()


def sms_batch(count: int) -> list[Outgoing]:
    context = {
        "unit_name": "单位1有限公司",
        "notice_no": "N310101-2026-000001",
        "deadline": "2026-03-11",
        "agency_name": "医疗保障事务中心",
        "agency_contact": "12393",
    }
    return [
        Outgoing(
            dedupe_key=f"batch:{n}",
            kind=Kind.NOTICE_OVERDUE,
            channel="sms",
            address=f"1390000{n:04d}",
            context=context,
        )
        for n in range(count)
    ]


def all_sent(count: int) -> Callable[[], bool]:
    return lambda: Notification.objects.filter(state="sent").count() == count


def test_a_worker_killed_in_the_middle_of_a_batch_leaves_every_message_sent_exactly_once(
    workers,
):
    # given a worker sending a batch of 20 SMS, each send taking 0.3 s
    first = workers.start(delay=0.3)
    with transaction.atomic():
        notifications_create(sms_batch(20))  # 20 tasks queued when this commits

    # when it is killed with SIGKILL while a send is under way, after a few were sent
    wait_for(
        lambda: (
            len(workers.sent_references()) >= 5
            and workers.sends_started() > len(workers.sent_references())
        ),
        timeout=60,
        what="five messages sent by the first worker",
        logs=workers.logs,
    )
    workers.kill(first)
    sent_before = len(workers.sent_references())
    assert 5 <= sent_before < 20

    # and a worker is started again
    workers.start()

    # then every message ends sent, and the gateway got each exactly once: the task of the send
    # that was cut off came back (acks_late) and sent it, the others found theirs sent
    wait_for(all_sent(20), timeout=90, what="all 20 sent", logs=workers.logs)
    references = workers.sent_references()
    assert Counter(references) == Counter(f"batch:{n}" for n in range(20))
    assert workers.sends_started() > sent_before  # the cut-off send was started again
    # the gateway was offered one it had accepted again only if the kill fell between its
    # acceptance and the commit: at most the one message being sent
    assert len(workers.references_offered_again()) <= 1


def test_with_the_broker_down_a_notice_is_issued_and_its_messages_go_out_once_it_is_back(
    workers, broker
):
    # given a unit with a mobile number, and the broker down
    import_rows([ArrearsRowFactory(unit_no=1, person_no=1)])
    UnitContactFactory(unit=Unit.objects.get(), email="", mobile="13912345678")
    broker.stop()

    # when staff issue its notice
    started = time.monotonic()
    notice = case_issue_notice(
        case_id=ArrearsCase.objects.get().pk, actor=SYSTEM, issued_on=date(2026, 3, 2)
    )

    # then the action succeeded at once and its messages wait, unsent and not queued
    assert time.monotonic() - started < 10
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.ISSUED
    assert set(Notification.objects.values_list("channel", "state", "enqueued_at")) == {
        ("portal", "pending", None),
        ("sms", "pending", None),
    }

    # when Redis is back, a worker runs, and the scheduler's periodic job comes round
    broker.start()
    workers.start()
    dispatch_task.apply_async(retry=True)

    # then both were sent, the SMS once, and it delivered the notice
    wait_for(all_sent(2), timeout=60, what="the messages sent", logs=workers.logs)
    assert workers.sent_references() == [f"notice:{notice.pk}:issued:sms"]
    notice.refresh_from_db()
    assert (notice.state, notice.delivery_channel) == (NoticeState.DELIVERED, "sms")
