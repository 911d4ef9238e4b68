"""Password rules beyond Django's validators."""
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from accounts.models import PasswordRecord


class CharacterClassesValidator:
    """等保 level 3 asks for complex passwords: at least ``min_classes`` of lower-case letters, upper-case
    letters, digits and other characters (punctuation, spaces, Chinese characters). ASVS 6.2.5 advises
    against composition rules; the national standard wins here (see README, Security)."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        classes = (any(c.islower() for c in password) + any(c.isupper() for c in password)
                   + any(c.isdigit() for c in password)
                   + any(not (c.islower() or c.isupper() or c.isdigit()) for c in password))
        if classes < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must mix at least %(count)d kind of character: lower-case letters, upper-case "
            "letters, digits, other characters.",
            "Your password must mix at least %(count)d kinds of character: lower-case letters, upper-case "
            "letters, digits, other characters.",
            self.min_classes,
        ) % {"count": self.min_classes}


class PasswordHistoryValidator:
    """等保 level 3: a new password must differ from the user's last ``remember`` passwords (the current
    one included; an account whose password was never changed has only its current one on record).
    Django calls ``password_changed`` once a user is saved with a new password: the hash is recorded
    there, which also dates the password for the expiry rule (accounts.selectors.user_password_expired)."""

    def __init__(self, remember: int = 5):
        self.remember = remember

    def validate(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        recent = list(PasswordRecord.objects.filter(user=user).values_list("password", flat=True)[:self.remember])
        # The current hash is usually the newest record too: check each hash once (each check is slow).
        hashes = dict.fromkeys(encoded for encoded in [user.password, *recent] if encoded)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(self.get_help_text(), code="password_reused")

    def password_changed(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        PasswordRecord.objects.create(user=user, password=user.password)
        stale = list(PasswordRecord.objects.filter(user=user).values_list("pk", flat=True)[self.remember:])
        PasswordRecord.objects.filter(pk__in=stale).delete()

    def get_help_text(self) -> str:
        return ngettext("Your password must differ from your last %(count)d password.",
                        "Your password must differ from your last %(count)d passwords.",
                        self.remember) % {"count": self.remember}
