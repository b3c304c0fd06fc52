"""Settings, all read from the environment (see README, "Configuration").

With nothing set the product runs on an embedded SQLite file with Celery tasks executed
in-process, so a fresh machine needs no server. DATABASE_URL and CELERY_BROKER_URL switch to
PostgreSQL and Redis.
"""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-not-for-production")
else:
    # Required: a production deployment must never fall back to a key that is in the source.
    SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_fsm",
    "axes",
    "django_celery_beat",
    "health_check",
    "kernel",
    "units",
    "replenish",
    "notices",
    "enforcement",
    "portal",
    "backoffice",
    "operations",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    # First: every log line of a request, and its response, carries the request's id.
    "operations.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading a signed-in user with their portal membership.
    "units.backends.UserAndMembershipBackend",
]
# Login lockout (django-axes): after AXES_FAILURE_LIMIT failed logins for one user name from one
# address, that pair is locked for AXES_COOLOFF_MINUTES; a successful login resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind reverse proxies the address is the client's, read from the header the trusted proxies
# write (kernel/proxy.py), so one proxy's address never locks a user out for everyone.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="HTTP_X_FORWARDED_FOR")
AXES_CLIENT_IP_CALLABLE = "kernel.proxy.client_ip"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Persistent connections (seconds; 0 closes each at the end of its request), checked before
# reuse so a connection the database dropped is replaced instead of failing a request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool(
    "DATABASE_JIT", default=False
):
    # PostgreSQL's JIT compiles a plan whose estimated cost passes `jit_above_cost`: 27 ms of a
    # 65 ms count in the daily run (stale estimates of thousands of rows where none were), and
    # the arrivals import's matching. The product's statements are short; without JIT.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; the timeout waits for the writer's lock
    # instead of failing at once. Transactions take the write lock when they begin (IMMEDIATE):
    # a transaction that read first and then wrote could not wait for it, and failed with
    # "database is locked" when the worker and the web process wrote at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names (WhiteNoise) need `collectstatic`; the development server and
    # the test suite serve the files from the apps as they are.
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
if not DEBUG:
    # Static files from STATIC_ROOT (collectstatic), compressed and cached for ever by their
    # hashed names; right after SecurityMiddleware, as WhiteNoise asks. (`runserver` serves
    # them itself in DEBUG.)
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # The back office: cookies never readable by scripts or sent cross-site, the session ends
    # with the browser, pages never framed.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    CSRF_COOKIE_HTTPONLY = True
    CSRF_COOKIE_SAMESITE = "Lax"
    SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
    SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
    X_FRAME_OPTIONS = "DENY"
    SECURE_REFERRER_POLICY = "same-origin"
    # HTTPS, when a proxy terminates it: the header it sets on HTTPS requests
    # (`HTTP_X_FORWARDED_PROTO,https`), the redirect of plain HTTP (never of the load
    # balancer's health probe) and Strict-Transport-Security.
    _proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
    if _proxy_ssl_header:
        SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# Celery: without a broker, tasks run in-process (eager), so the embedded default needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Publishing a task from a staff action (after its commit) gives up quickly when the broker is
# down: one connection attempt of at most CELERY_PUBLISH_TIMEOUT seconds, then
# CELERY_PUBLISH_MAX_RETRIES more after 0.1 s; the rows it would have queued wait for the
# periodic sweep (notices.notifications). Kombu's defaults waited 6.5 s per action.
CELERY_PUBLISH_TIMEOUT = env.float("CELERY_PUBLISH_TIMEOUT", default=0.5)
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_PUBLISH_TIMEOUT
# After a failed publish, the actions of this many seconds leave their messages to the sweep
# without trying the broker (so ten notices issued with the broker down cost one timeout).
CELERY_PUBLISH_PAUSE = env.float("CELERY_PUBLISH_PAUSE", default=30)
PUBLISH_RETRY_POLICY = {
    "max_retries": env.int("CELERY_PUBLISH_MAX_RETRIES", default=1),
    "interval_start": 0.1,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker of `make run`: messages are files in a folder, no server to install.
    CELERY_FILESYSTEM_DIR = env.path(
        "CELERY_FILESYSTEM_DIR", default=str(BASE_DIR / "var" / "celery")
    )
    for sub in ("queue", "processed"):
        (Path(CELERY_FILESYSTEM_DIR) / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(Path(CELERY_FILESYSTEM_DIR) / "queue"),
        "data_folder_out": str(Path(CELERY_FILESYSTEM_DIR) / "queue"),
        "processed_folder": str(Path(CELERY_FILESYSTEM_DIR) / "processed"),
        "control_folder": str(Path(CELERY_FILESYSTEM_DIR) / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A task whose worker died (acks_late) is handed out again after this many seconds; workers
    # look for such tasks every 10 seconds (or as often as the timeout, if shorter).
    _visibility = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility,
        "unacked_restore_interval": min(10, _visibility),
        "unacked_restore_throttle": 1,
        **PUBLISH_RETRY_POLICY,
        "socket_connect_timeout": CELERY_PUBLISH_TIMEOUT,
    }
# The schedules live in the database (django-celery-beat), created by a data migration with
# these defaults and editable by staff in the admin ("Periodic tasks").
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DAILY_RUN_HOUR = env.int("DAILY_RUN_HOUR", default=1)
DAILY_RUN_MINUTE = env.int("DAILY_RUN_MINUTE", default=0)

# Money and workflow policy (docs/rules.md, "Money rules"): each rule is a setting, this default.
LATE_FEE_CAP_AT_PRINCIPAL = env.bool("LATE_FEE_CAP_AT_PRINCIPAL", default=False)
# A write-off of more than this (yuan) needs two different approvers in audit.
WRITEOFF_DUAL_APPROVAL_ABOVE = Decimal(env.str("WRITEOFF_DUAL_APPROVAL_ABOVE", default="100000.00"))
NOTICE_DEADLINE_WORKING_DAYS = env.int("NOTICE_DEADLINE_WORKING_DAYS", default=5)
# An arrears file larger than this (bytes; about 100 a line) is previewed and imported by a
# worker, the page showing its progress; a smaller one within the page request.
ARREARS_IMPORT_INLINE_BYTES = env.int("ARREARS_IMPORT_INLINE_BYTES", default=2_000_000)
# An issued notice not delivered after this many working days is in collection's queue.
NOTICE_UNDELIVERED_WORKING_DAYS = env.int("NOTICE_UNDELIVERED_WORKING_DAYS", default=5)
INSTALLMENT_MAX_MONTHS = env.int("INSTALLMENT_MAX_MONTHS", default=12)
INSTALLMENT_GRACE_DAYS = env.int("INSTALLMENT_GRACE_DAYS", default=15)
BULK_BATCH_SIZE = env.int("BULK_BATCH_SIZE", default=1000)
# A unit's overpayment credit pays its open arrears at the next adjustment (off: only when a
# collection clerk offsets it); a refund of more than this (yuan) needs two different approvers.
CREDIT_OFFSET_AUTOMATIC = env.bool("CREDIT_OFFSET_AUTOMATIC", default=True)
CREDIT_REFUND_SECOND_APPROVAL_ABOVE = Decimal(
    env.str("CREDIT_REFUND_SECOND_APPROVAL_ABOVE", default="10000.00")
)

# What input is accepted (README, "Input limits"): a date before EARLIEST_DATE is refused by
# every file, form and the API; an upload larger than its limit is refused before it is stored.
EARLIEST_DATE = date.fromisoformat(env.str("EARLIEST_DATE", default="2000-01-01"))
IMPORT_FILE_MAX_BYTES = env.int("IMPORT_FILE_MAX_BYTES", default=200 * 1024 * 1024)
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Stored documents are served by replenish.documents_serving after its check: streamed by Django
# (empty), or handed to the proxy with X-Accel-Redirect (nginx: DOCUMENTS_INTERNAL_URL is an
# `internal` location aliased to MEDIA_ROOT) or X-Sendfile (Apache, lighttpd).
DOCUMENTS_SERVED_BY = env.str("DOCUMENTS_SERVED_BY", default="")
if DOCUMENTS_SERVED_BY not in ("", "x-accel-redirect", "x-sendfile"):
    raise ValueError("DOCUMENTS_SERVED_BY is empty, x-accel-redirect or x-sendfile")
DOCUMENTS_INTERNAL_URL = env.str("DOCUMENTS_INTERNAL_URL", default="/protected-media/")
# A request body that is not a file upload (the API's JSON, a form): Django refuses a larger one.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)

AGENCY_NAME = env.str("AGENCY_NAME", default="医疗保障事务中心")
AGENCY_CONTACT = env.str("AGENCY_CONTACT", default="12393")
AGENCY_ADDRESS = env.str("AGENCY_ADDRESS", default="")
# Enforcement (issue 18): the periods the law leaves to the agency, in working days, and who the
# transfer decisions are requested from.
ENFORCEMENT_BANK_REPLY_WORKING_DAYS = env.int("ENFORCEMENT_BANK_REPLY_WORKING_DAYS", default=5)
ENFORCEMENT_GUARANTEE_WORKING_DAYS = env.int("ENFORCEMENT_GUARANTEE_WORKING_DAYS", default=10)
ENFORCEMENT_DECISION_DEPARTMENT = env.str("ENFORCEMENT_DECISION_DEPARTMENT", default="医疗保障局")
# The account units pay into by bank transfer (户名, 开户行, 账号), printed on notices, agreements
# and claim statements; and the bodies a unit may appeal a notice to (administrative
# reconsideration within 60 days, a lawsuit within 6 months), printed on notices.
PAYEE_NAME = env.str("PAYEE_NAME", default="医疗保障事务中心基本医疗保险基金收入户")
PAYEE_BANK = env.str("PAYEE_BANK", default="中国工商银行股份有限公司营业部")
PAYEE_ACCOUNT = env.str("PAYEE_ACCOUNT", default="0200 0000 0000 0000 000")
APPEAL_RECONSIDERATION_BODY = env.str("APPEAL_RECONSIDERATION_BODY", default="本级人民政府")
APPEAL_COURT = env.str("APPEAL_COURT", default="本中心所在地有管辖权的人民法院")

# The portal's password reset by a code sent to the unit's registered e-mail or mobile.
PASSWORD_RESET_CODE_MINUTES = env.int("PASSWORD_RESET_CODE_MINUTES", default=15)
PASSWORD_RESET_MAX_ATTEMPTS = env.int("PASSWORD_RESET_MAX_ATTEMPTS", default=5)
PASSWORD_RESET_PER_HOUR = env.int("PASSWORD_RESET_PER_HOUR", default=3)

# Notices, notifications and reminders (notices/).
NOTICE_SEND_CHANNELS = env.list("NOTICE_SEND_CHANNELS", default=["portal", "email", "sms"])
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
NOTIFICATION_REQUEUE_MINUTES = env.int("NOTIFICATION_REQUEUE_MINUTES", default=10)
REMINDER_SEND_HOUR = env.int("REMINDER_SEND_HOUR", default=9)
SMS_BACKEND = env.str("SMS_BACKEND", default="notices.sms.ConsoleSmsBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / "var" / "sms.jsonl"))
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@ybj.example")
# A CJK TrueType font to embed in PDFs ("auto": the first one installed; "cid": none, use the
# STSong-Light CID font every PDF reader has).
PDF_CJK_FONT = env.str("PDF_CJK_FONT", default="auto")

# Shared cache (Redis in production: `redis://host:6379/1`): the API's rate limits and the
# login lockout are counted there, so they hold across every web process.
CACHE_URL = env.str("CACHE_URL", default="")
CACHES = {"default": env.cache_url_config(CACHE_URL or "locmemcache://")}
if CACHE_URL:
    AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    # Sessions read from the shared cache and written through to the database (which keeps them
    # if the cache is emptied): a signed-in page does not ask the database for its session.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Logs (operations/logs.py): JSON, one object a line with the request id (`LOG_FORMAT=json`, the
# default when DEBUG is off), or plain text; every handler masks citizen ID numbers.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
_log_handler = {
    "class": "logging.StreamHandler",
    "formatter": LOG_FORMAT,
    "filters": ["request_id", "mask_id_numbers"],
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "operations.logs.RequestId"},
        "mask_id_numbers": {"()": "operations.logs.MaskIdNumbers"},
    },
    "formatters": {
        "json": {"()": "operations.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
    },
    "handlers": {"console": _log_handler},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own handlers (its console, mail to ADMINS, the development server's) are
        # replaced: every record goes to the one masked handler above.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # django-axes logs its start-up at INFO in every process; keep it for warnings.
        "axes": {"level": "WARNING"},
    },
}

# Inquiry API (api/): token credentials (knox, stored hashed, expiring: a unit's portal user, or
# a service user: the finance system, the core contribution system, a city-service front end).
# Rate limits per credential, counted in the default cache (CACHE_URL: shared by every web
# process).
API_RATE_UNIT = env.str("API_RATE_UNIT", default="120/min")
API_RATE_FINANCE = env.str("API_RATE_FINANCE", default="600/min")
API_RATE_CORE = env.str("API_RATE_CORE", default="60/min")
API_RATE_FRONT_END = env.str("API_RATE_FRONT_END", default="600/min")
API_RATE_PERSON = env.str("API_RATE_PERSON", default="30/hour")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ThrottledTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONBodyParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "unit": API_RATE_UNIT,
        "finance": API_RATE_FINANCE,
        "core": API_RATE_CORE,
        "front_end": API_RATE_FRONT_END,
        "person": API_RATE_PERSON,
    },
    "EXCEPTION_HANDLER": "api.errors.handle",
    # The client address the rate limits count by: REMOTE_ADDR (0), or the address that many
    # proxies before this server wrote in X-Forwarded-For (never the client's own claim).
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=TRUSTED_PROXY_COUNT),
}
# Credentials: knox tokens, stored hashed, each valid API_TOKEN_DAYS (api/authentication.py).
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=365)
API_FAILED_AUTH_RATE = env.str("API_FAILED_AUTH_RATE", default="10/min")
REST_KNOX = {"TOKEN_TTL": timedelta(days=API_TOKEN_DAYS), "AUTH_HEADER_PREFIX": "Token"}
SPECTACULAR_SETTINGS = {
    "TITLE": "欠费补缴查询接口 (arrears inquiry API)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The interactive docs' assets are served from this server (no CDN on a closed network).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents its error answers (api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_errors",
    ],
}
