"""The outbox's backlog for /metrics, computed at each scrape (ccfi_portal.observability)."""
from __future__ import annotations

import logging

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from indices.models import UNFINISHED_WORK, WorkRequest
from indices.outbox import oldest_pending_age

logger = logging.getLogger(__name__)


class OutboxCollector:
    """``ccfi_outbox_unfinished{state}``: work requests pending, queued or running; ``ccfi_outbox_oldest_
    unfinished_age_seconds``: how long ago the oldest of them was made (0 when there is none). A database that
    does not answer leaves both out of the scrape (and /readyz says why)."""

    def collect(self):
        try:
            counts = dict(WorkRequest.objects.filter(state__in=UNFINISHED_WORK).values_list("state")
                          .annotate(n=Count("id")).values_list("state", "n"))
            age = oldest_pending_age()
        except DatabaseError as error:
            logger.warning("Outbox metrics unavailable: %s", type(error).__name__)
            return
        unfinished = GaugeMetricFamily("ccfi_outbox_unfinished", "Unfinished work requests of the outbox, by state",
                                       labels=["state"])
        for state in UNFINISHED_WORK:
            unfinished.add_metric([str(state)], counts.get(state, 0))
        yield unfinished
        yield GaugeMetricFamily("ccfi_outbox_oldest_unfinished_age_seconds",
                                "Seconds since the oldest unfinished work request was made (0: none)", value=age or 0)
