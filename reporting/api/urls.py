from django.urls import path

from reporting.api.views import CityViewSet, ReturnApproveApi, ReturnSubmitApi, ReturnValuesSaveApi, ReturnViewSet

# Registered on the one API router (ccfi_portal.urls), so that /api/v1/ lists every resource.
routes = [("cities", CityViewSet, "city"), ("returns", ReturnViewSet, "return")]
urlpatterns = [
    path("returns/<int:pk>/values/", ReturnValuesSaveApi.as_view(), name="return-values"),
    path("returns/<int:pk>/submit/", ReturnSubmitApi.as_view(), name="return-submit"),
    path("returns/<int:pk>/approve/", ReturnApproveApi.as_view(), name="return-approve"),
]
