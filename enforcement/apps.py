from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnforcementConfig(AppConfig):
    name = "enforcement"
    verbose_name = _("Enforcement")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from enforcement.reasons import ENFORCEMENT_REASONS
        from enforcement.reminder_sources import register_sources
        from replenish.reasons import reasons_register

        register_sources()
        reasons_register(ENFORCEMENT_REASONS)
