from rest_framework import permissions, viewsets

from ccfi_portal.cache import PublishedReadViewSetMixin
from indices.api.serializers import IndexRunDetailSerializer, IndexRunSerializer
from indices.models import IndexRun


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
