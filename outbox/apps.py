from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Outgoing e-mail")

    def ready(self) -> None:
        # Register the Celery tasks in every process (web, worker, commands): services find
        # their task by name in the app's registry rather than import the module that imports them.
        from . import tasks  # noqa: F401
