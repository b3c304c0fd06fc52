import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger
from django.conf import settings

from operations.logs import protect_handler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("replenish")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _protect_celery_log_handlers(logger, **kwargs):
    """The handlers Celery makes for the worker's and beat's logs (`--logfile`) mask ID numbers
    and write the configured format, as every handler of LOGGING does."""
    for handler in logger.handlers:
        protect_handler(handler, json=settings.LOG_FORMAT == "json")
