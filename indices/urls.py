from django.urls import path

from indices import views

app_name = "indices"
urlpatterns = [
    path("rankings/", views.rankings, name="rankings"),
    path("rankings/<int:year>/", views.ranking_detail, name="ranking"),
    path("cities/<str:code>/", views.city_detail, name="city"),
    path("methodology/", views.methodology_index, name="methodology"),
    path("methodology/<str:code>/<str:version>/", views.methodology_detail, name="methodology_version"),
    path("open-data/", views.open_data_index, name="open_data_index"),
    path("open-data/<int:year>/", views.open_data, name="open_data"),
    path("open-data/<int:year>/<str:name>", views.open_data_file, name="open_data_file"),
    path("index/runs/", views.run_list, name="runs"),
    path("index/runs/<int:year>/recompute/", views.run_recompute, name="run_recompute"),
    path("index/runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("index/runs/<int:pk>/publish/", views.run_publish, name="run_publish"),
    path("index/runs/<int:pk>/reports/rebuild/", views.run_reports_rebuild, name="run_reports_rebuild"),
    path("index/what-if/", views.whatif, name="whatif"),
    path("index/work/", views.work, name="work"),
    path("review/<int:pk>/impact/", views.return_impact, name="return_impact"),
]
