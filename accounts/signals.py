"""What a login starts (the session's absolute lifetime and the password's expiry moment), and what a change
to a city invalidates (the cached published reads name cities)."""
import time

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.middleware import PASSWORD_EXPIRES_KEY, SESSION_STARTED_KEY
from accounts.models import City
from accounts.selectors import user_password_expires_at
from ccfi_portal.cache import published_changed


@receiver(user_logged_in, dispatch_uid="session_started")
def session_started(sender, request, user, **kwargs):
    """Where the session's absolute lifetime counts from, and when the password expires (both checked by
    accounts.middleware on every request, without a query)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = time.time()
        expires_at = user_password_expires_at(user)
        if expires_at is not None:  # what PasswordExpiryMiddleware compares with, read once per login
            request.session[PASSWORD_EXPIRES_KEY] = expires_at.timestamp()


@receiver(post_save, sender=City, dispatch_uid="city_saved_published_changed")
@receiver(post_delete, sender=City, dispatch_uid="city_deleted_published_changed")
def city_changed(sender, **kwargs):
    """A city added, renamed or deleted: the cached rankings, profiles and city list name it."""
    published_changed()
