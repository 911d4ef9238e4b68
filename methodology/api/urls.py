from rest_framework.routers import DefaultRouter

from methodology.api.views import MethodologyVersionViewSet

router = DefaultRouter()
router.register("methodologies", MethodologyVersionViewSet, basename="methodology")
urlpatterns = router.urls
