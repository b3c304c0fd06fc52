"""The production settings: logs (JSON, request id, no full ID number on any handler), the
client's address behind proxies and the lockout, the health endpoint, `check --deploy`."""

import io
import json
import logging
import logging.config
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings
from gunicorn.config import Config
from gunicorn.glogging import Logger as GunicornLogger

from config.celery import _protect_celery_log_handlers, app
from kernel.proxy import client_ip
from operations.logs import JsonFormatter, MaskIdNumbers, RequestId, every_handler, mask_text
from tests.factories import UserFactory

BASE_DIR = Path(settings.BASE_DIR)
ID = "110101199003071234"
ID_X = "11010519491231002X"
MASKED = "110101********1234"


def record(msg, *args, **extra):
    made = logging.LogRecord("test", logging.INFO, __file__, 1, msg, args or None, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


@pytest.fixture
def restore_logging():
    yield
    logging.config.dictConfig(settings.LOGGING)


def test_the_filter_masks_the_message_its_arguments_extras_and_exception():
    # given records quoting ID numbers everywhere a record can carry text
    plain = record("GET /admin/replenish/arrearscase/?q=%s", ID)
    extra = record("imported", row=f"{ID_X},张三", count=3)
    try:
        raise ValueError(f"line 2: id_number: {ID} is not valid")
    except ValueError:
        failed = record("import failed")
        failed.exc_info = sys.exc_info()
    stacked = record("here", stack_info=f'File "x", line 1, in f\n  check("{ID}")')

    # when they pass the filter, twice (a logger's handler, then its parent's)
    for made in (plain, extra, failed, stacked):
        assert MaskIdNumbers().filter(made) and MaskIdNumbers().filter(made)

    # then every text shows the number masked and nothing else changed
    assert plain.getMessage() == f"GET /admin/replenish/arrearscase/?q={MASKED}"
    assert (extra.row, extra.count) == ("110105********002X,张三", 3)
    assert failed.exc_info is None and MASKED in failed.exc_text and ID not in failed.exc_text
    assert "ValueError" in failed.exc_text
    assert MASKED in stacked.stack_info and ID not in stacked.stack_info


def test_an_object_in_the_extras_is_masked_as_its_text():
    # Django's django.request lines carry the request, whose text is its URL with the query
    request = RequestFactory().get("/admin/missing/", {"q": ID})
    made = record("Not Found: /admin/missing/", request=request, data={"ids": [ID], "n": 1})
    MaskIdNumbers().filter(made)
    line = JsonFormatter().format(made)
    assert ID not in line
    assert f"q={MASKED}" in made.request
    assert made.data == {"ids": [MASKED], "n": 1}


def test_a_formatted_line_never_holds_a_full_number_but_keeps_other_numbers():
    # a number in a longer run of digits, full-width digits, a float's many decimals
    assert ID not in mask_text(f"ref 99{ID}00")
    assert mask_text("１１０１０１１９９００３０７１２３４") == MASKED  # normalized, as on pages
    assert mask_text("succeeded in 0.0576241234567897514s") == "succeeded in 0.0576241234567897514s"
    assert (
        mask_text("case C310101-2026-000001, 123.45 yuan")
        == "case C310101-2026-000001, 123.45 yuan"
    )


def test_the_json_formatter_writes_one_object_a_line_with_the_request_id():
    made = record("找到 %s", ID)
    made.exc_info = None
    RequestId().filter(made)
    MaskIdNumbers().filter(made)
    line = JsonFormatter().format(made)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == f"找到 {MASKED}"
    assert {"time", "level", "logger", "process", "request_id"} <= set(entry)
    assert entry["time"].endswith("+00:00")


def test_every_handler_of_the_web_process_masks_and_tags():
    # (pytest's own capturing handlers are not the product's; a NullHandler writes nothing)
    handlers = [
        (name, handler)
        for name, handler in every_handler()
        if not type(handler).__module__.startswith("_pytest")
        and not isinstance(handler, logging.NullHandler)
    ]
    assert handlers, "the web process has handlers"
    for name, handler in handlers:
        kinds = {type(f) for f in handler.filters}
        assert {MaskIdNumbers, RequestId} <= kinds, f"{name}: {handler!r} does not mask"


def test_django_s_own_loggers_have_no_handler_of_their_own():
    # Django's defaults (its console, mail to ADMINS, the development server's) are replaced:
    # their records reach the masked root handler only.
    for name in ("django", "django.server", "django.request"):
        assert logging.getLogger(name).handlers == []


def test_celery_s_handlers_get_the_filters(restore_logging):
    # given a handler as Celery makes it for a worker's --logfile
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("celery.test")
    logger.addHandler(handler)
    logger.propagate = False

    # when Celery says it set up logging
    _protect_celery_log_handlers(logger=logger)
    logger.warning("task for %s", ID)

    # then the line is masked
    assert MASKED in stream.getvalue() and ID not in stream.getvalue()
    logger.removeHandler(handler)


def test_gunicorns_access_log_is_json_and_masks_a_search_by_id_number(capsys, restore_logging):
    # given gunicorn configured from the repository's file
    cfg = Config()
    namespace = {}
    exec((BASE_DIR / "deploy" / "gunicorn.conf.py").read_text(), namespace)
    for key, value in namespace.items():
        if key in cfg.settings:
            cfg.set(key, value)
    log = GunicornLogger(cfg)
    for name in ("gunicorn.access", "gunicorn.error"):
        for handler in logging.getLogger(name).handlers:
            assert {MaskIdNumbers, RequestId} <= {type(f) for f in handler.filters}

    # when it logs a search by a whole ID number
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/admin/replenish/arrearscase/?q={ID}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": f"q={ID}",
        "REMOTE_ADDR": "10.0.0.1",
    }
    response = SimpleNamespace(
        status="200 OK", sent=512, headers=[("X-Request-ID", "abc123")], response_length=512
    )
    request = SimpleNamespace(headers=[])
    log.access(response, request, environ, timedelta(milliseconds=12))
    log.error("worker for %s", ID)

    # then each is one JSON line with the request's id, the number masked
    out = capsys.readouterr()
    access = json.loads(out.out.strip().splitlines()[-1])
    assert access["logger"] == "gunicorn.access"
    assert access["request_id"] == "abc123"
    assert f"?q={MASKED}" in access["message"]
    assert ID not in out.out + out.err


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_a_proxys_is_kept(client):
    mine = client.get("/health/").headers["X-Request-ID"]
    assert len(mine) == 32
    kept = client.get("/health/", HTTP_X_REQUEST_ID="lb-7f3a.42").headers["X-Request-ID"]
    assert kept == "lb-7f3a.42"
    bad = client.get("/health/", HTTP_X_REQUEST_ID="<script>").headers["X-Request-ID"]
    assert bad != "<script>" and len(bad) == 32


# --- the client's address behind proxies, the lockout -----------------------------------------


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy trusted: the header is the client's word
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own entry is not believed
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.1"),  # fewer entries than proxies: the direct peer
        (1, "not-an-address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_the_client_address_is_the_one_the_outermost_trusted_proxy_saw(count, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert client_ip(request) == expected


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXY_COUNT=1)
def test_failed_logins_through_the_proxy_lock_out_that_client_only(client):
    # given a clerk, and every request coming from the proxy's address
    UserFactory(username="clerk")
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    # when someone at 203.0.113.9 fails three times
    for _attempt in range(3):
        response = client.post(
            "/admin/login/",
            {"username": "clerk", "password": "wrong"},
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            **proxy,
        )
    assert response.status_code == 429

    # then the clerk at another address still logs in through the same proxy
    response = client.post(
        "/admin/login/",
        {"username": "clerk", "password": "pw-for-tests"},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **proxy,
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


# --- health ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_health_endpoint_checks_database_cache_and_broker(client):
    response = client.get("/health/?format=json")
    assert response.status_code == 200
    assert response.json() == {
        "Database(alias='default')": "OK",
        "Cache(alias='default')": "OK",
        "Broker": "OK",
    }


@pytest.mark.django_db
def test_the_health_endpoint_fails_when_the_broker_is_unreachable(client, settings, monkeypatch):
    # given a broker nothing listens on
    nowhere = "redis://127.0.0.1:9/0"
    settings.CELERY_BROKER_URL = nowhere
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", nowhere)
    monkeypatch.setattr(app.conf, "broker_url", nowhere)

    response = client.get("/health/?format=json")

    assert response.status_code == 500
    body = response.json()
    assert body["Broker"].startswith("Unavailable: broker unreachable")
    assert body["Database(alias='default')"] == "OK"


# --- check --deploy -------------------------------------------------------------------------


def production_env() -> dict[str, str]:
    lines = (BASE_DIR / "deploy" / "production.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_readme_gives_the_production_settings_of_deploy_production_env():
    readme = (BASE_DIR / "README.md").read_text()
    for key, value in production_env().items():
        assert f"{key}={value}" in readme, f"README lacks {key}={value}"


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_readmes_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        **production_env(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        # the check reads no database: any URL of the right kind will do
        "DATABASE_URL": "postgres://replenish@127.0.0.1:9/replenish",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_every_environment_variable_of_the_settings_and_of_gunicorn_is_in_the_readme():
    readme = (BASE_DIR / "README.md").read_text()
    sources = [BASE_DIR / "config" / "settings.py", BASE_DIR / "deploy" / "gunicorn.conf.py"]
    names = {
        name
        for source in sources
        for name in re.findall(
            r'(?:env(?:\.\w+)?|os\.environ\.get|os\.environ)[(\[]"([A-Z_]+)"', source.read_text()
        )
    }
    assert len(names) > 40
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"not in the README: {missing}"


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_connections_run_without_jit():
    # the product's statements are short: PostgreSQL's JIT compiled plans for longer than they ran
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
