"""The audit administrator, in Chromium, finds the value change a filer has just made, reads its old and
new value, and exports it: the downloaded CSV has it."""
import csv
import io

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from tests.e2e.test_filing_journey import log_in
from tests.reporting.conftest import (  # noqa: F401  (fixtures)
    ccfi,
    draft,
    last_year,
    period,
    period_2023,
    today,
    values,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_auditor_finds_and_exports_a_filers_value_change(live_server, browser, draft, filer_chongqing,  # noqa: F811
                                                            audit_admin, values):  # noqa: F811
    old = str(values["500000"][2024]["M4.1"])
    # The filer changes M4.1 (a possible but unusual value: saved, with a warning).
    filer_context, filer = log_in(browser, live_server, "filer-chongqing")
    filer.get_by_test_id("nav-returns").click()
    filer.get_by_role("link", name="继续填报").click()
    filer.get_by_test_id("section-M").locator("summary").click()
    filer.locator("#value-M4_1").fill("5")
    filer.get_by_test_id("save").click()
    expect(filer.get_by_test_id("findings-M4_1")).to_contain_text("高于通常上限 4 %")
    filer_context.close()
    event = AuditEvent.objects.filter(event_type="return.values_change").latest("pk")
    assert event.details["values"] == [{"code": "M4.1", "field": "value", "old": old, "new": "5"}]
    assert event.link.sequence > 1  # linked into the chain as the save committed

    # The auditor searches the trail for the indicator, in the admin.
    auditor_context, auditor = log_in(browser, live_server, "auditadmin")
    auditor.goto(f"{live_server.url}/admin/audit/auditevent/?event_type=return.values_change")
    auditor.locator("#searchbar").fill("M4.1")
    auditor.locator("#searchbar").press("Enter")
    rows = auditor.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)  # the draft's first fill (fixture), then the filer's change: newest first
    expect(rows.first).to_contain_text("修改数值")
    expect(rows.first).to_contain_text(f"M4.1 数值: {old} → 5")
    expect(rows.first).to_contain_text("filer-chongqing")

    # The event's page: the change as a table of field, old value and new value.
    rows.first.locator("th a").click()
    changes = auditor.get_by_test_id("audit-changes")
    expect(changes.locator("tbody tr")).to_have_count(1)
    expect(changes.locator("tbody td")).to_have_text(["M4.1 数值", old, "5"])

    # Back to the filtered list, and its export.
    auditor.go_back()
    with auditor.expect_download() as download_info:
        auditor.get_by_test_id("audit-export").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-trail-") and download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()
    header, *body = list(csv.reader(io.StringIO(text)))
    assert len(body) == 2
    row = dict(zip(header, body[0], strict=True))
    assert row["事件类型"] == "修改数值" and row["用户"] == "filer-chongqing"
    assert row["变更（原值 → 新值）"] == f"M4.1 数值: {old} → 5"
    assert AuditEvent.objects.filter(event_type="audit.export", actor=audit_admin).exists()
    auditor_context.close()
