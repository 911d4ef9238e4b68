from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = _("Cities and reporting")

    def ready(self):
        from reporting import signals  # noqa: F401  (connects the audit receivers)
        from reporting.roles import roles_sync

        # After indices too, so that every permission the roles name exists.
        post_migrate.connect(roles_sync, sender=self.apps.get_app_config("indices"), dispatch_uid="roles_sync")
