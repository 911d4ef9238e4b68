"""Services of the audit trail: appending an event (every app that records one calls this), and checking
the chain of hashes that makes the trail tamper-evident."""
import contextvars
import dataclasses
import json
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone, translation

from audit.models import GENESIS_HASH, AuditEvent

# Any fixed number: the PostgreSQL advisory lock that orders writers of the chain (held to their commit).
CHAIN_LOCK_KEY = 0x43434649  # "CCFI"
USER_AGENT_LENGTH = AuditEvent._meta.get_field("user_agent").max_length


@dataclasses.dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    user_agent: str


# Set for each request by audit.middleware.AuditMiddleware, so that every event recorded while it runs
# carries its address and user agent without each caller passing them.
current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("audit_request",
                                                                                          default=None)


def client_ip(request) -> str | None:
    """The address a request came from, for the audit trail (set REMOTE_ADDR behind a proxy)."""
    return request.META.get("REMOTE_ADDR") if request is not None else None


def request_context(request) -> RequestContext:
    return RequestContext(ip_address=client_ip(request),
                          user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH])


def _ip(value: str | None) -> str | None:
    try:
        return AuditEvent._meta.get_field("ip_address").to_python(value) or None
    except ValidationError:
        return None


def _city_id(obj, actor) -> int | None:
    for candidate in (obj, actor):
        city_id = getattr(candidate, "city_id", None)
        if city_id is not None:
            return city_id
    return None


def _chain_lock() -> None:
    """Writers of the chain one at a time. SQLite has one writer anyway (IMMEDIATE transactions)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def audit_record(
    *,
    actor,
    event_type: str,
    obj: models.Model | None = None,
    success: bool = True,
    details: dict | None = None,
    ip_address: str | None = None,
    city_id: int | None = None,
) -> AuditEvent:
    """Append one audit event; call it inside the transaction of the change it records.

    The address and user agent default to those of the request being served. The event is chained to the
    last one under a lock held until the caller's transaction commits."""
    actor = actor if actor is not None and actor.is_authenticated else None
    context = current_request.get()
    # The stored text does not depend on the language of whoever caused the event: the portal's own.
    with translation.override(settings.LANGUAGE_CODE):
        object_repr = str(obj)[:200] if obj is not None else ""
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor,
        event_type=event_type,
        success=success,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=object_repr,
        city_id=city_id if city_id is not None else _city_id(obj, actor),
        ip_address=_ip(ip_address or (context.ip_address if context else None)),
        user_agent=context.user_agent if context else "",
        # Stored as read back: what the hash covers is what verify_audit will read.
        details=json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder)),
    )
    with transaction.atomic():
        _chain_lock()
        last = AuditEvent.objects.filter(sequence__isnull=False).order_by("-sequence").values_list(
            "sequence", "record_hash").first()
        event.sequence, event.previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event.record_hash = event.compute_hash()
        event.save(force_insert=True)
    return event


@dataclasses.dataclass(frozen=True)
class BrokenLink:
    event_id: int
    sequence: int | None
    reason: str


def audit_chain_verify() -> Iterator[BrokenLink]:
    """Each record in chain order: its number follows the last, it names the last's hash, and its own hash
    matches its content. Yields every break (the first is where tampering starts)."""
    expected_sequence, expected_previous = 1, GENESIS_HASH
    unchained = AuditEvent.objects.filter(sequence__isnull=True).values_list("pk", flat=True)
    for pk in unchained.order_by("pk")[:1]:
        yield BrokenLink(pk, None, "record outside the chain")
    for event in AuditEvent.objects.filter(sequence__isnull=False).order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            yield BrokenLink(event.pk, event.sequence,
                             f"sequence {event.sequence} where {expected_sequence} was expected (records missing)")
        elif event.previous_hash != expected_previous:
            yield BrokenLink(event.pk, event.sequence, "previous hash does not match the previous record")
        elif event.record_hash != event.compute_hash():
            yield BrokenLink(event.pk, event.sequence, "content does not match the record's hash (changed)")
        expected_sequence, expected_previous = event.sequence + 1, event.record_hash
