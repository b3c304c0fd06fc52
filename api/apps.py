from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Inquiry API")

    def ready(self) -> None:
        import api.schema  # noqa: F401  (registers the credential's OpenAPI description)
