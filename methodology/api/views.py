from django.http import HttpResponse
from rest_framework import permissions, viewsets
from rest_framework.decorators import action

from accounts.permissions import may_see_draft_methodology
from methodology.api.serializers import MethodologyVersionSerializer
from methodology.models import MethodologyState, MethodologyVersion
from methodology.selectors import methodology_document


class MethodologyVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Published and retired methodology versions are public; drafts are for the secretariat."""

    serializer_class = MethodologyVersionSerializer
    permission_classes = [permissions.AllowAny]
    filterset_fields = ["code", "state"]

    def get_queryset(self):
        versions = MethodologyVersion.objects.all()
        if not may_see_draft_methodology(self.request.user):
            versions = versions.exclude(state=MethodologyState.DRAFT)
        return versions

    @action(detail=True, methods=["get"])
    def document(self, request, pk=None, format=None):  # format: the router's .json suffix
        """The version as its JSON document (docs/methodology-schema.md)."""
        return HttpResponse(methodology_document(version=self.get_object()),
                            content_type="application/json; charset=utf-8")
