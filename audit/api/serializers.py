from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit import presentation
from audit.labels import event_type_label


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class AuditEventSerializer(serializers.Serializer):
    """An audit event as the auditor's page and CSV export show it (audit.presentation), with its stored codes."""

    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    city = serializers.CharField(source="city.code", allow_null=True, default=None)
    event_type = serializers.CharField()
    event_label = serializers.SerializerMethodField()
    success = serializers.BooleanField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    object_label = serializers.SerializerMethodField()
    ip_address = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    changes = serializers.SerializerMethodField()
    details = serializers.JSONField()
    sequence = serializers.SerializerMethodField(help_text="The event's link of the hash chain; null for a moment.")
    record_hash = serializers.SerializerMethodField()

    def get_actor(self, obj) -> str | None:
        return obj.actor.get_username() if obj.actor else None

    def get_event_label(self, obj) -> str:
        return str(event_type_label(obj.event_type))

    def get_object_label(self, obj) -> str:
        return presentation.object_label(obj)

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes(self, obj) -> list[dict]:
        return ChangeSerializer(presentation.change_lines(obj), many=True).data

    def get_sequence(self, obj) -> int | None:
        link = presentation.chain_link(obj)
        return link.sequence if link else None

    def get_record_hash(self, obj) -> str | None:
        link = presentation.chain_link(obj)
        return link.record_hash if link else None
