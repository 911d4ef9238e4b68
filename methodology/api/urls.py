from methodology.api.views import MethodologyVersionViewSet

# Registered on the one API router (ccfi_portal.urls), so that /api/v1/ lists every resource.
routes = [("methodologies", MethodologyVersionViewSet, "methodology")]
urlpatterns = []
