"""The API's ReDoc page. ReDoc styles itself with <style> elements it writes at run time and searches in a
web worker made from a blob: this one page's policy allows inline styles and blob: workers, nothing more
(scripts stay 'self' only). Swagger UI needs no exception (SpectacularSwaggerSplitView, ccfi_portal.urls)."""
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView

redoc = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="api-schema"))
