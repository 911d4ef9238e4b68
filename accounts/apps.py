from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Cities and accounts")

    def ready(self):
        # Imported here: signal receivers and the role table read models, which exist only once apps are ready.
        from accounts import signals  # noqa: F401
        from accounts.permissions import roles_sync

        post_migrate.connect(roles_sync, dispatch_uid="roles_sync")
