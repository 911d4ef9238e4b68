"""The append-only audit trail: who did what, when, from where, and whether it worked.

Each event gets a link of the hash chain (AuditChainLink: its number, the SHA-256 of the previous link and
its own over the event's content) right after its transaction commits, and the database refuses UPDATE and
DELETE on both tables (audit.guard): a change made by SQL is refused, and one made where the guard was
lifted breaks the chain at the changed event (``verify_audit``)."""
import datetime
import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.labels import event_type_label

GENESIS_HASH = "0" * 64


class AppendOnlyQuerySet(models.QuerySet):
    """The ORM's bulk writes, refused like the model's own save and delete."""

    def update(self, **kwargs):
        raise ValidationError(_("Audit records cannot be changed."))

    def bulk_update(self, objs, fields, batch_size=None):
        raise ValidationError(_("Audit records cannot be changed."))

    def delete(self):
        raise ValidationError(_("Audit records cannot be deleted."))

    update.queryset_only = True
    delete.queryset_only = True


class AppendOnlyModel(models.Model):
    """Rows written once by the application and never changed or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Audit records cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit records cannot be deleted."))


class AuditEvent(AppendOnlyModel):
    """An append-only record of who did what, when, from where, and whether it worked."""

    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    event_type = models.CharField(_("event type"), max_length=60, db_index=True)
    success = models.BooleanField(_("success"), default=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True, db_index=True)  # a filter
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # The city whose data the event concerns (the object's, else the actor's), for the auditor's filter.
    city = models.ForeignKey("accounts.City", verbose_name=_("city"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True, default="")
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        when = timezone.localtime(self.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
        return f"{when} {event_type_label(self.event_type)} {self.object_repr}".rstrip()

    def content(self) -> dict:
        """What the chain vouches for: every field but the key, times in UTC to the microsecond."""
        return {
            "occurred_at": self.occurred_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
            "actor": self.actor_id, "event_type": self.event_type, "success": bool(self.success),
            "object_type": self.object_type, "object_id": self.object_id, "object_repr": self.object_repr,
            "city": self.city_id, "ip_address": self.ip_address, "user_agent": self.user_agent,
            "details": self.details,
        }


def chain_hash(event: AuditEvent, *, sequence: int, previous_hash: str) -> str:
    """SHA-256 over a canonical serialisation (sorted-key JSON) of the link's number, the previous link's
    hash and the event's content."""
    canonical = json.dumps({"sequence": sequence, "previous_hash": previous_hash, "event_id": event.pk,
                            "event": event.content()},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditChainLink(AppendOnlyModel):
    """An event's place in the hash chain: 1, 2, 3..., the previous link's hash (GENESIS_HASH for the
    first) and its own. Written after the event's transaction commits, in the order events commit, so
    that no business transaction waits on the chain's lock."""

    event = models.OneToOneField(AuditEvent, verbose_name=_("audit event"), primary_key=True,
                                 on_delete=models.PROTECT, related_name="link")
    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    previous_hash = models.CharField(_("previous record's hash"), max_length=64)
    record_hash = models.CharField(_("record hash"), max_length=64)

    class Meta:
        verbose_name = _("audit chain link")
        verbose_name_plural = _("audit chain links")
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.record_hash[:12]}"
