from django.urls import path

from indices.reports import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.report_list, name="list"),
    path("reports/<int:pk>/download/", views.report_download, name="download"),
    path("reports/<int:year>/cities/<str:code>/<str:language>/", views.city_report, name="city"),
]
