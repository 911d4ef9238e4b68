from django.apps import AppConfig
from django.core.checks import register
from django.utils.translation import gettext_lazy as _


class IndicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "indices"
    verbose_name = _("Index results")

    def ready(self):
        from ccfi_portal.health import check_register
        from ccfi_portal.observability import metrics_collector_register
        from indices import (
            receivers,  # noqa: F401  connects them; in ready(): they import models
            tasks,  # noqa: F401  registers the tasks in every process, so the outbox finds them
        )
        from indices.metrics import OutboxCollector  # in ready(): imports models
        from indices.outbox import outbox_health_check  # in ready(): imports models
        from indices.reports.checks import (  # in ready(): imports models
            cjk_font_doctor_check,
            harfbuzz_doctor_check,
            report_dependencies_check,
        )

        register(report_dependencies_check, "indices")
        check_register("outbox", outbox_health_check)
        metrics_collector_register(OutboxCollector())
        check_register("cjk_font", cjk_font_doctor_check, readiness=False)
        check_register("harfbuzz_subset", harfbuzz_doctor_check, readiness=False)
