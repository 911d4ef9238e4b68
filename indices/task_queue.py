"""Enqueue the indices app's Celery tasks by their registered names.

indices.tasks imports the services that do the work; the services that queue work (a recompute asked
for by hand, the report builds after publishing) enqueue through here instead of importing
indices.tasks back. The task is looked up in the Celery app's registry (indices.tasks is loaded when
the app is ready, by indices.receivers), so eager mode and a patched ``delay`` apply as on the task.
"""
from celery import current_app

RECOMPUTE_INDEX_TASK = "indices.recompute_index"
BUILD_REPORT_TASK = "indices.build_report"


def task_enqueue(name: str, *args) -> None:
    """``delay`` the task registered as ``name`` with ``args``."""
    current_app.tasks[name].delay(*args)
