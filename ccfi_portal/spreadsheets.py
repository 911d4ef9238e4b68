"""Cells of an exported spreadsheet or CSV (returns, import reports, the audit trail): text a spreadsheet
would run as a formula is escaped (ASVS 1.2.10). Under every app, which all export."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def escape_formula(value):
    """A text cell a spreadsheet would evaluate gets a leading apostrophe; numbers stay numbers.

    Text that already starts with apostrophes before such a character gets one more, so that
    ``unescape_formula`` gives back exactly what was exported (a template re-imported unchanged
    changes nothing)."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unescape_formula(value):
    """The text ``escape_formula`` was given."""
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(FORMULA_PREFIXES):
        return value[1:]
    return value
