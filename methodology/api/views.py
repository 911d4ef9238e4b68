from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action

from accounts.permissions import may_see_draft_methodology
from ccfi_portal.cache import PublishedReadViewSetMixin, published_read
from methodology.api.serializers import MethodologyVersionSerializer
from methodology.models import MethodologyState, MethodologyVersion
from methodology.selectors import methodology_document


class MethodologyVersionViewSet(PublishedReadViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Published and retired methodology versions are public; drafts are for the secretariat. What the public
    reads comes from the published-read cache (ccfi_portal.cache); the secretariat's reads bypass it."""

    published_read_name = "api_methodologies"
    serializer_class = MethodologyVersionSerializer
    permission_classes = [permissions.AllowAny]
    filterset_fields = ["code", "state"]

    def get_queryset(self):
        versions = MethodologyVersion.objects.all()
        if not may_see_draft_methodology(self.request.user):
            versions = versions.exclude(state=MethodologyState.DRAFT)
        return versions

    def reads_published_only(self, request) -> bool:
        return not may_see_draft_methodology(request.user)

    @extend_schema(responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="The methodology JSON document (docs/methodology-schema.md).")})
    @action(detail=True, methods=["get"])
    def document(self, request, pk=None, format=None):  # format: the router's .json suffix
        """The version as its JSON document (docs/methodology-schema.md)."""
        if self.reads_published_only(request):  # a draft is a 404 here, and nothing is stored
            document = published_read("api_methodology_document", pk,
                                       compute=lambda: methodology_document(version=self.get_object()))
        else:
            document = methodology_document(version=self.get_object())
        return HttpResponse(document, content_type="application/json; charset=utf-8")
