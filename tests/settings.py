"""Settings for the test suite: the product's settings, with test-only speed-ups.

DATABASE_URL and CELERY_BROKER_URL select PostgreSQL and Redis exactly as in production.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-suite-only")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Each test's connections end with it (threads of the concurrency tests open their own).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The apps' files as they are, without collectstatic's manifest.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
STATIC_ROOT = None  # nothing collected: WhiteNoise serves nothing and says nothing of it
WHITENOISE_USE_FINDERS = True  # the pages' files from the apps, as runserver would
SMS_BACKEND = "notices.sms.LocmemSmsBackend"
SMS_FILE_PATH = str(BASE_DIR / "var" / "test-sms.jsonl")  # noqa: F405

# On SQLite the live server's threads share the test's in-memory database: one request at a time
# (tests/one_request_at_a_time.py).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    MIDDLEWARE = ["tests.one_request_at_a_time.one_request_at_a_time", *MIDDLEWARE]  # noqa: F405
