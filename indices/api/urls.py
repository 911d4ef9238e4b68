from django.urls import path

from indices.api.views import (
    CityHistoryView,
    PublishedRunViewSet,
    ReportingPeriodViewSet,
    ReportViewSet,
    ScoreViewSet,
    SecretariatRunViewSet,
)

# Registered on the one API router (ccfi_portal.urls), so that /api/v1/ lists every resource.
routes = [
    ("runs", PublishedRunViewSet, "run"),
    ("periods", ReportingPeriodViewSet, "period"),
    ("scores", ScoreViewSet, "score"),
    ("reports", ReportViewSet, "report"),
    ("index-runs", SecretariatRunViewSet, "index-run"),
]
urlpatterns = [
    path("cities/<str:code>/history/", CityHistoryView.as_view(), name="city-history"),
]
