from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "indices"
    verbose_name = _("Index results")

    def ready(self):
        from django.core.checks import register

        from indices import receivers  # noqa: F401  (connects them; they import models)
        from indices.reports.checks import report_dependencies_check

        register(report_dependencies_check, "indices")
