"""The portal's two languages: Chinese first, English for everything else."""
from django.conf import settings
from django.utils import translation


def is_chinese(language: str | None = None) -> bool:
    """Whether ``language`` (by default the active one) is Chinese."""
    return (language or translation.get_language() or settings.LANGUAGE_CODE).lower().startswith("zh")


def pick(item, name: str, language: str | None = None):
    """``item.<name>_zh`` or ``item.<name>_en`` (keys for a dict) in ``language``, by default the active one."""
    key = f"{name}_{'zh' if is_chinese(language) else 'en'}"
    if isinstance(item, dict):
        return item.get(key, "")
    return getattr(item, key, "")
