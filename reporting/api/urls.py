from django.urls import path

from reporting.api.views import (
    CityViewSet,
    ReturnAmendApi,
    ReturnAnswerApi,
    ReturnApproveApi,
    ReturnEvidenceApi,
    ReturnSendBackApi,
    ReturnSubmitApi,
    ReturnValuesSaveApi,
    ReturnViewSet,
    ReviewBulkApproveApi,
    ReviewDataApi,
    ReviewQueueApi,
)

# Registered on the one API router (ccfi_portal.urls), so that /api/v1/ lists every resource.
routes = [("cities", CityViewSet, "city"), ("returns", ReturnViewSet, "return")]
urlpatterns = [
    # Filers.
    path("returns/<int:pk>/values/", ReturnValuesSaveApi.as_view(), name="return-values"),
    path("returns/<int:pk>/evidence/", ReturnEvidenceApi.as_view(), name="return-evidence"),
    path("returns/<int:pk>/submit/", ReturnSubmitApi.as_view(), name="return-submit"),
    path("returns/<int:pk>/answer/", ReturnAnswerApi.as_view(), name="return-answer"),
    path("returns/<int:pk>/amend/", ReturnAmendApi.as_view(), name="return-amend"),
    # Reviewers.
    path("returns/<int:pk>/send-back/", ReturnSendBackApi.as_view(), name="return-send-back"),
    path("returns/<int:pk>/approve/", ReturnApproveApi.as_view(), name="return-approve"),
    path("review/", ReviewQueueApi.as_view(), name="review-queue"),
    path("review/bulk-approve/", ReviewBulkApproveApi.as_view(), name="review-bulk-approve"),
    path("review/<int:pk>/", ReviewDataApi.as_view(), name="review-detail"),
]
