from django.apps import AppConfig
from django.core.checks import register
from django.utils.translation import gettext_lazy as _


class IndicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "indices"
    verbose_name = _("Index results")

    def ready(self):
        from indices import (
            receivers,  # noqa: F401  connects them; in ready(): they import models
            tasks,  # noqa: F401  registers the tasks in every process, so the outbox finds them
        )
        from indices.reports.checks import report_dependencies_check  # in ready(): imports models

        register(report_dependencies_check, "indices")
