from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        # Register the Celery tasks in every process (web, worker, commands): services find
        # their task by name in the app's registry rather than import the module that imports them.
        from . import tasks  # noqa: F401
