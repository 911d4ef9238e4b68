"""What a form, an import row or an API call asks to store for one value: plain data shared by the
services and the import resource (which must not import the services, as the services use it)."""
from __future__ import annotations

from dataclasses import dataclass

KEEP = object()  # a field the input does not touch


@dataclass
class ValueEntry:
    """What was entered for one value; fields left as KEEP are not changed."""

    value: object = KEEP
    observation_status: object = KEEP
    source_note: object = KEEP
    explanation: object = KEEP
