from django.urls import path
from rest_framework.routers import DefaultRouter

from reporting.api.views import CityViewSet, ReturnSubmitApi, ReturnValuesSaveApi, ReturnViewSet

router = DefaultRouter()
router.register("cities", CityViewSet, basename="city")
router.register("returns", ReturnViewSet, basename="return")
urlpatterns = [
    path("returns/<int:pk>/values/", ReturnValuesSaveApi.as_view(), name="return-values"),
    path("returns/<int:pk>/submit/", ReturnSubmitApi.as_view(), name="return-submit"),
    *router.urls,
]
