from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """The staff back office: the Django admin's screens of every app (`backoffice.admin`)."""

    name = "backoffice"
    verbose_name = _("Back office")
