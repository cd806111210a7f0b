from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Committee meetings")

    def ready(self) -> None:
        # Register the Celery tasks in every process (web, worker, commands), like the outbox.
        from . import tasks  # noqa: F401
