"""Settings, all read from the environment (see README, "Configuration").

With nothing set the product runs on an embedded SQLite file with Celery tasks executed
in-process, so a fresh machine needs no server. DATABASE_URL and CELERY_BROKER_URL switch to
PostgreSQL and Redis.
"""

from datetime import timedelta
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
    "units",
    "replenish",
    "notices",
    "portal",
    "backoffice",
    "operations",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
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
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout (django-axes): after AXES_FAILURE_LIMIT failed logins for one user name from one
# address, that pair is locked for AXES_COOLOFF_MINUTES; a successful login resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
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

# Celery: without a broker, tasks run in-process (eager), so the embedded default needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
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
    }
# The schedules live in the database (django-celery-beat), created by a data migration with
# these defaults and editable by staff in the admin ("Periodic tasks").
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DAILY_RUN_HOUR = env.int("DAILY_RUN_HOUR", default=1)
DAILY_RUN_MINUTE = env.int("DAILY_RUN_MINUTE", default=0)

# Money and workflow policy (DESIGN.md, "Money rules"): each rule is a setting with this default.
LATE_FEE_CAP_AT_PRINCIPAL = env.bool("LATE_FEE_CAP_AT_PRINCIPAL", default=False)
# A write-off of more than this (yuan) needs two different approvers in audit.
WRITEOFF_DUAL_APPROVAL_ABOVE = Decimal(env.str("WRITEOFF_DUAL_APPROVAL_ABOVE", default="100000.00"))
NOTICE_DEADLINE_WORKING_DAYS = env.int("NOTICE_DEADLINE_WORKING_DAYS", default=5)
INSTALLMENT_MAX_MONTHS = env.int("INSTALLMENT_MAX_MONTHS", default=12)
INSTALLMENT_GRACE_DAYS = env.int("INSTALLMENT_GRACE_DAYS", default=15)
BULK_BATCH_SIZE = env.int("BULK_BATCH_SIZE", default=1000)
# A unit's overpayment credit pays its open arrears at the next adjustment (off: only when a
# collection clerk offsets it); a refund of more than this (yuan) needs two different approvers.
CREDIT_OFFSET_AUTOMATIC = env.bool("CREDIT_OFFSET_AUTOMATIC", default=True)
CREDIT_REFUND_SECOND_APPROVAL_ABOVE = Decimal(
    env.str("CREDIT_REFUND_SECOND_APPROVAL_ABOVE", default="10000.00")
)

AGENCY_NAME = env.str("AGENCY_NAME", default="医疗保障事务中心")
AGENCY_CONTACT = env.str("AGENCY_CONTACT", default="12393")
AGENCY_ADDRESS = env.str("AGENCY_ADDRESS", default="")

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs its start-up at INFO in every process; keep it for warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Inquiry API (api/): token credentials (DRF's Token, one per user: a unit's portal user, or the
# finance system's service user in the finance group). Rate limits per credential, counted in the
# default cache (per process unless CACHES names a shared cache).
API_RATE_UNIT = env.str("API_RATE_UNIT", default="120/min")
API_RATE_FINANCE = env.str("API_RATE_FINANCE", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"unit": API_RATE_UNIT, "finance": API_RATE_FINANCE},
    "EXCEPTION_HANDLER": "api.errors.handle",
}
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
}
