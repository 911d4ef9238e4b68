"""Password rules beyond Django's validators."""
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


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
