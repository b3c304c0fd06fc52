from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReplenishConfig(AppConfig):
    name = "replenish"
    verbose_name = _("Arrears replenishment")

    def ready(self) -> None:
        from replenish.documents_serving import register_documents
        from replenish.reminder_sources import register_sources

        register_sources()
        register_documents()
