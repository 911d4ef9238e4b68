from indices.api.views import PublishedRunViewSet

# Registered on the one API router (ccfi_portal.urls), so that /api/v1/ lists every resource.
routes = [("runs", PublishedRunViewSet, "run")]
urlpatterns = []
