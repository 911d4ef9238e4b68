"""Cells of an exported spreadsheet or CSV (returns, import reports, the audit trail): text a spreadsheet
would run as a formula is escaped (ASVS 1.2.10). Under every app, which all export."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def escape_formula(value):
    """A text cell a spreadsheet would evaluate gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
