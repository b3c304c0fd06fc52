from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Unit portal")

    def ready(self) -> None:
        from portal.documents import register_member_documents

        register_member_documents()
