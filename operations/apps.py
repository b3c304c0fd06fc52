from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """What runs the product day to day: the daily run, its scheduled task, the demo data."""

    name = "operations"
    verbose_name = _("Operations")
