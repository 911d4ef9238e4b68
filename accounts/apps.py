from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Cities and accounts")

    def ready(self):
        # Imported here: the receivers and the role table import models, which exist only once apps are ready.
        from accounts import signals  # noqa: F401  connects the receivers
        from accounts.labels import install as labels_install
        from accounts.permissions import roles_sync  # imports the models

        labels_install()

        post_migrate.connect(roles_sync, dispatch_uid="roles_sync")
