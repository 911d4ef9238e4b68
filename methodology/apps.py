from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MethodologyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "methodology"
    verbose_name = _("Index methodology")
