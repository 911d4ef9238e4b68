from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import views as account_views
from audit.api import urls as audit_api
from ccfi_portal import api_docs, health, observability
from indices import views as indices_views
from indices.api import urls as indices_api
from methodology.api import urls as methodology_api
from reporting.api import urls as reporting_api

api_router = DefaultRouter()
for prefix, viewset, basename in (*reporting_api.routes, *methodology_api.routes, *indices_api.routes,
                                 *audit_api.routes):
    api_router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", observability.metrics, name="metrics"),  # loopback or a bearer token only (README)
    # Browsers ask for /favicon.ico whatever the pages link (base.html links the same icon).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("img/favicon.svg"), permanent=True),
         name="favicon"),
    path("", indices_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", account_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/second-factor/", account_views.second_factor, name="second_factor"),
    path("accounts/tokens/", account_views.api_tokens, name="api_tokens"),
    path("accounts/tokens/<int:pk>/revoke/", account_views.api_token_revoke_view, name="api_token_revoke"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("reporting.urls")),
    path("", include("indices.urls")),
    path("", include("indices.reports.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(reporting_api.urlpatterns)),
    path("api/v1/", include(indices_api.urlpatterns)),
    path("api/v1/", include(api_router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The documentation pages, their assets served by the portal (drf-spectacular-sidecar): docs/api.md.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", api_docs.redoc, name="api-redoc"),
]

# API paths that match no route answer in the API's error shape (problem details).
handler404 = "ccfi_portal.api_errors.not_found"

admin.site.site_header = "CCFI 中国消费金融指数 · 管理"
admin.site.site_title = "CCFI Portal"
