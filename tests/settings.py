"""Settings for the test suite: the product's settings, with test-only speed-ups.

DATABASE_URL and CELERY_BROKER_URL select PostgreSQL and Redis exactly as in production.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-suite-only")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
SMS_BACKEND = "notices.sms.LocmemSmsBackend"
SMS_FILE_PATH = str(BASE_DIR / "var" / "test-sms.jsonl")  # noqa: F405
