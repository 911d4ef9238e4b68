"""The audit trail through the API: read only, for whoever reads it in the admin site (the audit administrator).

The audit app is the lowest layer and does not import accounts.permissions: the door is the model permission
audit.view_auditevent, which is exactly what may_read_audit_trail grants (accounts.permissions.ROLE_PERMISSIONS)."""
import datetime

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.permissions import BasePermission

from audit.api.serializers import AuditEventSerializer
from audit.models import AuditEvent
from audit.services import audit_trail_read
from ccfi_portal.api_errors import problem_responses


class ReadsAuditTrail(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("audit.view_auditevent"))


class UtcDateTimeFilter(filters.DateTimeFilter):
    """Compares in UTC: ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59 (a 500 before)."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(datetime.UTC)
            except OverflowError:  # within a day of year 1 or 9999: the end of the calendar on that side
                end = datetime.datetime.min if value.year == 1 else datetime.datetime.max
                value = end.replace(tzinfo=datetime.UTC)
        return super().filter(qs, value)


class AuditEventFilter(filters.FilterSet):
    actor = filters.CharFilter(field_name="actor__username", help_text="The user name of who acted.")
    action = filters.CharFilter(field_name="event_type", help_text="An event type, e.g. index_run.publish.")
    action_prefix = filters.CharFilter(field_name="event_type", lookup_expr="startswith",
                                       help_text="Event types starting so, e.g. auth.")
    object_type = filters.CharFilter(help_text="e.g. indices.indexrun")
    object_id = filters.CharFilter()
    city = filters.CharFilter(field_name="city__code")
    since = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte", help_text="From (ISO 8601).")
    until = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt", help_text="Before (ISO 8601).")

    class Meta:
        model = AuditEvent
        fields = ["success"]


_EVENT = {
    "id": 5120, "occurred_at": "2026-04-02T10:00:00+08:00", "actor": "methodologist", "city": None,
    "event_type": "index_run.publish", "event_label": "指数结果发布", "success": True,
    "object_type": "indices.indexrun", "object_id": "12", "object_repr": "2024 …", "object_label": "指数运行：2024 …",
    "ip_address": "10.0.0.8", "user_agent": "curl/8.5", "changes": [],
    "details": {"edition": 2, "input_hash": "5d1e…", "replaced_runs": [11]}, "sequence": 5120,
    "record_hash": "c0ffee…"}


@extend_schema_view(
    list=extend_schema(responses={200: AuditEventSerializer(many=True), **problem_responses(403)},
                       examples=[OpenApiExample("?action=index_run.publish&since=2026-04-01", response_only=True,
                                                value={"count": 1, "next": None, "previous": None,
                                                       "results": [_EVENT]})]),
    retrieve=extend_schema(responses={200: AuditEventSerializer, **problem_responses(403, 404)},
                           examples=[OpenApiExample("A publication", response_only=True, value=_EVENT)]),
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, newest first, filtered by actor, action (event type), object, city, outcome and time."""

    permission_classes = [ReadsAuditTrail]
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return AuditEvent.objects.select_related("actor", "city", "link").order_by("-occurred_at", "-id")

    def list(self, request, *args, **kwargs):
        """A read of the trail is recorded as the admin site's export is (``audit.export``), with what it asked and
        how many events matched; recorded after the page is read, so that the page does not hold its own record."""
        response = super().list(request, *args, **kwargs)
        audit_trail_read(request, count=response.data["count"], channel="api")
        return response
