from django.apps import AppConfig

from kernel import lookups


class KernelConfig(AppConfig):
    """The kernel has no models; as an app it registers, at start-up, what every query uses
    (`kernel.lookups`)."""

    name = "kernel"

    def ready(self) -> None:
        lookups.register()
