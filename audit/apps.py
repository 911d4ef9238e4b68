from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _guard_after_migrate(sender, using="default", **kwargs):
    """The trail's database guard after every migrate and flush (audit.guard: a copied table loses it)."""
    from audit.guard import guard_install

    guard_install(connections[using])


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from audit import signals  # noqa: F401  (connects the receivers; they import models)

        post_migrate.connect(_guard_after_migrate, sender=self, dispatch_uid="audit_guard")
