"""Pages of the reporting app. Thin: they read through selectors, change through services, and
look every return up among those the user may see, so that another city's return is a 404.

Split by concern (filing, evidence, imports, review, the inbox, the front page); the views that the URL
configurations name are re-exported here, so that ``views.X`` keeps working.
"""
from reporting.views.evidence import evidence_download, evidence_upload
from reporting.views.filing import (
    dashboard,
    return_amend,
    return_detail,
    return_history,
    return_start,
    return_validate,
    return_withdraw,
)
from reporting.views.home import home
from reporting.views.imports import import_apply, import_detail, import_report_download, import_template, import_upload
from reporting.views.inbox import inbox, inbox_open, inbox_read_all
from reporting.views.periods import period_close, period_list
from reporting.views.review import completeness_board, review_bulk_approve, review_detail, review_queue

__all__ = [
    "completeness_board",
    "dashboard",
    "evidence_download",
    "evidence_upload",
    "home",
    "inbox",
    "inbox_open",
    "inbox_read_all",
    "import_apply",
    "import_detail",
    "import_report_download",
    "import_template",
    "import_upload",
    "period_close",
    "period_list",
    "return_amend",
    "return_withdraw",
    "return_detail",
    "return_history",
    "return_start",
    "return_validate",
    "review_bulk_approve",
    "review_detail",
    "review_queue",
]
