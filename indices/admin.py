"""Index runs, scores and reports in the admin: read only."""
from django.contrib import admin

from audit.admin import ReadOnlyAdminMixin
from indices.models import IndexRun, Report, Score, WorkRequest

# Runs and scores are written by the index services only (computed, then published by a
# methodologist on the site), so the admin shows them and changes none of them.

@admin.register(IndexRun)
class IndexRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("period", "methodology", "state", "is_provisional", "units", "created_at", "published_at")
    list_filter = ("state", "is_provisional", "period", "methodology")
    search_fields = ("input_hash",)
    list_select_related = ("period", "methodology")
    date_hierarchy = "created_at"


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("run", "city", "code", "level", "value", "rank", "rank_p05", "rank_p95", "imputed")
    list_filter = ("level", "imputed", "run__period")
    search_fields = ("code", "city__name_zh", "city__name_en")
    list_select_related = ("run__period", "run__methodology", "city")


# Reports are built by indices.reports.services (on publish, or build_report from the shell); the
# admin shows each build's state, checksum and timing and changes none of them.

@admin.register(Report)
class ReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("run", "kind", "city", "language", "state", "pages", "size", "build_seconds", "built_at")
    list_filter = ("kind", "language", "state", "run__period")
    search_fields = ("sha256", "city__name_zh", "city__name_en")
    list_select_related = ("run__period", "run__methodology", "city")


# The outbox: background work asked for and its outcome, written by indices.outbox and the tasks only.

@admin.register(WorkRequest)
class WorkRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "task", "args", "state", "attempts", "worker", "started_at", "finished_at")
    list_filter = ("state", "task")
    list_select_related = ("period", "run")
    date_hierarchy = "created_at"
