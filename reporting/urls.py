from django.urls import path

from reporting import views

app_name = "reporting"
urlpatterns = [
    path("returns/", views.dashboard, name="dashboard"),
    path("returns/start/<int:period_id>/", views.return_start, name="return_start"),
    path("returns/<int:pk>/", views.return_detail, name="return_detail"),
    path("returns/<int:pk>/validate/<str:code>/", views.return_validate, name="return_validate"),
    path("returns/<int:pk>/history/", views.return_history, name="return_history"),
    path("returns/<int:pk>/amend/", views.return_amend, name="return_amend"),
    path("returns/<int:pk>/withdraw/", views.return_withdraw, name="return_withdraw"),
    path("returns/<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("returns/<int:pk>/template/", views.import_template, name="import_template"),
    path("returns/<int:pk>/import/", views.import_upload, name="import_upload"),
    path("evidence/<int:evidence_id>/", views.evidence_download, name="evidence_download"),
    path("imports/<int:report_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:report_id>/apply/", views.import_apply, name="import_apply"),
    path("imports/<int:report_id>/report.csv", views.import_report_download, name="import_report"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/", views.inbox_open, name="inbox_open"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/bulk-approve/", views.review_bulk_approve, name="review_bulk_approve"),
    path("review/board/", views.completeness_board, name="board"),
    path("review/<int:pk>/", views.review_detail, name="review_detail"),
    path("review/periods/", views.period_list, name="periods"),
    path("review/periods/<int:pk>/close/", views.period_close, name="period_close"),
]
