import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_permissions import allowed_by
from accounts.permissions import may_import_methodology, may_see_draft_methodology
from ccfi_portal.api_errors import problem, problem_responses
from ccfi_portal.cache import PublishedReadViewSetMixin, published_read
from indices.engine.spec import DocumentError
from methodology.api.serializers import MethodologyImportSerializer, MethodologyVersionSerializer
from methodology.models import MethodologyState, MethodologyVersion, render_problem
from methodology.selectors import methodology_document
from methodology.services import methodology_import

_VERSION = {"id": 3, "code": "CCFI", "version": "2025.1", "title_zh": "中国消费金融指数",
            "title_en": "China Consumer Finance Index", "state": "published",
            "published_at": "2025-03-01T10:00:00+08:00", "notes": ""}
_DRAFT = {**_VERSION, "id": 9, "version": "2026.0", "state": "draft", "published_at": None}
_BAD_DOCUMENT = {
    "type": "urn:ccfi:problem:invalid_document", "title": "请求无效", "status": 400, "code": "invalid_document",
    "detail": "The methodology document is not valid; nothing was imported.",
    "errors": [{"indicator": None, "field": "tree.children[0].weight", "code": "invalid",
                "message": "tree.children[0].weight: the weights of a node's children add up to 1"}]}


@extend_schema_view(
    list=extend_schema(examples=[OpenApiExample("Methodology versions", response_only=True, value={
        "count": 1, "next": None, "previous": None, "results": [_VERSION]})]),
    retrieve=extend_schema(examples=[OpenApiExample("A published version", response_only=True, value=_VERSION)]),
    document=extend_schema(examples=[OpenApiExample("The JSON document", response_only=True, value={
        "schema": "ccfi-methodology/1", "code": "CCFI", "version": "2025.1", "tree": {"code": "CCFI"}})]),
)


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

    @extend_schema(request=MethodologyImportSerializer,
                   responses={201: MethodologyVersionSerializer, **problem_responses(400, 403)},
                   examples=[OpenApiExample("Import under another label", request_only=True, value={
                       "document": {"schema": "ccfi-methodology/1", "code": "CCFI", "version": "2025.1"},
                       "as_version": "2026.0"}),
                       OpenApiExample("Imported as a draft", status_codes=["201"], response_only=True, value=_DRAFT),
                       OpenApiExample("An invalid document", status_codes=["400"], response_only=True,
                                      value=_BAD_DOCUMENT)])
    @action(detail=False, methods=["post"], url_path="import", url_name="import",
            permission_classes=[allowed_by(may_import_methodology)])
    def import_document(self, request, format=None):
        """A methodology document (docs/methodology-schema.md) as a new draft version, as ``manage.py
        import_methodology`` does; an invalid document changes nothing and answers 400 ``invalid_document``
        with every problem in ``errors`` (``field``: where in the document)."""
        data = MethodologyImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        text = json.dumps(data.validated_data["document"], ensure_ascii=False)
        try:
            version = methodology_import(text=text, actor=request.user,
                                         version_label=data.validated_data.get("as_version") or None)
        except DocumentError as error:
            return problem(status=400, code="invalid_document",
                           detail=_("The methodology document is not valid; nothing was imported."),
                           errors=[{"indicator": None, "field": item.path or None, "code": "invalid",
                                    "message": render_problem(item)} for item in error.problems])
        return Response(MethodologyVersionSerializer(version).data, status=status.HTTP_201_CREATED)
