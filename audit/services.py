"""Services of the audit trail: appending an event (every app that records one calls this), and the
chain of hashes that makes the trail tamper-evident: extending it after each commit, checking it."""
import contextlib
import contextvars
import dataclasses
import json
import logging
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone, translation

from audit.models import GENESIS_HASH, AuditChainLink, AuditEvent, chain_hash
from ccfi_portal.queries import PreparedQuery

logger = logging.getLogger(__name__)

CHAIN_BATCH = 1000
CHAIN_ATTEMPTS = 50  # a link-up that loses this many races in a row is left to verify_audit
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


# Built once per process (ccfi_portal.queries): every recorded change reads it.
_LAST_LINK = PreparedQuery(lambda: AuditChainLink.objects.only("sequence", "record_hash").order_by("-sequence")[:1])


def _chain_append(events) -> bool:
    """Link ``events``, in their order, after the last link, in one INSERT; False, with nothing stored, when
    another writer has stored a successor of that link since it was read (a lost race: the caller reads the last
    link again). A lost race is no database error (PostgreSQL logged each failed INSERT: under the API bench's
    110 saves/s, a quarter of the link-ups, each then linked again from the database): the INSERT stores its rows
    only while no link follows the one read, and one link alone (a transaction's one event, the common case)
    skips a sequence number stored at the same moment. Several links stored at the same moment as another's
    fail whole at the unique sequence with an IntegrityError (skipping one would store the others after the
    wrong link), as does linking an event that verify_audit linked meanwhile.
    No lock, no transaction of its own: two statements where a locked transaction took five."""
    if not events:
        return True
    last = _LAST_LINK.first()
    sequence, previous = (last.sequence, last.record_hash) if last else (0, GENESIS_HASH)
    after = sequence
    rows = []
    for event in events:
        sequence += 1
        previous = chain_hash(event, sequence=sequence, previous_hash=(before := previous))
        rows.append((event.pk, sequence, before, previous))
    # The model's own table and column names; the values are bound.
    table = connection.ops.quote_name(AuditChainLink._meta.db_table)
    sequence_column = connection.ops.quote_name(AuditChainLink._meta.get_field("sequence").column)
    columns = ", ".join(connection.ops.quote_name(AuditChainLink._meta.get_field(name).column)
                        for name in ("event", "sequence", "previous_hash", "record_hash"))
    statement = (f"INSERT INTO {table} ({columns}) SELECT * FROM (VALUES {', '.join(['(%s, %s, %s, %s)'] * len(rows))})"  # nosec B608
                 f" AS new_links WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {sequence_column} > %s)")
    if len(rows) == 1:
        statement += f" ON CONFLICT ({sequence_column}) DO NOTHING"
    # Inside a transaction (a test's), a savepoint keeps a lost race from spoiling the rest of it.
    with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
        with connection.cursor() as cursor:
            cursor.execute(statement, [item for row in rows for item in row] + [after])
            return cursor.rowcount == len(rows)


def _chain_retrying(read_events: Callable[[], list], *, errors_retried: bool) -> int:
    """Link the events ``read_events()`` gives, reading them and the last link again after each lost race (up to
    CHAIN_ATTEMPTS); returns how many were linked. An IntegrityError is retried the same way if ``errors_retried``
    (events read from the database: one linked meanwhile is read no more), else raised to the caller."""
    for attempt in range(CHAIN_ATTEMPTS):
        events = read_events()
        try:
            if _chain_append(events):
                return len(events)
        except IntegrityError:
            if not errors_retried or attempt == CHAIN_ATTEMPTS - 1:
                raise
    raise IntegrityError(f"the audit chain's last link changed {CHAIN_ATTEMPTS} times while linking")


def audit_chain_extend(event_ids: list[int] | None = None) -> int:
    """Link the committed events that have no link yet (those of ``event_ids``, else all), in the order of
    their keys, each to the last link; returns how many. For verify_audit, for an event whose process stopped
    between its commit and its link, and for a link-up that failed after its commit (_LinkOnCommit)."""
    pending = AuditEvent.objects.filter(link__isnull=True).order_by("pk")
    if event_ids is not None:
        pending = pending.filter(pk__in=event_ids)
    linked = 0
    while True:
        added = _chain_retrying(lambda: list(pending[:CHAIN_BATCH]), errors_retried=True)
        linked += added
        if added < CHAIN_BATCH:
            return linked


class _LinkOnCommit:
    """The events one transaction (or savepoint) records, linked once it commits (one callback per transaction),
    so that a business transaction never waits on the chain. Linked as recorded, not read back: audit_record
    stores exactly what the hash covers (the chain's every link-up read its events again, a sixth of a value
    save's time). One that loses a race to another writer reads the last link again and links them after it; one
    whose INSERT fails (another at the same moment, or an event linked meanwhile by verify_audit) links what is
    still unlinked of them from the database."""

    def __init__(self):
        self.events: list[AuditEvent] = []
        self.done = False

    def __call__(self):
        self.done = True
        try:
            try:
                _chain_retrying(lambda: self.events, errors_retried=False)
            except IntegrityError:  # an INSERT at the same moment, or an event linked meanwhile by verify_audit
                audit_chain_extend([event.pk for event in self.events])
        except Exception:  # the events are stored; verify_audit links them
            logger.exception("audit chain not extended")

    @classmethod
    def add(cls, event: AuditEvent) -> None:
        # The callback of this transaction or savepoint, if one is waiting, else a new one: Django drops the
        # callbacks of a savepoint rolled back, and with them the events that the rollback took away.
        level = set(connection.savepoint_ids)
        for savepoints, callback, _robust in connection.run_on_commit:
            if isinstance(callback, cls) and not callback.done and savepoints == level:
                callback.events.append(event)
                return
        callback = cls()
        callback.events.append(event)
        transaction.on_commit(callback)


def _storable(data):
    """PostgreSQL's JSON cannot hold U+0000, which a refused input may carry (the refusal is what is recorded):
    it is stored as U+FFFD, the replacement character, so that recording never fails."""
    if isinstance(data, str):
        return data.replace("\x00", "\ufffd")
    if isinstance(data, list):
        return [_storable(item) for item in data]
    if isinstance(data, dict):
        return {_storable(key): _storable(value) for key, value in data.items()}
    return data


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

    The address and user agent default to those of the request being served. The event joins the hash
    chain when that transaction commits (at once outside one)."""
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
        # Stored as read back: what the chain's hash covers is what verify_audit will read.
        details=_storable(json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))),
    )
    event.save(force_insert=True)
    _LinkOnCommit.add(event)
    return event


@dataclasses.dataclass(frozen=True)
class BrokenLink:
    event_id: int
    sequence: int | None
    reason: str


def audit_refusal(request, obj, *, codes: list[str], error: ValidationError | None = None, **details) -> None:
    """A refused action on ``obj``: the page and action asked for, and why (in the portal's language)."""
    match = request.resolver_match
    with translation.override(settings.LANGUAGE_CODE):
        reasons = [str(message) for message in error.messages] if error is not None else []
    audit_record(actor=request.user, event_type="action.refused", obj=obj, success=False, details={
        "view": match.view_name if match else "", "action": request.POST.get("action", ""), "codes": codes,
        "reasons": reasons, **details})


def audit_upload_rejected(request, obj, *, kind: str, upload, error: ValidationError | None = None,
                          form_errors: dict | None = None) -> None:
    """A file refused (an import or an evidence file): who, which file, why; nothing of the file is kept."""
    with translation.override(settings.LANGUAGE_CODE):
        reasons = [str(message) for message in error.messages] if error is not None else []
        reasons += [f"{field}: {message}" for field, messages_ in (form_errors or {}).items() for message in messages_]
    audit_record(actor=request.user, event_type="upload.rejected", obj=obj, success=False, details={
        "kind": kind, "name": (getattr(upload, "name", "") or "")[:255], "size": getattr(upload, "size", None),
        "reasons": reasons})


def audit_trail_read(request, *, count: int, channel: str) -> None:
    """A read of the trail itself (``audit.export``): the admin site's CSV export or a list read through the API,
    with what it asked and how many events matched."""
    audit_record(actor=request.user, event_type="audit.export", details={
        "channel": channel, "query": request.GET.urlencode()[:1000], "count": count})


def audit_chain_verify() -> Iterator[BrokenLink]:
    """Each link in chain order: its number follows the last, it names the last's hash, and its hash
    matches its event's content. Yields every break (the first is where tampering starts)."""
    expected_sequence, expected_previous = 1, GENESIS_HASH
    links = AuditChainLink.objects.select_related("event").order_by("sequence")
    for link in links.iterator(chunk_size=2000):
        event = link.event
        if link.sequence != expected_sequence:
            yield BrokenLink(event.pk, link.sequence,
                             f"sequence {link.sequence} where {expected_sequence} was expected (records missing)")
        elif link.previous_hash != expected_previous:
            yield BrokenLink(event.pk, link.sequence, "previous hash does not match the previous record")
        elif link.record_hash != chain_hash(event, sequence=link.sequence, previous_hash=link.previous_hash):
            yield BrokenLink(event.pk, link.sequence, "content does not match the record's hash (changed)")
        expected_sequence, expected_previous = link.sequence + 1, link.record_hash
