from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DasConfig(AppConfig):
    name = "das"
    verbose_name = _("Strategic areas")
