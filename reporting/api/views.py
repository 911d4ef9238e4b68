"""The API's filing and review endpoints: thin views over the services (which check, act and audit) and the
selectors the pages read; refusals are problem details (ccfi_portal.api_errors). Docs: docs/api.md."""
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import may_review
from audit.services import audit_refusal, audit_upload_rejected, client_ip
from ccfi_portal.api_errors import problem, problem_responses
from ccfi_portal.cache import PublishedReadViewSetMixin
from reporting import selectors, services, validation
from reporting.api.serializers import (
    AmendInputSerializer,
    AnswerInputSerializer,
    AnswerSerializer,
    BulkApproveInputSerializer,
    BulkApproveSerializer,
    CitySerializer,
    CommentSerializer,
    EvidenceSerializer,
    EvidenceUploadInputSerializer,
    IndicatorReturnDetailSerializer,
    IndicatorReturnSerializer,
    ReturnStartInputSerializer,
    ReviewDataSerializer,
    ReviewQueueItemSerializer,
    SendBackInputSerializer,
    ValuesSaveInputSerializer,
)
from reporting.forms import EvidenceForm
from reporting.models import Channel, IndicatorReturn, ReportingPeriod, ReturnState
from reporting.selectors import city_list, returns_visible_to
from reporting.views.shared import audit_values_refused, change_text, visible_return

RETURN_EXAMPLE = {"id": 42, "city": "500000", "data_year": 2025, "revision": 1, "state": "submitted",
                  "edit_version": 7, "submitted_at": "2026-03-20T09:12:00+08:00", "approved_at": None}


CITY_EXAMPLE = {"code": "500000", "name_zh": "重庆市", "name_en": "Chongqing", "province_zh": "重庆市",
                "province_en": "Chongqing"}


@extend_schema_view(
    list=extend_schema(examples=[OpenApiExample("Cities", response_only=True, value={
        "count": 1, "next": None, "previous": None, "results": [CITY_EXAMPLE]})]),
    retrieve=extend_schema(examples=[OpenApiExample("Chongqing", response_only=True, value=CITY_EXAMPLE)]),
)
class CityViewSet(PublishedReadViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The cities the index covers; public, from the published-read cache (ccfi_portal.cache)."""

    published_read_name = "api_cities"
    queryset = city_list()
    serializer_class = CitySerializer
    permission_classes = [permissions.AllowAny]
    lookup_field = "code"
    filterset_fields = ["province_en"]


@extend_schema_view(
    list=extend_schema(examples=[OpenApiExample("The city's returns", response_only=True, value={
        "count": 1, "next": None, "previous": None, "results": [RETURN_EXAMPLE]})]),
    retrieve=extend_schema(examples=[OpenApiExample("A return with its values", response_only=True, value={
        **RETURN_EXAMPLE, "values": [{"code": "M1.1", "value": "84", "observation_status": "final",
                                      "source_note": "市统计局", "explanation": "", "flags": []}]})]),
)
class ReturnViewSet(viewsets.ReadOnlyModelViewSet):
    """Returns the user may see: a filer its city's, reviewers all; another city's answers 404. POST starts
    the filer's city's return for a period (or answers the open one), as the dashboard's button does."""

    filterset_fields = ["state", "period__data_year"]

    def get_queryset(self):
        return returns_visible_to(user=self.request.user).order_by("period__data_year", "city__code", "revision")

    def get_serializer_class(self):
        return IndicatorReturnDetailSerializer if self.action == "retrieve" else IndicatorReturnSerializer

    def get_object(self):
        indicator_return = super().get_object()
        indicator_return.review_values = selectors.review_values(indicator_return=indicator_return)
        return indicator_return

    @extend_schema(request=ReturnStartInputSerializer, responses={
        201: IndicatorReturnSerializer, **problem_responses(400, 403, 404)}, examples=[
        OpenApiExample("Start 2025", request_only=True, value={"data_year": 2025}),
        OpenApiExample("The open draft", response_only=True, status_codes=["201"], value={
            **RETURN_EXAMPLE, "state": "draft", "edit_version": 1, "submitted_at": None}),
    ])
    def create(self, request, *args, **kwargs):
        if not request.user.city_id:
            raise Http404  # only a city's filer starts a return, as on the pages
        data = ReturnStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        period = get_object_or_404(ReportingPeriod, data_year=data.validated_data["data_year"])
        indicator_return = services.return_start(period=period, city=request.user.city, actor=request.user,
                                                 ip_address=client_ip(request))
        return Response(IndicatorReturnSerializer(indicator_return).data, status=status.HTTP_201_CREATED)


class ReturnValuesSaveApi(APIView):
    """Save values of a draft (channel "api"): the same validation and change records as the form."""

    @extend_schema(request=ValuesSaveInputSerializer, responses={
        200: OpenApiTypes.OBJECT, **problem_responses(400, 403, 404, 409)}, examples=[
        OpenApiExample("Save two values at once", request_only=True, value={"edit_version": 1, "values": {
            "M1.1": {"value": "84", "observation_status": "final", "source_note": "市统计局"},
            "M2.1": {"value": "8922.53", "observation_status": "provisional", "source_note": "人民银行重庆营管部",
                     "explanation": "同比增长较快：新增两家消费金融公司。"}}}),
        OpenApiExample("Saved, one warning", response_only=True, value={
            "edit_version": 2, "changed": 6, "rejected": [], "findings": [{
                "code": "M2.1", "check": "yoy", "severity": "warning", "message": "M2.1：比上年变动 20.4%……"}]}),
        OpenApiExample("Stale edit version", response_only=True, status_codes=["409"], value={
            "type": "urn:ccfi:problem:edit_conflict", "title": "冲突", "status": 409, "code": "edit_conflict",
            "detail": "……", "edit_version": 3, "changes": [{"code": "M1.1", "field": "value", "old": "83",
                                                            "new": "84", "by": "filer-chongqing",
                                                            "at": "2026-03-18T15:02:11+08:00"}]}),
    ])
    def patch(self, request, pk: int):
        indicator_return = visible_return(request, pk)
        data = ValuesSaveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entries = {}
        for code, given in data.validated_data["values"].items():
            entries[code] = services.ValueEntry(**{name: given[name] for name in (
                "value", "observation_status", "source_note", "explanation") if name in given})
        try:
            with _refusal_audited(request, indicator_return):
                outcome = services.return_values_save(
                    indicator_return=indicator_return, actor=request.user, entries=entries, channel=Channel.API,
                    expected_version=data.validated_data["edit_version"], ip_address=client_ip(request))
        except services.EditConflict as conflict:
            return _conflict(conflict)
        refused = sorted(outcome.result.rejected)
        if refused:  # recorded as the form records it; the response lists them
            audit_values_refused(request, indicator_return, refused=refused, entries=entries)
        return Response({"edit_version": outcome.edit_version, "changed": outcome.changed,
                         "rejected": refused, "findings": _findings(outcome)})


def _conflict(conflict: services.EditConflict) -> Response:
    return problem(
        status=status.HTTP_409_CONFLICT, code="edit_conflict",
        detail=_("The values were changed since you read them: see the changes, then send yours again "
                 "with the current edit version."),
        edit_version=conflict.current_version, changes=[
            {"code": change.indicator.code, "field": change.field, "old": change.old, "new": change.new,
             "by": change.actor.username if change.actor else None, "at": change.changed_at}
            for change in conflict.changes])


def _findings(outcome: services.SaveOutcome) -> list[dict]:
    return [{"code": f.code, "check": f.check, "severity": f.severity, "message": f.render()}
            for f in outcome.result.findings]


class ReturnSubmitApi(APIView):
    """Submit (or resubmit) a return: complete, no errors, every warning explained."""

    @extend_schema(request=None, responses={200: IndicatorReturnSerializer, **problem_responses(400, 403, 404)},
                   examples=[
                       OpenApiExample("Submitted", response_only=True, value=RETURN_EXAMPLE),
                       OpenApiExample("Not complete", response_only=True, status_codes=["400"], value={
                           "type": "urn:ccfi:problem:incomplete", "title": "请求无效", "status": 400,
                           "code": "incomplete", "detail": "报表暂不能报送：", "errors": [{
                               "indicator": "M1.1", "field": None, "code": "required", "message": "M1.1：……"}]}),
                   ])
    def post(self, request, pk: int):
        indicator_return = visible_return(request, pk)
        with _refusal_audited(request, indicator_return):
            indicator_return = services.return_submit(indicator_return=indicator_return, actor=request.user,
                                                      ip_address=client_ip(request))
        return Response(IndicatorReturnSerializer(indicator_return).data)




# Shared by the endpoints below.

def _require_reviewer(request) -> None:
    if not may_review(request.user):
        raise PermissionDenied(str(services.REVIEWERS_ONLY))


def _require_filer(request, indicator_return) -> None:
    """Only the city's own filers (or the system administrator) act on its filing: 403 with the reason, before
    the input is read (the services check again, with the deadline and the state)."""
    refusal = selectors.return_filing_refusal(request.user, indicator_return)
    if refusal is not None and refusal.forbidden:
        raise PermissionDenied(str(refusal.message))


@contextmanager
def _refusal_audited(request, obj):
    """A refused workflow step in the audit trail (action.refused), as the pages record it, then the problem."""
    try:
        yield
    except ValidationError as error:
        audit_refusal(request, obj, codes=[item.code or "" for item in error.error_list], error=error)
        raise


def _unknown_codes(indicator_return, codes, field: str) -> None:
    """Indicator codes that are not the return's methodology's: 400, each naming its indicator."""
    known = validation.variables(selectors.period_spec(period=indicator_return.period))
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise serializers.ValidationError({field: {code: [serializers.ErrorDetail(
            _("%(code)s is not an indicator of this return's methodology.") % {"code": code}, code="unknown_indicator")]
            for code in unknown}})



# Evidence.

EVIDENCE_EXAMPLE = {"id": 9, "indicator": "M2.1", "name": "人民银行年报摘录.pdf", "content_type": "application/pdf",
                    "size": 182044, "sha256": "3f1c…", "description": "贷款余额出处", "uploaded_by": "filer-chongqing",
                    "uploaded_at": "2026-03-18T15:02:11+08:00", "download": "/evidence/9/"}


class ReturnEvidenceApi(APIView):
    """A return's evidence files: listed for whoever sees the return; uploaded (multipart) by the city's filer
    with the web's rules (EvidenceForm, then reporting.uploads: size, type read from the content)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: EvidenceSerializer(many=True), **problem_responses(403, 404)},
                   examples=[OpenApiExample("Evidence of a return", value=[EVIDENCE_EXAMPLE], response_only=True)])
    def get(self, request, pk: int):
        indicator_return = visible_return(request, pk)
        files = selectors.return_evidence_list(indicator_return=indicator_return)
        return Response(EvidenceSerializer(files, many=True).data)

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadInputSerializer},
        responses={201: EvidenceSerializer, **problem_responses(400, 403, 404)},
        examples=[
            OpenApiExample("Upload a PDF for M2.1", request_only=True, media_type="multipart/form-data",
                           value={"file": "(binary) 人民银行年报摘录.pdf", "indicator": "M2.1",
                                  "description": "贷款余额出处"}),
            OpenApiExample("Attached", value=EVIDENCE_EXAMPLE, response_only=True, status_codes=["201"]),
            OpenApiExample("Refused: not a PDF", response_only=True, status_codes=["400"], value={
                "type": "urn:ccfi:problem:type", "title": "Invalid request", "status": 400, "code": "type",
                "detail": "“notes.pdf” is a Word document (DOCX), whatever its name says; accepted are PDF, XLSX, "
                          "PNG, JPEG files.",
                "errors": [{"indicator": None, "field": None, "code": "type", "message": "“notes.pdf” is …"}]}),
        ])
    def post(self, request, pk: int):
        indicator_return = visible_return(request, pk)
        _require_filer(request, indicator_return)
        codes = validation.variables(selectors.period_spec(period=indicator_return.period))
        form = EvidenceForm(request.POST, request.FILES, codes=[(code, code) for code in codes])
        if not form.is_valid():
            audit_upload_rejected(request, indicator_return, kind="evidence", upload=request.FILES.get("file"),
                                  form_errors=form.errors)
            given = request.POST.get("indicator") or None
            errors = [{"indicator": given if name == "indicator" else None, "field": name,
                       "code": error.code or "invalid", "message": " ".join(error.messages)}
                      for name, items in form.errors.as_data().items() for error in items]
            return problem(status=status.HTTP_400_BAD_REQUEST, code="invalid",
                           detail=_("The request has invalid data: see errors."), errors=errors)
        try:
            evidence = services.evidence_upload(
                indicator_return=indicator_return, actor=request.user, upload=form.cleaned_data["file"],
                indicator_code=form.cleaned_data["indicator"] or None, description=form.cleaned_data["description"],
                ip_address=client_ip(request))
        except ValidationError as error:
            audit_upload_rejected(request, indicator_return, kind="evidence", upload=form.cleaned_data["file"],
                                  error=error)
            raise
        evidence = selectors.evidence_visible_to(user=request.user).select_related("indicator", "uploaded_by").get(
            pk=evidence.pk)
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


# Answering a send-back; amendments.

class ReturnAnswerApi(APIView):
    """Answer a send-back, as the return form does: the explanations per indicator the reviewer's comments ask
    for are saved (channel "api", with change records), then, with ``resubmit``, the return is submitted again.
    The explanations stay saved when the resubmission is refused (400 listing why)."""

    @extend_schema(
        request=AnswerInputSerializer, responses={200: AnswerSerializer, **problem_responses(400, 403, 404, 409)},
        examples=[
            OpenApiExample("Explain M2.1 and resubmit", request_only=True, value={
                "edit_version": 9, "explanations": {"M2.1": "同比增长较快：新增两家消费金融公司，见所附年报。"},
                "resubmit": True}),
            OpenApiExample("Resubmitted", response_only=True, value={
                "id": 42, "state": "submitted", "edit_version": 10, "changed": 1, "findings": []}),
            OpenApiExample("Unknown indicator", response_only=True, status_codes=["400"], value={
                "type": "urn:ccfi:problem:invalid", "title": "请求无效", "status": 400, "code": "invalid",
                "detail": "请求数据无效：见 errors。", "errors": [{
                    "indicator": "X9.9", "field": "explanations.X9.9", "code": "unknown_indicator",
                    "message": "X9.9 不是本报表所用方法的指标。"}]}),
        ])
    def post(self, request, pk: int):
        indicator_return = visible_return(request, pk)
        _require_filer(request, indicator_return)
        data = AnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        explanations = data.validated_data["explanations"]
        _unknown_codes(indicator_return, explanations, "explanations")
        with _refusal_audited(request, indicator_return):
            if indicator_return.state != ReturnState.RETURNED:
                raise services.WorkflowError(services.NOT_RESUBMITTABLE, code="not_returned")
            try:
                outcome = services.return_values_save(
                    indicator_return=indicator_return, actor=request.user, channel=Channel.API,
                    entries={code: services.ValueEntry(explanation=text) for code, text in explanations.items()},
                    expected_version=data.validated_data["edit_version"], ip_address=client_ip(request))
            except services.EditConflict as conflict:
                return _conflict(conflict)
            refused = outcome.result.rejected  # an explanation with a control character, or too long
            if refused:
                raise serializers.ValidationError({"explanations": {code: [
                    serializers.ErrorDetail(f.render(), code=f.check) for f in outcome.result.for_code(code)
                    if f in outcome.result.errors] for code in sorted(refused)}})
            if data.validated_data["resubmit"]:
                indicator_return = services.return_resubmit(indicator_return=indicator_return, actor=request.user,
                                                            ip_address=client_ip(request))
            else:
                indicator_return.refresh_from_db()
        return Response({"id": indicator_return.pk, "state": indicator_return.state,
                         "edit_version": outcome.edit_version, "changed": outcome.changed,
                         "findings": _findings(outcome)})


class ReturnAmendApi(APIView):
    """Reopen an approved return for an amendment (the city's filer within the filing window, reviewers while the
    period is open): a new draft revision with the approved values, which stay in force until it is approved.
    Its values are then saved through ``values/`` (one or many at once) and it is submitted as any return."""

    @extend_schema(
        request=AmendInputSerializer,
        responses={201: IndicatorReturnSerializer, **problem_responses(400, 403, 404)},
        examples=[
            OpenApiExample("Amend", request_only=True, value={"reason": "统计局更正了2024年常住人口。"}),
            OpenApiExample("The new revision", response_only=True, status_codes=["201"], value={
                **RETURN_EXAMPLE, "id": 57, "revision": 2, "state": "draft", "edit_version": 1,
                "submitted_at": None}),
            OpenApiExample("Not approved", response_only=True, status_codes=["400"], value={
                "type": "urn:ccfi:problem:not_approved", "title": "Invalid request", "status": 400,
                "code": "not_approved", "detail": "Only an approved return can be amended.",
                "errors": [{"indicator": None, "field": None, "code": "not_approved",
                            "message": "Only an approved return can be amended."}]}),
        ])
    def post(self, request, pk: int):
        indicator_return = visible_return(request, pk)
        data = AmendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _refusal_audited(request, indicator_return):
            amendment = services.return_reopen_for_amendment(
                indicator_return=indicator_return, actor=request.user, reason=data.validated_data["reason"],
                ip_address=client_ip(request))
        return Response(IndicatorReturnSerializer(amendment).data, status=status.HTTP_201_CREATED)


# Review.

class ReviewQueueFilter(filters.FilterSet):
    """The review page's filters: the period's data year, the city's code and the state (submitted if none;
    superseded and withdrawn revisions are never listed)."""

    period__data_year = filters.NumberFilter(help_text="The period's data year, e.g. 2025.")
    city = filters.CharFilter(field_name="city__code", help_text="The city's code, e.g. 500000.")
    state = filters.ChoiceFilter(
        choices=[(value, label) for value, label in ReturnState.choices
                 if value not in (ReturnState.SUPERSEDED, ReturnState.WITHDRAWN)],
        method="by_state", help_text="Submitted (awaiting review) if not given.")

    class Meta:
        model = IndicatorReturn
        fields = ["period__data_year", "city", "state"]

    def by_state(self, queryset, name, value):
        return queryset  # the selector (reporting.selectors.review_queue_list) chose the state


QUEUE_EXAMPLE = {**RETURN_EXAMPLE, "filled": 62, "warnings": 1, "clean": False}


@extend_schema(examples=[OpenApiExample("Submitted returns of 2025", response_only=True, value={
    "count": 1, "next": None, "previous": None, "results": [QUEUE_EXAMPLE]})])
class ReviewQueueApi(generics.ListAPIView):
    """The reviewers' queue (reviewers only): as the review page lists it, newest submissions first, with the
    values filled, those flagged and whether the return is clean (may be approved in bulk); paginated."""

    serializer_class = ReviewQueueItemSerializer
    filterset_class = ReviewQueueFilter

    def check_permissions(self, request):
        super().check_permissions(request)
        _require_reviewer(request)

    def get_queryset(self):
        state = self.request.query_params.get("state") or None
        return selectors.review_queue_list(state=state)


def _review_rows(data: selectors.ReviewData) -> list[dict]:
    """One row per indicator, as the review page shows it (reporting.views.review.review_detail)."""
    rows = []
    for code, variable in data.variables.items():
        value = data.values.get(code)
        position = data.positions.get(code)
        number = value.value if value else None
        rows.append({
            "code": code, "value": validation.number_text(number) if number is not None else None,
            "observation_status": value.observation_status if value else "",
            "source_note": value.source_note if value else "", "explanation": value.explanation if value else "",
            "last_year": validation.number_text(data.previous[code]) if code in data.previous else None,
            "change": change_text(number, data.previous.get(code)),
            "peers": {"count": position.count, "min": validation.number_text(position.minimum),
                      "median": validation.number_text(round(position.median, variable.decimals)),
                      "max": validation.number_text(position.maximum),
                      "unusual": number is not None and position.is_unusual(number)} if position else None,
            "flags": [{"check": flag.check_code, "severity": flag.severity, "message": flag.render(),
                       "decision": flag.decision} for flag in (value.flags.all() if value else [])],
            "comments": CommentSerializer(data.comments.get(code, []), many=True).data,
            "evidence": [item.pk for item in data.evidence.get(code, [])],
            "changed": code in {row.code for row in data.diff},
        })
    return rows


class ReviewDataApi(APIView):
    """What the review page shows of a return (reviewers): each value with last year's, the other cities'
    min/median/max, its flags, explanation, comments and evidence; the diff against the previous submission."""

    @extend_schema(responses={200: ReviewDataSerializer, **problem_responses(403, 404)}, examples=[
        OpenApiExample("A resubmitted return", response_only=True, value={
            "indicator_return": {**RETURN_EXAMPLE, "edit_version": 10},
            "rows": [{"code": "M2.1", "value": "8922.53", "observation_status": "final",
                      "source_note": "人民银行重庆营管部", "explanation": "同比增长较快：新增两家消费金融公司。",
                      "last_year": "7410.2", "change": "+20.4 %",
                      "peers": {"count": 11, "min": "2101.7", "median": "6120.4", "max": "15833", "unusual": False},
                      "flags": [{"check": "yoy", "severity": "warning", "message": "M2.1：比上年变动 20.4%……",
                                 "decision": "pending"}],
                      "comments": [{"indicator": "M2.1", "reason": "explanation_insufficient",
                                    "text": "请说明增长原因。", "author": "reviewer",
                                    "created_at": "2026-03-19T10:00:00+08:00", "submission": 1}],
                      "evidence": [9], "changed": True}],
            "comments": [], "evidence": [EVIDENCE_EXAMPLE], "diff_basis": "submission",
            "diff": [{"code": "M2.1", "field": "explanation", "old": "",
                      "new": "同比增长较快：新增两家消费金融公司。"}],
            "clean": False})])
    def get(self, request, pk: int):
        indicator_return = visible_return(request, pk)  # another city's return: 404 before anything else
        _require_reviewer(request)
        data = selectors.review_data(indicator_return=indicator_return)
        return Response({
            "indicator_return": IndicatorReturnSerializer(indicator_return).data, "rows": _review_rows(data),
            "comments": CommentSerializer(data.comments.get("", []), many=True).data,
            "evidence": EvidenceSerializer(selectors.return_evidence_list(indicator_return=indicator_return),
                                           many=True).data,
            "diff_basis": data.diff_basis,
            "diff": [{"code": row.code, "field": row.field, "old": row.old, "new": row.new} for row in data.diff],
            "clean": data.clean})


class ReturnSendBackApi(APIView):
    """Send a submitted return back to the city (reviewers), with comments per indicator and on the whole return
    (at least one in all), as the review page does; the city is notified."""

    @extend_schema(
        request=SendBackInputSerializer, responses={200: IndicatorReturnSerializer, **problem_responses(400, 403, 404)},
        examples=[
            OpenApiExample("Ask for an explanation of M2.1", request_only=True, value={
                "comment": "请补充说明后重新报送。", "reason": "other",
                "comments": {"M2.1": {"text": "增长较快，请说明原因并附证明材料。",
                                      "reason": "explanation_insufficient"}}}),
            OpenApiExample("Sent back", response_only=True, value={**RETURN_EXAMPLE, "state": "returned"}),
            OpenApiExample("No comment", response_only=True, status_codes=["400"], value={
                "type": "urn:ccfi:problem:needs_comment", "title": "Invalid request", "status": 400,
                "code": "needs_comment",
                "detail": "Write at least one comment saying what must change before sending the return back.",
                "errors": [{"indicator": None, "field": None, "code": "needs_comment",
                            "message": "Write at least one comment saying what must change before sending the "
                                       "return back."}]}),
        ])
    def post(self, request, pk: int):
        indicator_return = visible_return(request, pk)
        _require_reviewer(request)
        data = SendBackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data.get("comments", {})
        _unknown_codes(indicator_return, given, "comments")
        comments = [services.CommentInput(text=item["text"], reason_code=item["reason"], indicator_code=code)
                    for code, item in given.items() if item["text"].strip()]
        if data.validated_data.get("comment", "").strip():
            comments.insert(0, services.CommentInput(text=data.validated_data["comment"],
                                                     reason_code=data.validated_data["reason"]))
        with _refusal_audited(request, indicator_return):
            indicator_return = services.return_send_back(indicator_return=indicator_return, actor=request.user,
                                                         comments=comments, ip_address=client_ip(request))
        return Response(IndicatorReturnSerializer(indicator_return).data)


class ReturnApproveApi(APIView):
    """Approve a submitted return (reviewers): the same rules as the review page; the index is recomputed."""

    @extend_schema(request=None, responses={200: IndicatorReturnSerializer, **problem_responses(400, 403, 404)},
                   examples=[OpenApiExample("Approved", response_only=True, value={
                       **RETURN_EXAMPLE, "state": "approved", "approved_at": "2026-03-22T16:40:00+08:00"})])
    def post(self, request, pk: int):
        _require_reviewer(request)
        indicator_return = visible_return(request, pk)
        with _refusal_audited(request, indicator_return):
            indicator_return = services.return_approve(indicator_return=indicator_return, actor=request.user,
                                                       ip_address=client_ip(request))
        return Response(IndicatorReturnSerializer(indicator_return).data)


class ReviewBulkApproveApi(APIView):
    """Approve several clean returns at once (reviewers), as the queue's bulk action: the others are skipped with
    the reason; one recompute per period follows."""

    @extend_schema(
        request=BulkApproveInputSerializer, responses={200: BulkApproveSerializer, **problem_responses(400, 403)},
        examples=[
            OpenApiExample("Approve three", request_only=True, value={"returns": [42, 43, 51]}),
            OpenApiExample("Two approved, one skipped", response_only=True, value={
                "approved": [{**RETURN_EXAMPLE, "state": "approved"}, {**RETURN_EXAMPLE, "id": 43, "city": "510100",
                                                                       "state": "approved"}],
                "skipped": [{"id": 51, "city": "420100", "reason": "not a clean submitted return"}]}),
        ])
    def post(self, request):
        _require_reviewer(request)
        data = BulkApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        returns = list(returns_visible_to(user=request.user).filter(pk__in=data.validated_data["returns"]))
        if not returns:
            raise services.WorkflowError(_("Select the returns to approve."), code="nothing_selected")
        outcome = services.returns_bulk_approve(returns=returns, actor=request.user, ip_address=client_ip(request))
        return Response({"approved": IndicatorReturnSerializer(outcome.approved, many=True).data,
                         "skipped": [{"id": item.pk, "city": item.city.code, "reason": reason}
                                     for item, reason in outcome.skipped]})
