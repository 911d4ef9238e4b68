from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import may_review
from audit.services import client_ip
from ccfi_portal.api_errors import problem, problem_responses
from ccfi_portal.cache import PublishedReadViewSetMixin
from reporting import selectors, services
from reporting.api.serializers import (
    CitySerializer,
    IndicatorReturnDetailSerializer,
    IndicatorReturnSerializer,
    ReturnStartInputSerializer,
    ValuesSaveInputSerializer,
)
from reporting.models import Channel, ReportingPeriod
from reporting.selectors import city_list, returns_visible_to


class CityViewSet(PublishedReadViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The cities the index covers; public, from the published-read cache (ccfi_portal.cache)."""

    published_read_name = "api_cities"
    queryset = city_list()
    serializer_class = CitySerializer
    permission_classes = [permissions.AllowAny]
    lookup_field = "code"
    filterset_fields = ["province_en"]


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
        201: IndicatorReturnSerializer, **problem_responses(400, 403, 404)})
    def create(self, request, *args, **kwargs):
        if not request.user.city_id:
            raise Http404  # only a city's filer starts a return, as on the pages
        data = ReturnStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        period = get_object_or_404(ReportingPeriod, data_year=data.validated_data["data_year"])
        indicator_return = services.return_start(period=period, city=request.user.city, actor=request.user,
                                                 ip_address=client_ip(request))
        return Response(IndicatorReturnSerializer(indicator_return).data, status=status.HTTP_201_CREATED)


def _visible(request, pk):
    return get_object_or_404(returns_visible_to(user=request.user), pk=pk)


class ReturnValuesSaveApi(APIView):
    """Save values of a draft (channel "api"): the same validation and change records as the form."""

    @extend_schema(request=ValuesSaveInputSerializer, responses={
        200: dict, **problem_responses(400, 403, 404, 409)})
    def patch(self, request, pk: int):
        indicator_return = _visible(request, pk)
        data = ValuesSaveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entries = {}
        for code, given in data.validated_data["values"].items():
            entries[code] = services.ValueEntry(**{name: given[name] for name in (
                "value", "observation_status", "source_note", "explanation") if name in given})
        try:
            outcome = services.return_values_save(
                indicator_return=indicator_return, actor=request.user, entries=entries, channel=Channel.API,
                expected_version=data.validated_data["edit_version"], ip_address=client_ip(request))
        except services.EditConflict as conflict:
            return problem(
                status=status.HTTP_409_CONFLICT, code="edit_conflict",
                detail=_("The values were changed since you read them: see the changes, then send yours again "
                         "with the current edit version."),
                edit_version=conflict.current_version, changes=[
                    {"code": change.indicator.code, "field": change.field, "old": change.old, "new": change.new,
                     "by": change.actor.username if change.actor else None, "at": change.changed_at}
                    for change in conflict.changes])
        return Response({
            "edit_version": outcome.edit_version, "changed": outcome.changed,
            "rejected": sorted(outcome.result.rejected),
            "findings": [{"code": f.code, "check": f.check, "severity": f.severity, "message": f.render()}
                         for f in outcome.result.findings],
        })


class ReturnSubmitApi(APIView):
    """Submit (or resubmit) a return: complete, no errors, every warning explained."""

    @extend_schema(request=None, responses={200: IndicatorReturnSerializer, **problem_responses(400, 403, 404)})
    def post(self, request, pk: int):
        indicator_return = _visible(request, pk)
        indicator_return = services.return_submit(indicator_return=indicator_return, actor=request.user,
                                                  ip_address=client_ip(request))
        return Response(IndicatorReturnSerializer(indicator_return).data)


class ReturnApproveApi(APIView):
    """Approve a submitted return (reviewers): the same rules as the review page; the index is recomputed."""

    @extend_schema(request=None, responses={200: IndicatorReturnSerializer, **problem_responses(400, 403, 404)})
    def post(self, request, pk: int):
        if not may_review(request.user):
            raise PermissionDenied
        indicator_return = services.return_approve(indicator_return=_visible(request, pk), actor=request.user,
                                                   ip_address=client_ip(request))
        return Response(IndicatorReturnSerializer(indicator_return).data)
