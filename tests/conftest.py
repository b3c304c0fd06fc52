import sqlite3

import pytest
from django.db import connection

from notices.sms import LocmemSmsBackend
from tests.factories import SuperUserFactory
from tests.groups import groups_restore


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need real concurrency: they run only when DATABASE_URL is
    PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def celery_in_process():
    """Tasks run in the test's process, even when CELERY_BROKER_URL names a Redis: the tests of
    real workers and brokers (tests/notices/test_workers.py) point Celery at a private Redis."""
    from config.celery import app
    from notices.outbox import publish_pause

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved
    publish_pause.end()  # a test that failed a publish must not pause the next one's


@pytest.fixture(autouse=True)
def department_groups_present(request):
    """A transactional test (a live server, a test of real concurrency) may follow one whose
    flush removed the groups the data migrations make (a flush re-creates permissions, not those
    rows): they are put back before it."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    if transactional or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        groups_restore()


@pytest.fixture(autouse=True)
def sms_outbox():
    """The test SMS gateway's outbox, empty for each test; `failures` makes sends fail."""
    LocmemSmsBackend.outbox = []
    LocmemSmsBackend.failures = []
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox = []
    LocmemSmsBackend.failures = []


@pytest.fixture
def superuser(db):
    return SuperUserFactory()


@pytest.fixture
def staff_client(client, superuser):
    """A browser logged in to the admin as a superuser."""
    client.force_login(superuser)
    return client


@pytest.fixture
def sqlite_variable_limit(monkeypatch):
    """Django 5.2 assumes SQLite's historical limit of 999 variables a statement and splits bulk
    statements into several; the SQLite linked here allows far more (Django 6.0 reads the real
    limit). Use the real limit, so query counts are about the service, not that assumption."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        monkeypatch.setattr(connection.features, "max_query_params", limit)


@pytest.fixture(autouse=True)
def english_messages():
    """Services' messages are checked in their English source text; a test about the Chinese
    interface says so with `translation.override("zh-hans")`. Requests through the test client
    still choose their language as the product does (LocaleMiddleware, default zh-hans)."""
    from django.utils import translation

    with translation.override("en"):
        yield
