"""Errors and warnings of the engine, as message templates the Django layer can translate."""
from __future__ import annotations

from dataclasses import dataclass, field

from indices.engine.spec import N_


class EngineError(ValueError):
    """A run that cannot produce honest scores; the message names what to fix.

    ``message`` is a template marked for translation and ``params`` fills it, so the portal can show
    it in Chinese; ``node``, ``unit`` and ``indicator`` say where the problem is, when it is in one place.
    """

    def __init__(self, message: str, params: dict | None = None, *, node: str | None = None,
                 unit: str | None = None, indicator: str | None = None):
        self.message = message
        self.params = dict(params or {})
        self.node = node
        self.unit = unit
        self.indicator = indicator
        super().__init__(self.render())

    def render(self, translate=lambda message: message) -> str:
        text = translate(self.message)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class EngineWarning:
    """Something a methodologist should know about a run that still produced scores."""

    message: str
    params: dict = field(default_factory=dict)

    def render(self, translate=lambda message: message) -> str:
        text = translate(self.message)
        return text % self.params if self.params else text


NON_POSITIVE_AGGREGATION = N_(
    "the %(method)s mean of node %(node)s needs positive values, but %(unit)s has %(child)s = %(value)s; "
    "normalise onto 1–100 or use the arithmetic mean"
)
NON_POSITIVE_LOG = N_("indicator %(indicator)s is log-transformed, but %(unit)s has the non-positive value %(value)s")
NON_POSITIVE_RATIO = N_(
    "%(method)s normalisation of indicator %(indicator)s needs positive values, but %(unit)s has %(value)s"
)
