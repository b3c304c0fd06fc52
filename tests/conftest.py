import sqlite3

import pytest
from django.db import connection

from tests.factories import SuperUserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need real concurrency: they run only when DATABASE_URL is
    PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


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
