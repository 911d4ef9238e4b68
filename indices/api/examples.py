"""The OpenAPI examples of the index API (drf-spectacular): one or more per endpoint, as /api/docs/ shows them."""
from drf_spectacular.utils import OpenApiExample

_RUN = {"id": 12, "data_year": 2024, "methodology": "CCFI 2025.1", "is_provisional": False, "units": 30,
        "published_at": "2025-06-30T08:00:00+08:00"}
_PAGE = {"count": 1, "next": None, "previous": None}

RUN_LIST = OpenApiExample("Published runs", value={**_PAGE, "results": [_RUN]}, response_only=True)
RUN_DETAIL = OpenApiExample("A published run with its index scores", response_only=True, value={
    **_RUN, "scores": [{"city": "310000", "city_name_zh": "上海", "city_name_en": "Shanghai", "value": 78.41,
                        "rank": 1, "imputed": False}]})
RUN_METHODOLOGY = OpenApiExample("The methodology of a run", response_only=True, value={
    "id": 3, "code": "CCFI", "version": "2025.1", "title_zh": "中国消费金融指数",
    "title_en": "China Consumer Finance Index", "state": "published",
    "published_at": "2025-03-01T10:00:00+08:00", "notes": "",
    "document_url": "https://ccfi.example.cn/api/v1/methodologies/3/document/"})
PERIOD = OpenApiExample("A reporting period", response_only=True, value={
    "data_year": 2025, "opens_on": "2026-01-05", "due_on": "2026-03-31", "locks_on": "2026-04-15",
    "state": "open", "phase": "open", "phase_label": "开放报送", "methodology": "CCFI 2025.1"})
PERIOD_LIST = OpenApiExample("Reporting periods", response_only=True,
                             value={**_PAGE, "results": [PERIOD.value]})
SCORE_LIST = OpenApiExample("?year=2024&node=M1&ordering=rank", response_only=True, value={
    **_PAGE, "results": [{"run": 12, "data_year": 2024, "node": "M1", "level": 1, "city": "310000",
                          "city_name_zh": "上海", "city_name_en": "Shanghai", "score": 81.2, "rank": 1,
                          "rank_p05": 1.0, "rank_median": 1.0, "rank_p95": 2.0, "imputed": False}]})
SCORE = OpenApiExample("One score", response_only=True, value=SCORE_LIST.value["results"][0])
CITY_HISTORY = OpenApiExample("Chongqing's index, year by year", response_only=True, value={
    "city": "500000", "node": None, "history": [
        {"data_year": 2023, "run": 7, "score": 61.3, "rank": 9, "cities": 30},
        {"data_year": 2024, "run": 12, "score": 63.0, "rank": 8, "cities": 30}]})
REPORT = OpenApiExample("A white paper", response_only=True, value={
    "id": 40, "data_year": 2024, "run": 12, "kind": "white_paper", "language": "zh-hans", "city": None,
    "size": 1843211, "pages": 48, "sha256": "9f2c…", "built_at": "2025-06-30T08:03:12+08:00",
    "download_url": "https://ccfi.example.cn/reports/40/download/"})
REPORT_LIST = OpenApiExample("Reports", response_only=True, value={**_PAGE, "results": [REPORT.value]})

_SECRETARIAT_RUN = {**_RUN, "published_at": None, "is_provisional": True, "units": 28, "state": "succeeded",
                    "input_hash": "5d1e…", "engine_version": "1.4", "edition": None,
                    "created_at": "2026-04-02T09:00:00+08:00", "started_at": "2026-04-02T09:00:01+08:00",
                    "finished_at": "2026-04-02T09:00:03+08:00",
                    "timings": {"load": 0.12, "compute": 1.9, "store": 0.3}, "error": ""}
SECRETARIAT_RUN_LIST = OpenApiExample("Every run, published or not", response_only=True,
                                      value={**_PAGE, "results": [_SECRETARIAT_RUN]})
SECRETARIAT_RUN_DETAIL = OpenApiExample("A run with its diagnostics", response_only=True, value={
    **_SECRETARIAT_RUN, "diagnostics": {
        "indicators": [{"code": "M1.1", "name_zh": "…", "name_en": "…", "availability": 1.0}],
        "groups": [{"code": "M1", "name_zh": "…", "name_en": "…", "alpha": 0.81}], "correlation_flags": [],
        "sensitivity": [{"code": "M2", "name_zh": "…", "name_en": "…", "shift": 1.4}],
        "treatments": [], "imputed_cells": []},
    "work": [{"id": 311, "task": "indices.recompute_index", "state": "done", "data_year": 2024, "run": None,
              "created_at": "2026-04-02T09:00:00+08:00"}],
    "report_builds": None})
RECOMPUTE_REQUEST = OpenApiExample("Recompute 2024", value={"data_year": 2024}, request_only=True)
RECOMPUTE_ACCEPTED = OpenApiExample("Queued", status_codes=["202"], response_only=True, value={
    "id": 311, "task": "indices.recompute_index", "state": "pending", "data_year": 2024, "run": None,
    "created_at": "2026-04-02T09:00:00+08:00"})
PUBLISHED = OpenApiExample("Published", response_only=True, value={
    **_SECRETARIAT_RUN, "is_provisional": False, "units": 30, "published_at": "2026-04-02T10:00:00+08:00",
    "edition": 2})
REBUILD_ACCEPTED = OpenApiExample("Queued builds", status_codes=["202"], response_only=True, value=[
    {"id": 320, "task": "indices.build_report", "state": "pending", "data_year": None, "run": 12,
     "created_at": "2026-04-02T10:05:00+08:00"}])
WHATIF = OpenApiExample("A draft against the 2024 run", response_only=True, value={
    "run": 12, "methodology": "CCFI 2026.0", "error": "", "moved": 4,
    "rows": [{"city": "310000", "base_score": 78.41, "base_rank": 1, "new_score": 77.9, "new_rank": 2,
              "rank_change": -1}],
    "weight_changes": [{"code": "M1", "name_zh": "…", "name_en": "…", "base": 0.25, "new": 0.3}]})
