from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReplenishConfig(AppConfig):
    name = "replenish"
    verbose_name = _("Arrears replenishment")

    def ready(self) -> None:
        # The stored documents' kinds name the models that hold them: registered once the app
        # registry is ready (Django's rule for model imports). The tasks register too, in every
        # process, so that the import jobs can publish them by name.
        from replenish import tasks  # noqa: F401
        from replenish.documents_serving import register_documents

        register_documents()
