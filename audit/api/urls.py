from audit.api.views import AuditEventViewSet

# Registered on the one API router (ccfi_portal.urls), so that /api/v1/ lists every resource.
routes = [("audit-events", AuditEventViewSet, "audit-event")]
