from rest_framework import permissions, viewsets

from reporting.api.serializers import CitySerializer
from reporting.selectors import city_list


class CityViewSet(viewsets.ReadOnlyModelViewSet):
    """The cities the index covers; public."""

    queryset = city_list()
    serializer_class = CitySerializer
    permission_classes = [permissions.AllowAny]
    lookup_field = "code"
    filterset_fields = ["province_en"]
