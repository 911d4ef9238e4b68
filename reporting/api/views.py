from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import client_ip
from ccfi_portal.cache import PublishedReadViewSetMixin
from reporting import selectors, services
from reporting.api.serializers import (
    CitySerializer,
    IndicatorReturnDetailSerializer,
    IndicatorReturnSerializer,
    ValuesSaveInputSerializer,
)
from reporting.models import Channel
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
    """Returns the user may see: a filer its city's, reviewers all; another city's answers 404."""

    filterset_fields = ["state", "period__data_year"]

    def get_queryset(self):
        return returns_visible_to(user=self.request.user).order_by("period__data_year", "city__code", "revision")

    def get_serializer_class(self):
        return IndicatorReturnDetailSerializer if self.action == "retrieve" else IndicatorReturnSerializer

    def get_object(self):
        indicator_return = super().get_object()
        indicator_return.review_values = selectors.review_values(indicator_return=indicator_return)
        return indicator_return


def _visible(request, pk):
    return get_object_or_404(returns_visible_to(user=request.user), pk=pk)


def _error(error: ValidationError) -> Response:
    return Response({"detail": error.messages}, status=status.HTTP_400_BAD_REQUEST)


class ReturnValuesSaveApi(APIView):
    """Save values of a draft (channel "api"): the same validation and change records as the form."""

    @extend_schema(request=ValuesSaveInputSerializer, responses={200: dict, 400: dict, 409: dict})
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
            return Response({"detail": "conflict", "edit_version": conflict.current_version, "changes": [
                {"code": change.indicator.code, "field": change.field, "old": change.old, "new": change.new,
                 "by": change.actor.username if change.actor else None, "at": change.changed_at}
                for change in conflict.changes]}, status=status.HTTP_409_CONFLICT)
        except ValidationError as error:
            return _error(error)
        return Response({
            "edit_version": outcome.edit_version, "changed": outcome.changed,
            "rejected": sorted(outcome.result.rejected),
            "findings": [{"code": f.code, "check": f.check, "severity": f.severity, "message": f.render()}
                         for f in outcome.result.findings],
        })


class ReturnSubmitApi(APIView):
    """Submit (or resubmit) a return: complete, no errors, every warning explained."""

    @extend_schema(request=None, responses={200: IndicatorReturnSerializer, 400: dict})
    def post(self, request, pk: int):
        indicator_return = _visible(request, pk)
        try:
            indicator_return = services.return_submit(indicator_return=indicator_return, actor=request.user,
                                                      ip_address=client_ip(request))
        except ValidationError as error:
            return _error(error)
        return Response(IndicatorReturnSerializer(indicator_return).data)
