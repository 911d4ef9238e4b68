"""The index API: thin views over indices.selectors and indices.services. Public reads serve published runs
only (a provisional run is never served there); the secretariat's endpoints (``index-runs``) ask the
predicates of accounts.permissions, as the run pages do."""
from django.core.exceptions import ValidationError
from django.db.models import F
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_permissions import allowed_by
from accounts.models import City
from accounts.permissions import (
    may_publish_run,
    may_rebuild_reports,
    may_recompute_index,
    may_see_provisional,
    may_try_methodology,
)
from audit.services import client_ip
from ccfi_portal.api_errors import problem_responses
from ccfi_portal.cache import PublishedReadViewSetMixin
from indices import selectors, services
from indices.api import examples
from indices.api.serializers import (
    CityHistorySerializer,
    IndexRunDetailSerializer,
    IndexRunSerializer,
    RecomputeInputSerializer,
    ReportingPeriodSerializer,
    ReportSerializer,
    RunMethodologySerializer,
    ScoreSerializer,
    SecretariatRunDetailSerializer,
    SecretariatRunSerializer,
    WhatIfSerializer,
    WorkRequestSerializer,
)
from indices.forms import WhatIfForm
from indices.models import UNFINISHED_WORK, IndexRun, Report, Score, WorkRequest
from indices.reports.selectors import reports_visible_to, run_report_builds
from indices.reports.services import reports_rebuild
from reporting.models import ReportingPeriod


@extend_schema_view(
    list=extend_schema(examples=[examples.RUN_LIST]),
    retrieve=extend_schema(examples=[examples.RUN_DETAIL]),
)
class PublishedRunViewSet(PublishedReadViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Published index runs and each city's index score and rank: public, as on the rankings page, and from the
    published-read cache like it (ccfi_portal.cache; publishing a run starts a new generation). A provisional run
    is never served here (the secretariat reads those on the run pages)."""

    published_read_name = "api_runs"
    permission_classes = [permissions.AllowAny]
    filterset_fields = ["period__data_year"]

    def get_queryset(self):
        return (IndexRun.objects.published().select_related("period", "methodology")
                .order_by("-period__data_year"))

    def get_serializer_class(self):
        return IndexRunDetailSerializer if self.action == "retrieve" else IndexRunSerializer

    def get_object(self):
        run = super().get_object()
        run.index_scores = run.scores.filter(level=0).select_related("city").order_by("rank", "city__code")
        return run

    @extend_schema(responses={200: RunMethodologySerializer, **problem_responses(404)},
                   examples=[examples.RUN_METHODOLOGY])
    @action(detail=True, methods=["get"])
    def methodology(self, request, pk=None, format=None):  # format: the router's .json suffix
        """The methodology version the run was computed with, and the link to its JSON document."""
        run = super().get_object()
        return Response(RunMethodologySerializer(run.methodology, context={"request": request}).data)


@extend_schema_view(
    list=extend_schema(examples=[examples.PERIOD_LIST]),
    retrieve=extend_schema(examples=[examples.PERIOD]),
)
class ReportingPeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """The reporting periods (one a data year) and where each stands (its phase): public."""

    permission_classes = [permissions.AllowAny]
    serializer_class = ReportingPeriodSerializer
    lookup_field = "data_year"
    filterset_fields = ["state"]
    queryset = ReportingPeriod.objects.select_related("methodology").order_by("-data_year")


class NullsLastOrdering(filters.OrderingFilter):
    """A city without a score comes last either way (PostgreSQL sorts NULL first when descending, SQLite when
    ascending), and ties keep one order, so that pages do not overlap."""

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        field = F(self.param_map.get(param.lstrip("-"), param.lstrip("-")))
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)

    def filter(self, qs, value):
        ordered = super().filter(qs, value)
        return ordered.order_by(*ordered.query.order_by, "pk") if value else ordered


class ScoreFilter(filters.FilterSet):
    year = filters.NumberFilter(field_name="run__period__data_year", help_text="The data year.")
    run = filters.NumberFilter(field_name="run_id")
    node = filters.CharFilter(field_name="code", help_text="A node or indicator code, e.g. M1 or M1.1.")
    level = filters.NumberFilter(help_text="0: the index; 1: dimensions; then groups and indicators.")
    city = filters.CharFilter(field_name="city__code", help_text="A city code, e.g. 500000.")
    ordering = NullsLastOrdering(fields=(
        ("value", "score"), ("rank", "rank"), ("city__code", "city"), ("run__period__data_year", "year"),
        ("code", "node")))

    class Meta:
        model = Score
        fields = []


@extend_schema_view(list=extend_schema(examples=[examples.SCORE_LIST]),
                    retrieve=extend_schema(examples=[examples.SCORE]))
class ScoreViewSet(PublishedReadViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Every city's score, rank and rank band at every node of each published run's tree (what the open data's
    score, rank and rank-range files hold): public, from the published-read cache. E.g. the ranking of M1 in
    2024: ``?year=2024&node=M1&ordering=rank``; a city's profile: ``?year=2024&city=500000``."""

    published_read_name = "api_scores"
    permission_classes = [permissions.AllowAny]
    serializer_class = ScoreSerializer
    filterset_class = ScoreFilter

    def get_queryset(self):
        return (Score.objects.filter(run__in=IndexRun.objects.published()).select_related("city", "run__period")
                .order_by("-run__period__data_year", "level", "code", "rank", "city__code"))


@extend_schema(
    parameters=[OpenApiParameter("node", OpenApiTypes.STR, description="A node code (default: the index).")],
    responses={200: CityHistorySerializer, **problem_responses(404)}, examples=[examples.CITY_HISTORY],
)
class CityHistoryView(generics.GenericAPIView):
    """A city's score and rank in every published data year, oldest first (the index, or ``?node=``): public."""

    permission_classes = [permissions.AllowAny]
    serializer_class = CityHistorySerializer

    def get(self, request, code: str):
        city = get_object_or_404(City, code=code)
        node = request.query_params.get("node") or None
        history = selectors.city_history(city=city, code=node)
        return Response(self.get_serializer({"city": city, "node": node, "history": history}).data)


class ReportFilter(filters.FilterSet):
    year = filters.NumberFilter(field_name="run__period__data_year")
    city = filters.CharFilter(field_name="city__code")

    class Meta:
        model = Report
        fields = ["kind", "language"]


@extend_schema_view(
    list=extend_schema(examples=[examples.REPORT_LIST]),
    retrieve=extend_schema(examples=[examples.REPORT]),
)
class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    """The built reports of published runs a user may download (white papers for everyone; a city's report for
    its filers and reviewers), with the download link of the reports page."""

    permission_classes = [permissions.AllowAny]
    serializer_class = ReportSerializer
    filterset_class = ReportFilter

    def get_queryset(self):
        return reports_visible_to(user=self.request.user).order_by(
            "-run__period__data_year", "kind", "city__code", "language")


# The secretariat's: every run, recompute, publish, rebuild the reports, what-if.

class RunFilter(filters.FilterSet):
    year = filters.NumberFilter(field_name="period__data_year")
    published = filters.BooleanFilter(field_name="published_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = IndexRun
        fields = ["state", "is_provisional"]


@extend_schema_view(
    list=extend_schema(examples=[examples.SECRETARIAT_RUN_LIST], responses={
        200: SecretariatRunSerializer(many=True), **problem_responses(403)}),
    retrieve=extend_schema(examples=[examples.SECRETARIAT_RUN_DETAIL], responses={
        200: SecretariatRunDetailSerializer, **problem_responses(403, 404)}),
)
class SecretariatRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Every index run, published or not, with its diagnostics (what the run pages show): for the secretariat
    (reviewers and methodologists). Recompute, publish, rebuild reports and what-if ask their own predicate."""

    permission_classes = [allowed_by(may_see_provisional)]
    filterset_class = RunFilter

    def get_queryset(self):
        runs = IndexRun.objects.select_related("period", "methodology").order_by("-period__data_year", "-created_at")
        return runs if self.action == "retrieve" else runs.defer("inputs", "diagnostics")

    def get_serializer_class(self):
        return SecretariatRunDetailSerializer if self.action == "retrieve" else SecretariatRunSerializer

    def retrieve(self, request, *args, **kwargs):
        run = self.get_object()
        run.explanation = selectors.run_explanation(run=run)
        run.work_items = selectors.work_panel(run=run).items
        run.report_builds = run_report_builds(run=run) if run.published_at else None
        return Response(self.get_serializer(run).data)

    @extend_schema(request=RecomputeInputSerializer,
                   responses={202: WorkRequestSerializer, **problem_responses(400, 403, 404)},
                   examples=[examples.RECOMPUTE_REQUEST, examples.RECOMPUTE_ACCEPTED])
    @action(detail=False, methods=["post"], permission_classes=[allowed_by(may_recompute_index)])
    def recompute(self, request, format=None):
        """Recompute a data year's index from its approved returns: queued (the outbox), 202 with the work
        request to follow; the new run appears here when the worker has finished."""
        data = RecomputeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        period = get_object_or_404(ReportingPeriod, data_year=data.validated_data["data_year"])
        work = services.index_recompute_request(period=period, actor=request.user, ip_address=client_ip(request))
        return Response(WorkRequestSerializer(work).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: SecretariatRunSerializer, **problem_responses(400, 403, 404)},
                   examples=[examples.PUBLISHED])
    @action(detail=True, methods=["post"], permission_classes=[allowed_by(may_publish_run)])
    def publish(self, request, pk=None, format=None):
        """Publish a finished run of every city: it replaces the period's published run (and its reports are
        built); 400 ``not_succeeded`` or ``provisional`` otherwise."""
        run = services.index_run_publish(run=self.get_object(), actor=request.user, ip_address=client_ip(request))
        return Response(SecretariatRunSerializer(run).data)

    @extend_schema(request=None, responses={202: WorkRequestSerializer(many=True), **problem_responses(400, 403, 404)},
                   examples=[examples.REBUILD_ACCEPTED])
    @action(detail=True, methods=["post"], url_path="reports/rebuild", url_name="reports-rebuild",
            permission_classes=[allowed_by(may_rebuild_reports)])
    def rebuild_reports(self, request, pk=None, format=None):
        """Build a published run's reports again (queued): 202 with the unfinished report builds."""
        run = self.get_object()
        reports_rebuild(run=run, actor=request.user, ip_address=client_ip(request))
        work = WorkRequest.objects.filter(run=run, state__in=UNFINISHED_WORK).select_related("period")
        return Response(WorkRequestSerializer(work, many=True).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=[OpenApiParameter("methodology", OpenApiTypes.INT, required=True,
                                                description="The id of the methodology version to try.")],
                   responses={200: WhatIfSerializer, **problem_responses(400, 403, 404)},
                   examples=[examples.WHATIF])
    @action(detail=True, methods=["get"], url_path="what-if", url_name="what-if",
            permission_classes=[allowed_by(may_try_methodology)])
    def whatif(self, request, pk=None, format=None):
        """Every city's index score and rank under another methodology version, computed on this run's data,
        beside the run's own (as the what-if page)."""
        form = WhatIfForm({"run": self.get_object().pk, "methodology": request.query_params.get("methodology")})
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())  # problem details, each error with its field and code
        comparison = selectors.methodology_whatif(run=form.cleaned_data["run"],
                                                  methodology=form.cleaned_data["methodology"])
        return Response(WhatIfSerializer(comparison).data)

