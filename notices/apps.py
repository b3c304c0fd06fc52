from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notices")

    def ready(self) -> None:
        # The reminder sources and the workflow's messages read the workflow's models, so they
        # register once the app registry is ready (Django's rule for model imports). The tasks
        # register too, in every process, so that the outbox can publish them by name.
        from notices import tasks  # noqa: F401
        from notices.reminder_sources import register_sources
        from notices.workflow_messages import listen_to_the_workflow

        register_sources()
        listen_to_the_workflow()
