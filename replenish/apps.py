from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReplenishConfig(AppConfig):
    name = "replenish"
    verbose_name = _("Arrears replenishment")
