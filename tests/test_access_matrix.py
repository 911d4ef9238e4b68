"""The access matrix: every URL pattern of the root URLconf, requested as each of eight actors, against a table
of what is intended (README: roles and pages; accounts.permissions; the views' and selectors' docstrings).

* The patterns come from ``django.urls.get_resolver()`` (includes recursed). ``test_every_url_pattern_is_in_the_table``
  fails when a pattern has no row (or a row names no pattern): a new URL must be given its row here.
* Each cell is one test, named ``<url key>-<method>-<actor>``. The expected outcomes are:
  ``ok`` allowed (2xx, a redirect that is not to a login page, or 400/409 with validation errors),
  ``denied`` 403, ``hidden`` 404, ``login`` a redirect to a login page, a number for that exact status,
  ``provisional`` a page that shows an unpublished (provisional) index run, ``secretariat`` a run page that shows the
  secretariat's report build states. POSTs carry just enough to reach the permission decision.
* The Django admin: the site's own pages have rows; each registered ModelAdmin has rows for its changelist, add and
  change page (of one real object); its history, delete and ``<object_id>/`` pages follow ``ADMIN_RULES`` below.
* Data: the demo (``load_demo``, well under a second) plus a few objects made through the portal's own pages, built
  once for the module inside a transaction that is rolled back at the end; each cell runs in its own savepoint.

Only URL names, ``get_user_model()`` and ``apps.get_model()`` are used, so models may move between apps.
"""
from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client, TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

ACTORS = ("anonymous", "filer", "otherfiler", "reviewer", "methodologist", "secadmin", "auditadmin", "superuser")
# The demo's accounts: the filer of Chongqing (city A, whose objects the URLs name), the filer of Chengdu (city B).
USERNAMES = {"filer": "filer-chongqing", "otherfiler": "filer-chengdu", "reviewer": "reviewer",
             "methodologist": "methodologist", "secadmin": "secadmin", "auditadmin": "auditadmin",
             "superuser": "admin"}
CITY_A, CITY_B = "500000", "510100"

OK, DENY, HIDE, LOGIN = "ok", "denied", "hidden", "login"
PROV, SECR = "provisional", "secretariat"
UNAUTH = 401  # the API without credentials: 401 with WWW-Authenticate: Bearer (accounts.authentication)


def everyone(value) -> tuple:
    return (value,) * len(ACTORS)


def signed_in(value, anonymous=LOGIN) -> tuple:
    return (anonymous, *(value,) * (len(ACTORS) - 1))


def staff(methodologist, secadmin, auditadmin, superuser) -> tuple:
    """An admin page: anyone without is_staff (anonymous, filers, the reviewer) goes to the admin's login page."""
    return (LOGIN, LOGIN, LOGIN, LOGIN, methodologist, secadmin, auditadmin, superuser)


POST_ONLY = signed_in(405)  # the GET of an action: login first, then 405
API_POST_ONLY = signed_in(405, anonymous=UNAUTH)  # DRF answers an anonymous request 401 before the method check

# Keys: the URL name (namespaced), ".format" for DRF's format-suffix twin, "#2" for a second pattern of the same name
# and route, "admin:<app>_<model>_object" and "admin:catch_all" for the admin's unnamed patterns; "[variant]" or
# "?query" pick other objects or queries.
# Columns: anonymous, filer (city A), otherfiler (city B), reviewer, methodologist, secadmin, auditadmin, superuser.
TABLE: dict[tuple[str, str], tuple] = {
    # The site and accounts.
    ("home", "GET"): everyone(OK),
    ("login", "GET"): everyone(OK),
    ("logout", "GET"): everyone(405),
    ("logout", "POST"): everyone(OK),
    ("password_change", "GET"): signed_in(OK),
    ("password_change", "POST"): signed_in(OK),  # empty: the form's errors
    ("password_change_done", "GET"): signed_in(OK),
    ("second_factor", "GET"): signed_in(OK),  # OTP_REQUIRED is off: straight on
    ("api_tokens", "GET"): signed_in(OK),  # each user's own tokens
    ("api_tokens", "POST"): signed_in(OK),  # empty: the form's errors
    ("api_token_revoke", "GET"): POST_ONLY,
    ("api_token_revoke", "POST"): (LOGIN, OK, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE),  # the filer's token: theirs only
    ("set_language", "POST"): everyone(OK),
    # The inbox: each user's own notices; opening one marks it read and redirects to its page (the filer's own
    # notice here: anyone else gets 404).
    ("reporting:inbox", "GET"): signed_in(OK),
    ("reporting:inbox_open", "GET"):             (LOGIN, OK, HIDE, HIDE, HIDE, HIDE, HIDE, HIDE),
    ("reporting:inbox_read_all", "GET"): POST_ONLY,
    ("reporting:inbox_read_all", "POST"): signed_in(OK),
    ("healthz", "GET"): everyone(OK),  # probes: public, past every login gate
    ("readyz", "GET"): everyone(OK),  # 200: the tests run tasks in-process (broker and workers "eager")
    ("metrics", "GET"): everyone(OK),  # the test client is 127.0.0.1; other addresses: tests/test_observability.py
    ("favicon", "GET"): everyone(OK),  # a redirect to the icon among the static files
    # Filing. A return of city A: its filer sees it, city B's filer gets 404, so does everyone not of the
    # secretariat; the reviewer reads it but never changes its values (403 from the service).
    #                                             anon   filer  other  review method secadm audit  super
    ("reporting:dashboard", "GET"):              (LOGIN, OK, OK, OK, DENY, DENY, DENY, OK),
    ("reporting:return_start", "GET"): POST_ONLY,
    ("reporting:return_start", "POST"):          (LOGIN, OK, OK, HIDE, HIDE, HIDE, HIDE, HIDE),  # no city: 404
    ("reporting:return_detail", "GET"):          (LOGIN, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("reporting:return_detail", "POST"):         (LOGIN, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),  # values save
    ("reporting:return_validate", "GET"): POST_ONLY,
    ("reporting:return_validate", "POST"):       (LOGIN, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    ("reporting:return_history", "GET"):         (LOGIN, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("reporting:return_amend", "GET"): POST_ONLY,
    ("reporting:return_amend", "POST"):          (LOGIN, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),  # reviewers amend too
    # Withdrawing: city A's filer (and the superuser) reach the service, which refuses revision 1 with a message.
    ("reporting:return_withdraw", "GET"): POST_ONLY,
    ("reporting:return_withdraw", "POST"):       (LOGIN, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    ("reporting:evidence_upload", "GET"): POST_ONLY,
    ("reporting:evidence_upload", "POST"):       (LOGIN, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    ("reporting:import_template", "GET"):        (LOGIN, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("reporting:import_upload", "GET"):          (LOGIN, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    ("reporting:import_upload", "POST"):         (LOGIN, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    ("reporting:evidence_download", "GET"):      (LOGIN, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("reporting:import_detail", "GET"):          (LOGIN, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("reporting:import_apply", "GET"): POST_ONLY,
    # Only the person who uploaded a file applies it (values_import_apply), the superuser included.
    ("reporting:import_apply", "POST"):          (LOGIN, OK, HIDE, DENY, HIDE, HIDE, HIDE, DENY),
    ("reporting:import_report", "GET"):          (LOGIN, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    # Review: reviewers (and the superuser) only; a filer's own return is 403 there, another city's 404.
    ("reporting:review_queue", "GET"):           (LOGIN, DENY, DENY, OK, DENY, DENY, DENY, OK),
    ("reporting:review_bulk_approve", "GET"): POST_ONLY,
    ("reporting:review_bulk_approve", "POST"):   (LOGIN, DENY, DENY, OK, DENY, DENY, DENY, OK),
    ("reporting:board", "GET"):                  (LOGIN, DENY, DENY, OK, DENY, DENY, DENY, OK),
    ("reporting:board", "POST"):                 (LOGIN, DENY, DENY, OK, DENY, DENY, DENY, OK),  # extension
    ("reporting:periods", "GET"):                (LOGIN, DENY, DENY, OK, DENY, DENY, DENY, OK),
    ("reporting:periods", "POST"):               (LOGIN, DENY, DENY, OK, DENY, DENY, DENY, OK),  # empty: 400
    ("reporting:period_close", "GET"): POST_ONLY,
    ("reporting:period_close", "POST"):          (LOGIN, DENY, DENY, OK, DENY, DENY, DENY, OK),  # unconfirmed
    ("reporting:review_detail", "GET"):          (LOGIN, DENY, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("reporting:review_detail", "POST"):         (LOGIN, DENY, HIDE, OK, HIDE, HIDE, HIDE, OK),  # approve etc.
    ("indices:return_impact", "GET"):            (LOGIN, DENY, HIDE, OK, HIDE, HIDE, HIDE, OK),
    # Readers' pages are public; only reviewers, methodologists (and the superuser) see a provisional run or a
    # draft methodology, never the security or audit administrator (is_staff grants nothing outside the admin).
    ("indices:rankings", "GET"): everyone(OK),
    ("indices:ranking", "GET"): everyone(OK),
    ("indices:ranking?run=provisional", "GET"):  (OK, OK, OK, PROV, PROV, OK, OK, PROV),
    ("indices:city", "GET"): everyone(OK),
    ("indices:city?run=provisional", "GET"):     (OK, OK, OK, PROV, PROV, OK, OK, PROV),
    ("indices:methodology", "GET"): everyone(OK),
    ("indices:methodology_version", "GET"): everyone(OK),
    ("indices:methodology_version[draft]", "GET"): (HIDE, HIDE, HIDE, OK, OK, HIDE, HIDE, OK),
    # Open data: a published run's files are public; a year without one (2025: drafts only) is 404 for everyone,
    # the secretariat included (never a provisional run), and so is a name that is not one of its files.
    ("indices:open_data_index", "GET"): everyone(OK),  # a redirect to the newest published year
    ("indices:open_data", "GET"): everyone(OK),
    ("indices:open_data[unpublished]", "GET"): everyone(HIDE),
    ("indices:open_data_file", "GET"): everyone(OK),  # the ZIP
    ("indices:open_data_file[unpublished]", "GET"): everyone(HIDE),
    ("indices:open_data_file[unknown]", "GET"): everyone(HIDE),
    # Index runs: the secretariat (reviewers, methodologists); publish, rebuild and what-if for methodologists.
    ("indices:runs", "GET"):                     (LOGIN, DENY, DENY, OK, OK, DENY, DENY, OK),
    ("indices:work", "GET"):                     (LOGIN, DENY, DENY, OK, OK, DENY, DENY, OK),  # the work panel
    ("indices:run_recompute", "GET"): POST_ONLY,
    ("indices:run_recompute", "POST"):           (LOGIN, DENY, DENY, OK, OK, DENY, DENY, OK),
    # A published run's page is public; its report build states are for the secretariat.
    ("indices:run_detail", "GET"):               (OK, OK, OK, SECR, SECR, OK, OK, SECR),
    ("indices:run_detail[provisional]", "GET"):  (HIDE, HIDE, HIDE, OK, OK, HIDE, HIDE, OK),
    ("indices:run_publish", "GET"): POST_ONLY,
    ("indices:run_publish", "POST"):             (LOGIN, DENY, DENY, DENY, OK, DENY, DENY, OK),
    ("indices:run_reports_rebuild", "GET"): POST_ONLY,
    ("indices:run_reports_rebuild", "POST"):     (LOGIN, DENY, DENY, DENY, OK, DENY, DENY, OK),
    ("indices:whatif", "GET"):                   (LOGIN, DENY, DENY, DENY, OK, DENY, DENY, OK),
    # Reports: white papers for everyone; a city's report for its filers and reviewers (404 for the rest).
    ("reports:list", "GET"): everyone(OK),
    ("reports:download", "GET"): everyone(OK),  # the white paper
    ("reports:download[city]", "GET"):           (HIDE, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("reports:city", "GET"):                     (HIDE, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    # The REST API (session authentication: anonymous is 403, not a redirect).
    ("return-values", "GET"): API_POST_ONLY,
    ("return-values", "PATCH"):                  (UNAUTH, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    ("return-submit", "GET"): API_POST_ONLY,
    ("return-submit", "POST"):                   (UNAUTH, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    ("return-approve", "GET"): API_POST_ONLY,
    ("return-approve", "POST"):                  (UNAUTH, DENY, DENY, OK, DENY, DENY, DENY, OK),  # a draft: 400
    # Evidence: listed for whoever sees the return; uploaded by the city's filer (the reviewer: 403 with the reason).
    ("return-evidence", "GET"):                  (UNAUTH, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("return-evidence", "POST"):                 (UNAUTH, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    # Answering a send-back: the city's filer (a draft: 400 not_returned).
    ("return-answer", "GET"): API_POST_ONLY,
    ("return-answer", "POST"):                   (UNAUTH, OK, HIDE, DENY, HIDE, HIDE, HIDE, OK),
    # Amending city A's approved 2024 return: its filer and reviewers, as on the page.
    ("return-amend", "GET"): API_POST_ONLY,
    ("return-amend", "POST"):                    (UNAUTH, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    # Review through the API: reviewers; a filer's own return is 403, another city's 404 (as review_detail).
    ("return-send-back", "GET"): API_POST_ONLY,
    ("return-send-back", "POST"):                (UNAUTH, DENY, HIDE, OK, HIDE, HIDE, HIDE, OK),  # a draft: 400
    ("review-queue", "GET"):                     (UNAUTH, DENY, DENY, OK, DENY, DENY, DENY, OK),
    ("review-detail", "GET"):                    (UNAUTH, DENY, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("review-bulk-approve", "GET"): API_POST_ONLY,
    ("review-bulk-approve", "POST"):             (UNAUTH, DENY, DENY, OK, DENY, DENY, DENY, OK),  # nothing: 400
    # Starting a return: a city's filer only (no city: 404); the empty body is refused (400).
    ("return-list", "POST"):                     (UNAUTH, OK, OK, HIDE, HIDE, HIDE, HIDE, HIDE),
    ("return-list.format", "POST"):              (UNAUTH, OK, OK, HIDE, HIDE, HIDE, HIDE, HIDE),
    ("city-list", "GET"): everyone(OK),
    ("city-list.format", "GET"): everyone(OK),
    ("city-detail", "GET"): everyone(OK),
    ("city-detail.format", "GET"): everyone(OK),
    ("return-list", "GET"): signed_in(OK, anonymous=UNAUTH),  # each user's own list (tested in tests/test_api.py)
    ("return-list.format", "GET"): signed_in(OK, anonymous=UNAUTH),
    ("return-detail", "GET"):                    (UNAUTH, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("return-detail.format", "GET"):             (UNAUTH, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("api-root", "GET"): signed_in(OK, anonymous=UNAUTH),
    ("api-root.format", "GET"): signed_in(OK, anonymous=UNAUTH),
    ("methodology-list", "GET"): everyone(OK),
    ("methodology-list.format", "GET"): everyone(OK),
    ("methodology-detail", "GET"): everyone(OK),
    ("methodology-detail.format", "GET"): everyone(OK),
    # A draft in the API: for the secretariat, as on the methodology page (may_see_draft_methodology).
    ("methodology-detail[draft]", "GET"):        (HIDE, HIDE, HIDE, OK, OK, HIDE, HIDE, OK),
    ("methodology-document", "GET"): everyone(OK),
    ("methodology-document.format", "GET"): everyone(OK),
    ("api-schema", "GET"): everyone(OK),
    # Published index runs with their scores: public; a provisional run is 404 for everyone (the run pages
    # show those to the secretariat).
    ("run-list", "GET"): everyone(OK),
    ("run-list.format", "GET"): everyone(OK),
    ("run-detail", "GET"): everyone(OK),
    ("run-detail.format", "GET"): everyone(OK),
    ("run-detail[provisional]", "GET"): everyone(HIDE),
    # Public reads of published data (issue 14): periods, scores at every node, a city's history, reports, a run's
    # methodology. A score of the provisional run is 404 for everyone; a city's report as on the reports page.
    ("period-list", "GET"): everyone(OK),
    ("period-list.format", "GET"): everyone(OK),
    ("period-detail", "GET"): everyone(OK),
    ("period-detail.format", "GET"): everyone(OK),
    ("score-list", "GET"): everyone(OK),
    ("score-list.format", "GET"): everyone(OK),
    ("score-detail", "GET"): everyone(OK),
    ("score-detail.format", "GET"): everyone(OK),
    ("score-detail[provisional]", "GET"): everyone(HIDE),
    ("city-history", "GET"): everyone(OK),
    ("report-list", "GET"): everyone(OK),
    ("report-list.format", "GET"): everyone(OK),
    ("report-detail", "GET"): everyone(OK),  # the white paper
    ("report-detail.format", "GET"): everyone(OK),
    ("report-detail[city]", "GET"):              (HIDE, OK, HIDE, OK, HIDE, HIDE, HIDE, OK),
    ("run-methodology", "GET"): everyone(OK),
    ("run-methodology.format", "GET"): everyone(OK),
    # The secretariat's API (may_see_provisional, may_recompute_index, may_publish_run, may_rebuild_reports,
    # may_try_methodology): as the run pages. Empty bodies: 400 (ok) after the permission decision.
    ("index-run-list", "GET"):                   (UNAUTH, DENY, DENY, OK, OK, DENY, DENY, OK),
    ("index-run-list.format", "GET"):            (UNAUTH, DENY, DENY, OK, OK, DENY, DENY, OK),
    ("index-run-detail", "GET"):                 (UNAUTH, DENY, DENY, OK, OK, DENY, DENY, OK),  # the provisional run
    ("index-run-detail.format", "GET"):          (UNAUTH, DENY, DENY, OK, OK, DENY, DENY, OK),
    ("index-run-recompute", "GET"):              (UNAUTH, DENY, DENY, 405, 405, DENY, DENY, 405),
    ("index-run-recompute", "POST"):             (UNAUTH, DENY, DENY, OK, OK, DENY, DENY, OK),
    ("index-run-recompute.format", "POST"):      (UNAUTH, DENY, DENY, OK, OK, DENY, DENY, OK),
    ("index-run-publish", "GET"):                (UNAUTH, DENY, DENY, DENY, 405, DENY, DENY, 405),
    ("index-run-publish", "POST"):               (UNAUTH, DENY, DENY, DENY, OK, DENY, DENY, OK),  # provisional: 400
    ("index-run-publish.format", "POST"):        (UNAUTH, DENY, DENY, DENY, OK, DENY, DENY, OK),
    ("index-run-reports-rebuild", "POST"):       (UNAUTH, DENY, DENY, DENY, 202, DENY, DENY, 202),
    ("index-run-reports-rebuild.format", "POST"): (UNAUTH, DENY, DENY, DENY, 202, DENY, DENY, 202),
    ("index-run-what-if", "GET"):                (UNAUTH, DENY, DENY, DENY, OK, DENY, DENY, OK),  # no version: 400
    ("index-run-what-if.format", "GET"):         (UNAUTH, DENY, DENY, DENY, OK, DENY, DENY, OK),
    ("methodology-import", "GET"):               (UNAUTH, DENY, DENY, DENY, 405, DENY, DENY, 405),
    ("methodology-import", "POST"):              (UNAUTH, DENY, DENY, DENY, OK, DENY, DENY, OK),  # empty: 400
    ("methodology-import.format", "POST"):       (UNAUTH, DENY, DENY, DENY, OK, DENY, DENY, OK),
    # The audit trail: the audit administrator's (may_read_audit_trail: the audit.view_auditevent permission).
    ("audit-event-list", "GET"):                 (UNAUTH, DENY, DENY, DENY, DENY, DENY, OK, OK),
    ("audit-event-list.format", "GET"):          (UNAUTH, DENY, DENY, DENY, DENY, DENY, OK, OK),
    ("audit-event-detail", "GET"):               (UNAUTH, DENY, DENY, DENY, DENY, DENY, OK, OK),
    ("audit-event-detail.format", "GET"):        (UNAUTH, DENY, DENY, DENY, DENY, DENY, OK, OK),
    ("api-docs", "GET"): everyone(OK),  # Swagger UI and ReDoc: public, like the schema
    ("api-redoc", "GET"): everyone(OK),
    # The admin site's own pages (staff columns: methodologist, secadmin, auditadmin, superuser).
    ("admin:index", "GET"): staff(OK, OK, OK, OK),
    ("admin:login", "GET"): everyone(OK),
    ("admin:logout", "POST"): everyone(OK),  # without is_staff: a redirect to the admin's index
    ("admin:password_change", "GET"): staff(OK, OK, OK, OK),
    ("admin:password_change_done", "GET"): staff(OK, OK, OK, OK),
    ("admin:jsi18n", "GET"): staff(OK, OK, OK, OK),
    # The city field of the user form: whoever may view cities.
    ("admin:autocomplete", "GET"): staff(OK, OK, DENY, OK),
    ("admin:view_on_site", "GET"): staff(HIDE, HIDE, HIDE, HIDE),  # no model has get_absolute_url
    # An app's page in the admin: for whoever has a permission on one of its models.
    ("admin:app_list", "GET"): staff(OK, HIDE, HIDE, OK),  # /admin/reporting/: the methodologist views periods
    ("admin:app_list[accounts]", "GET"): staff(OK, OK, HIDE, OK),
    ("admin:app_list[audit]", "GET"): staff(HIDE, HIDE, OK, OK),
    ("admin:app_list[methodology]", "GET"): staff(OK, HIDE, HIDE, OK),
    ("admin:app_list[indices]", "GET"): staff(HIDE, HIDE, HIDE, OK),
    ("admin:catch_all", "GET"): staff(HIDE, HIDE, HIDE, HIDE),  # admin/<anything>: a page that does not exist
    # Admin views of ModelAdmins beyond the generic ones.
    ("admin:auth_user_password_change", "GET"): staff(DENY, OK, DENY, OK),  # of the filer's account
    ("admin:otp_totp_totpdevice_config", "GET"): staff(DENY, DENY, DENY, DENY),  # nobody reads a secret
    ("admin:otp_totp_totpdevice_qrcode", "GET"): staff(DENY, DENY, DENY, DENY),
    ("admin:methodology_methodologyversion_diff", "GET"): staff(OK, DENY, DENY, OK),
    ("admin:methodology_methodologyversion_export", "GET"): staff(OK, DENY, DENY, OK),
    ("admin:methodology_methodologyversion_clone", "GET"): staff(OK, DENY, DENY, OK),
    ("admin:methodology_methodologyversion_clone", "POST"): staff(OK, DENY, DENY, OK),
    ("admin:methodology_methodologyversion_publish", "GET"): staff(OK, DENY, DENY, OK),  # of the draft
    ("admin:methodology_methodologyversion_publish", "POST"): staff(OK, DENY, DENY, OK),
    ("admin:methodology_methodologyversion_retire", "GET"): staff(OK, DENY, DENY, OK),  # of the published version
    ("admin:methodology_methodologyversion_retire", "POST"): staff(OK, DENY, DENY, OK),
    # The change list's actions (POST to the change list) need the change list first.
    ("admin:methodology_methodologyversion_changelist[publish_selected]", "POST"): staff(OK, DENY, DENY, OK),
    ("admin:otp_totp_totpdevice_changelist[delete_selected]", "POST"): staff(DENY, OK, DENY, OK),
    # The audit trail's CSV export (what the change list's filters select): whoever reads the trail.
    ("admin:audit_auditevent_export", "GET"): staff(DENY, DENY, OK, OK),
}

# Each registered ModelAdmin: changelist, add, change (of one real object), staff columns (methodologist, secadmin,
# auditadmin, superuser). Read-only admins (returns' values, audit trail, runs, ...) refuse add to everyone.
R = (OK, OK, OK)  # view, add, change
V = (OK, DENY, OK)  # view only (the change page read-only)
N = (DENY, DENY, DENY)  # nothing
ADMIN_MODELS: dict[str, tuple[tuple, tuple, tuple, tuple]] = {
    #                                   methodologist secadmin auditadmin superuser
    "auth.group":                       (N, V, N, R),
    "axes.accessattempt":               (N, V, N, V),  # the security administrator unlocks a name by deleting it
    "axes.accesslog":                   (N, N, N, V),
    "axes.accessfailurelog":            (N, N, N, V),
    "accounts.city":                    (V, V, N, R),
    "accounts.user":                    (N, R, N, R),
    "reporting.reportingperiod":        (V, N, N, R),
    "reporting.indicatorreturn":        (N, N, N, R),
    "reporting.returnvalue":            (N, N, N, V),
    "audit.auditevent":                 (N, N, V, V),  # the audit trail: the audit administrator reads it
    "reporting.periodextension":        (N, N, N, V),
    "reporting.valueflag":              (N, N, N, V),
    "reporting.reviewcomment":          (N, N, N, V),
    "reporting.returnsnapshot":         (N, N, N, V),
    "reporting.valuechange":            (N, N, N, V),
    "reporting.evidencefile":           (N, N, N, V),
    "reporting.importreport":           (N, N, N, V),
    "reporting.notification":           (N, N, N, V),
    "otp_totp.totpdevice":              (N, V, N, V),  # reset (delete), never read or edited
    "methodology.methodologyversion":   (R, N, N, R),  # the object: a draft
    "methodology.methodologynode":      (R, N, N, R),
    "methodology.indicator":            (R, N, N, R),
    "methodology.validationrule":       (R, N, N, R),
    "indices.indexrun":                 (N, N, N, V),
    "indices.score":                    (N, N, N, V),
    "indices.workrequest":               (N, N, N, V),
    "indices.report":                   (N, N, N, V),
}
STAFF = ("methodologist", "secadmin", "auditadmin", "superuser")
# Who gets a ModelAdmin's delete page (of the same object); other staff get 403.
ADMIN_DELETE = {
    "auth.group": {"superuser"}, "axes.accessattempt": {"secadmin", "superuser"},
    "axes.accesslog": {"superuser"}, "axes.accessfailurelog": {"superuser"}, "accounts.city": {"superuser"},
    "accounts.user": {"superuser"}, "reporting.reportingperiod": {"superuser"},
    "reporting.indicatorreturn": {"superuser"}, "otp_totp.totpdevice": {"secadmin", "superuser"},
    "methodology.methodologyversion": {"methodologist", "superuser"},
    "methodology.methodologynode": {"methodologist", "superuser"},
    "methodology.indicator": {"methodologist", "superuser"},
    "methodology.validationrule": {"methodologist", "superuser"},
}
ADMIN_RULES = """\
history        = the change page's row (history_view asks the same view-or-change permission)
delete         = ok for the actors in ADMIN_DELETE, denied for other staff, login without is_staff
<object_id>/   = ok (a redirect to the change page) for staff, login without is_staff"""


def admin_rows() -> dict[tuple[str, str], tuple]:
    rows = {}
    for label, cells in ADMIN_MODELS.items():
        info = label.replace(".", "_")
        for position, page in enumerate(("changelist", "add", "change")):
            rows[(f"admin:{info}_{page}", "GET")] = staff(*(cell[position] for cell in cells))
        rows[(f"admin:{info}_history", "GET")] = rows[(f"admin:{info}_change", "GET")]
        rows[(f"admin:{info}_delete", "GET")] = staff(
            *(OK if actor in ADMIN_DELETE.get(label, ()) else DENY for actor in STAFF))
        rows[(f"admin:{info}_object", "GET")] = staff(OK, OK, OK, OK)
    return rows


EXPECTED = {**TABLE, **admin_rows()}


# The URL patterns of the root URLconf.

@dataclass(frozen=True)
class Pattern:
    key: str
    route: str
    name: str | None


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            inner = f"{namespace}{item.namespace}:" if item.namespace else namespace
            yield from _walk(item, prefix + str(item.pattern).removeprefix("^"), inner)
        elif isinstance(item, URLPattern):  # routes as ResolverMatch.route spells them (no leading ^)
            yield prefix + str(item.pattern).removeprefix("^"), f"{namespace}{item.name}" if item.name else None


def url_patterns() -> list[Pattern]:
    """Every pattern with its table key (see TABLE)."""
    admin_object = re.compile(r"^admin/(\w+)/(\w+)/<path:object_id>/$")
    patterns, seen = [], {}
    for route, name in _walk(get_resolver()):
        if name is None:
            match = admin_object.match(route)
            key = f"admin:{match[1]}_{match[2]}_object" if match else route
            if route == "admin/(?P<url>.*)$":
                key = "admin:catch_all"  # AdminSite.catch_all_view
        else:
            key = f"{name}.format" if "format" in route else name
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}#{seen[key]}"
        patterns.append(Pattern(key=key, route=route, name=name))
    return patterns


def base_key(key: str) -> str:
    return re.split(r"[\[?]", key, maxsplit=1)[0]


def test_every_url_pattern_is_in_the_table():
    keys = {pattern.key for pattern in url_patterns()}
    table = {base_key(key) for key, _method in EXPECTED}
    assert not keys - table, f"URL patterns without a row in the access matrix: {sorted(keys - table)}"
    assert not table - keys, f"Rows of the access matrix that name no URL pattern: {sorted(table - keys)}"
    assert all(len(row) == len(ACTORS) for row in EXPECTED.values())


def test_every_registered_model_admin_is_in_the_table():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), ADMIN_RULES


def test_the_api_root_lists_every_resource(world, db, client):
    """One router for the whole API: /api/v1/ names the resources of every app."""
    client.force_login(get_user_model().objects.get(username="reviewer"))
    assert set(client.get("/api/v1/").json()) == {
        "cities", "returns", "methodologies", "runs", "periods", "scores", "reports", "index-runs", "audit-events"}


# The data: the demo, and what the URLs name.

PDF = b"%PDF-1.4\n% access matrix\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    users: dict[str, int] = field(default_factory=dict)
    ids: dict[str, object] = field(default_factory=dict)
    admin_objects: dict[str, object] = field(default_factory=dict)


def _model(label: str):
    return apps.get_model(label)


def _client(username: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _pk_from_redirect(response, url_name: str, kwarg: str) -> int:
    assert response.status_code == 302, (url_name, response.status_code)
    match = resolve(urlsplit(response["Location"]).path)
    assert match.view_name == url_name, (url_name, response["Location"])
    return int(match.kwargs[kwarg])


def _build() -> World:
    call_command("load_demo", "--allow-without-debug", verbosity=0)
    world = World()
    user_model = get_user_model()
    world.users = {actor: user_model.objects.get(username=name).pk for actor, name in USERNAMES.items()}
    City, Period = _model("accounts.City"), _model("reporting.ReportingPeriod")  # noqa: N806
    IndicatorReturn, IndexRun = _model("reporting.IndicatorReturn"), _model("indices.IndexRun")  # noqa: N806
    city_a, city_b = City.objects.get(code=CITY_A), City.objects.get(code=CITY_B)
    period_2024 = Period.objects.get(data_year=2024)
    today = timezone.localdate()
    # The demo's open period, in which cities A and B start drafts (2024's returns stay approved: the published data).
    period = Period.objects.get(data_year=2025)
    filer_a, filer_b = _client(USERNAMES["filer"]), _client(USERNAMES["otherfiler"])
    start = reverse("reporting:return_start", args=[period.pk])
    draft_a = _pk_from_redirect(filer_a.post(start), "reporting:return_detail", "pk")
    draft_b = _pk_from_redirect(filer_b.post(start), "reporting:return_detail", "pk")
    approved = IndicatorReturn.objects.get(city=city_a, period=period_2024, revision=1)
    code = approved.values.order_by("indicator__code").values_list("indicator__code", flat=True).first()
    value = approved.values.get(indicator__code=code)
    saved = filer_a.post(reverse("reporting:return_detail", args=[draft_a]), {
        f"value-{code}": str(value.value), f"status-{code}": "final", f"source-{code}": "统计年鉴"})
    assert saved.status_code == 302, saved.status_code
    uploaded = filer_a.post(reverse("reporting:evidence_upload", args=[draft_a]), {
        "file": SimpleUploadedFile("evidence.pdf", PDF, content_type="application/pdf"), "description": "matrix"})
    assert uploaded.status_code == 302
    evidence = _model("reporting.EvidenceFile").objects.get(indicator_return_id=draft_a)
    template = filer_a.get(reverse("reporting:import_template", args=[draft_a]), {"format": "csv"})
    imported = filer_a.post(reverse("reporting:import_upload", args=[draft_a]), {
        "file": SimpleUploadedFile("import.csv", template.content, content_type="text/csv")})
    import_report = _pk_from_redirect(imported, "reporting:import_detail", "report_id")
    # The run published by the demo, and a provisional one after it (a copy: the latest unpublished run).
    published = IndexRun.objects.get(period=period_2024, published_at__isnull=False)
    provisional = IndexRun.objects.get(pk=published.pk)
    provisional.pk = None
    provisional.input_hash = hashlib.sha256(b"access matrix provisional").hexdigest()
    provisional.published_at, provisional.published_by, provisional.is_provisional = None, None, True
    provisional.save()
    IndexRun.objects.filter(pk=provisional.pk).update(created_at=published.created_at + datetime.timedelta(hours=1))
    Score = _model("indices.Score")  # noqa: N806
    scores = list(Score.objects.filter(run=published))
    for score in scores:
        score.pk, score.run_id = None, provisional.pk
    Score.objects.bulk_create(scores)
    # A draft methodology, cloned in the admin by the methodologist.
    methodologist = _client(USERNAMES["methodologist"])
    version = published.methodology
    cloned = methodologist.post(reverse("admin:methodology_methodologyversion_clone", args=[version.pk]),
                                {"new_version": "2025.9"})
    draft_version = _model("methodology.MethodologyVersion").objects.get(code=version.code, version="2025.9")
    assert cloned.status_code == 302
    # Stored reports of the published run (small stand-in files: no PDF is built).
    _model("indices.WorkRequest").objects.create(task="indices.recompute_index", args=[period.pk],
                                                 period_id=period.pk, state="done")
    Report = _model("indices.Report")  # noqa: N806
    reports = {}
    for kind, city in (("white_paper", None), ("city", city_a)):
        report = Report(run=published, kind=kind, language="zh-hans", city=city, state="succeeded",
                        sha256=hashlib.sha256(PDF).hexdigest(), size=len(PDF), pages=1)
        report.file.save(f"matrix-{kind}.pdf", ContentFile(PDF), save=False)
        report.save()
        reports[kind] = report.pk
    # Rows the admin lists that nothing above made.
    reviewer = user_model.objects.get(username=USERNAMES["reviewer"])
    device = _model("otp_totp.TOTPDevice").objects.create(user=reviewer, name="phone", confirmed=True)
    for label in ("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"):
        extra = {"get_data": "", "post_data": "", "failures_since_start": 1} if label == "axes.AccessAttempt" else {}
        _model(label).objects.create(username="nobody", ip_address="127.0.0.1", user_agent="matrix",
                                     http_accept="*/*", path_info="/accounts/login/", **extra)
    _model("reporting.PeriodExtension").objects.create(period=period, city=city_b, until=today, reason="matrix",
                                                       granted_by=reviewer)
    draft_value = _model("reporting.ReturnValue").objects.get(indicator_return_id=draft_a, indicator__code=code)
    _model("reporting.ValueFlag").objects.create(value=draft_value, check_code="matrix", severity="warning",
                                                 message="matrix")
    _model("reporting.ReviewComment").objects.create(indicator_return_id=draft_b, reason_code="other",
                                                     text="matrix", author=reviewer, submission_round=1)
    _model("reporting.ReturnSnapshot").objects.create(indicator_return_id=draft_b, number=1, taken_by=reviewer)
    api_token = _model("accounts.ApiToken").objects.create(
        user_id=world.users["filer"], name="matrix", key_hash=hashlib.sha256(b"matrix").hexdigest(),
        prefix="ccfi_matrix",
        expires_at=timezone.now() + datetime.timedelta(days=90))
    notice = _model("reporting.Notification").objects.create(
        recipient_id=world.users["filer"], event="approved", params={"city_zh": "重庆", "city_en": "Chongqing",
                                                                      "year": period_2024.data_year},
        link=reverse("reporting:return_detail", args=[approved.pk]))
    world.ids = {
        "period": period.pk, "draft_a": draft_a, "approved_a": approved.pk, "code": code,
        "evidence": evidence.pk, "import_report": import_report, "published_run": published.pk,
        "provisional_run": provisional.pk, "year": period_2024.data_year, "city": CITY_A,
        "methodology": (version.code, version.version, version.pk), "draft_methodology": draft_version,
        "reports": reports, "device": device.pk, "city_a": city_a.pk,
        "open_year": period.data_year, "api_token": api_token.pk, "notice": notice.pk,
        "score": Score.objects.filter(run=published).order_by("pk").values_list("pk", flat=True).first(),
        "provisional_score": Score.objects.filter(run=provisional).order_by("pk").values_list("pk", flat=True).first(),
        "audit_event": _model("audit.AuditEvent").objects.order_by("-pk").values_list("pk", flat=True).first(),
    }
    # One real object per ModelAdmin: the filer's account, a role, city A's draft, the draft methodology's parts.
    parts = {"methodology.methodologyversion": draft_version.pk}
    for label in ("methodology.methodologynode", "methodology.indicator", "methodology.validationrule"):
        row = _model(label).objects.filter(version=draft_version).order_by("pk").first()
        parts[label] = row.pk if row else None
    chosen = {"accounts.user": world.users["filer"], "auth.group": _model("auth.Group").objects.get(
        name="reviewer").pk, "accounts.city": city_a.pk, "reporting.indicatorreturn": draft_a,
        "otp_totp.totpdevice": device.pk, "reporting.evidencefile": evidence.pk,
        "reporting.importreport": import_report, "indices.indexrun": published.pk, **parts}
    for model in admin.site._registry:
        label = model._meta.label_lower
        pk = chosen.get(label) or model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        assert pk is not None, f"no {label} to open in the admin"
        world.admin_objects[label] = pk
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The data of every cell, made once; rolled back after the module (each cell's own changes after the cell)."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        atomics = TestCase._enter_atomics()  # marked as a test case's, so the services' durable blocks nest
        try:
            yield _build()
        finally:
            TestCase._rollback_atomics(atomics)


# The request of each cell.

def _kwargs(key: str, route: str, world: World) -> tuple[dict, str]:
    """The URL's parameters and query string for a table key."""
    ids = world.ids
    code, version, version_pk = ids["methodology"]
    draft = ids["draft_methodology"]
    query = key.split("?", 1)[1] if "?" in key else ""
    base = base_key(key)
    variant = key[len(base):].split("?")[0]
    name = base.removesuffix(".format")
    by_name = {
        "reporting:return_start": {"period_id": ids["period"]},
        "reporting:period_close": {"pk": ids["period"]},
        "reporting:return_validate": {"pk": ids["draft_a"], "code": ids["code"]},
        "reporting:return_amend": {"pk": ids["approved_a"]},
        "return-amend": {"pk": ids["approved_a"]},
        "review-detail": {"pk": ids["draft_a"]},
        "reporting:evidence_download": {"evidence_id": ids["evidence"]},
        "indices:ranking": {"year": ids["year"]},
        "indices:city": {"code": ids["city"]},
        "indices:methodology_version": {"code": code, "version": version},
        "indices:run_recompute": {"year": ids["year"]},
        "indices:return_impact": {"pk": ids["draft_a"]},
        "indices:open_data": {"year": ids["year"]},
        "indices:open_data_file": {"year": ids["year"], "name": f"ccfi-{ids['year']}-open-data.zip"},
        "indices:run_detail": {"pk": ids["published_run"]},
        "indices:run_publish": {"pk": ids["provisional_run"]},
        "indices:run_reports_rebuild": {"pk": ids["published_run"]},
        "reports:download": {"pk": ids["reports"]["white_paper"]},
        "reports:city": {"year": ids["year"], "code": ids["city"], "language": "zh-hans"},
        "city-detail": {"code": ids["city"]},
        "api_token_revoke": {"pk": ids["api_token"]},
        "reporting:inbox_open": {"pk": ids["notice"]},
        "methodology-detail": {"pk": version_pk},
        "run-detail": {"pk": ids["published_run"]},
        "methodology-document": {"pk": version_pk},
        "period-detail": {"data_year": ids["year"]},
        "score-detail": {"pk": ids["score"]},
        "city-history": {"code": ids["city"]},
        "report-detail": {"pk": ids["reports"]["white_paper"]},
        "run-methodology": {"pk": ids["published_run"]},
        "index-run-detail": {"pk": ids["provisional_run"]},
        "index-run-publish": {"pk": ids["provisional_run"]},
        "index-run-reports-rebuild": {"pk": ids["published_run"]},
        "index-run-what-if": {"pk": ids["published_run"]},
        "audit-event-detail": {"pk": ids["audit_event"]},
        "admin:auth_user_password_change": {"id": world.users["filer"]},
        "admin:otp_totp_totpdevice_config": {"pk": ids["device"]},
        "admin:otp_totp_totpdevice_qrcode": {"pk": ids["device"]},
        "admin:methodology_methodologyversion_export": {"object_id": version_pk},
        "admin:methodology_methodologyversion_clone": {"object_id": version_pk},
        "admin:methodology_methodologyversion_publish": {"object_id": draft.pk},
        "admin:methodology_methodologyversion_retire": {"object_id": version_pk},
        "admin:view_on_site": {"content_type_id": _content_type_id("accounts.city"), "object_id": ids["city_a"]},
        "admin:app_list": {"app_label": "reporting"},
    }
    by_variant = {
        "indices:methodology_version[draft]": {"code": draft.code, "version": draft.version},
        "indices:run_detail[provisional]": {"pk": ids["provisional_run"]},
        "indices:open_data[unpublished]": {"year": ids["open_year"]},
        "indices:open_data_file[unpublished]": {"year": ids["open_year"], "name": "manifest.json"},
        "indices:open_data_file[unknown]": {"year": ids["year"], "name": "settings.py"},
        "reports:download[city]": {"pk": ids["reports"]["city"]},
        "methodology-detail[draft]": {"pk": draft.pk},
        "run-detail[provisional]": {"pk": ids["provisional_run"]},
        "score-detail[provisional]": {"pk": ids["provisional_score"]},
        "report-detail[city]": {"pk": ids["reports"]["city"]},
        "admin:app_list[indices]": {"app_label": "indices"},
        "admin:app_list[accounts]": {"app_label": "accounts"},
        "admin:app_list[audit]": {"app_label": "audit"},
        "admin:app_list[methodology]": {"app_label": "methodology"},
    }
    if base + variant in by_variant:
        kwargs = by_variant[base + variant]
    elif name in by_name:
        kwargs = by_name[name]
    elif re.match(r"admin:\w+_(change|history|delete|object)$", name) and _admin_label(name):
        kwargs = {"object_id": world.admin_objects[_admin_label(name)]}
    elif name.startswith(("reporting:", "return-")):
        names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
        params = {group or other for group, other in names} - {"format"}
        kwargs = {param: ids["import_report" if param == "report_id" else "draft_a"] for param in params}
    else:
        kwargs = {}
    if base.endswith(".format"):
        kwargs = {**kwargs, "format": "json"}
    if name == "admin:autocomplete":
        query = "app_label=accounts&model_name=user&field_name=city&term=%E9%87%8D"
    return kwargs, query


def _content_type_id(label: str) -> int:
    return _model("contenttypes.ContentType").objects.get_for_model(_model(label)).pk


def _admin_label(name: str) -> str | None:
    """The model label of a ModelAdmin's generic page name (None for the admin site's own pages)."""
    info = re.sub(r"_(changelist|add|change|history|delete|object)$", "", name.removeprefix("admin:"))
    return next((label for label in ADMIN_MODELS if label.replace(".", "_") == info), None)


def _url(key: str, pattern: Pattern, world: World) -> str:
    kwargs, query = _kwargs(key, pattern.route, world)
    base = base_key(key)
    if base.endswith("_object"):
        url = reverse(base.removesuffix("_object") + "_change", kwargs=kwargs).removesuffix("change/")
    elif pattern.name is None:
        url = "/admin/no-such-page/"
    else:
        url = reverse(pattern.name, kwargs=kwargs)
    match = resolve(url)
    assert match.route == pattern.route, f"{key}: {url} reaches {match.route}, not {pattern.route}"
    return f"{url}?{query}" if query else url


def _body(key: str, method: str, world: World) -> dict:
    ids = world.ids
    if method == "GET":
        return {}
    bodies = {
        "set_language": {"language": "en", "next": "/"},
        "reporting:return_validate": {f"value-{ids['code']}": "1"},
        "reporting:return_amend": {"reason": "access matrix"},
        "reporting:evidence_upload": {"file": SimpleUploadedFile("evidence.pdf", PDF, content_type="application/pdf")},
        "admin:methodology_methodologyversion_changelist[publish_selected]": {
            "action": "publish_selected", "_selected_action": [ids["draft_methodology"].pk]},
        "admin:otp_totp_totpdevice_changelist[delete_selected]": {
            "action": "delete_selected", "_selected_action": [ids["device"]]},
    }
    if key in ("return-amend", "return-answer", "return-send-back", "review-bulk-approve"):
        return {"data": {"reason": "access matrix", "edit_version": 1, "explanations": {}, "returns": [ids["draft_a"]]},
                "content_type": "application/json"}
    if key == "return-evidence":
        return {"data": {"file": SimpleUploadedFile("evidence.pdf", PDF, content_type="application/pdf")}}
    if key == "return-values":
        edit_version = _model("reporting.IndicatorReturn").objects.get(pk=ids["draft_a"]).edit_version
        return {"data": {"edit_version": edit_version, "values": {}}, "content_type": "application/json"}
    return {"data": bodies.get(key, {})}


# What a response says.

def outcome(response) -> str | int:
    status = response.status_code
    if status == 403:
        return DENY
    if status == 404:
        return HIDE
    if status in (301, 302, 303):
        path = urlsplit(response["Location"]).path
        return LOGIN if path in (reverse("login"), reverse("admin:login")) else OK
    if status in (200, 201, 204, 400, 409):
        if status == 200 and _context(response, "provisional") is True:
            return PROV
        if status == 200 and _context(response, "report_builds") is not None:
            return SECR
        return OK
    return status


def _context(response, name: str):
    try:
        return response.context[name] if response.context is not None else None
    except KeyError:
        return None


def _cells():
    patterns = {pattern.key: pattern for pattern in url_patterns()}
    for (key, method), row in EXPECTED.items():
        pattern = patterns.get(base_key(key))
        if pattern is None:
            continue  # a missing pattern fails test_every_url_pattern_is_in_the_table
        for actor, expected in zip(ACTORS, row, strict=True):
            yield pytest.param(key, method, actor, expected, pattern, id=f"{key}-{method}-{actor}")


@pytest.mark.parametrize(("key", "method", "actor", "expected", "pattern"), list(_cells()))
def test_access(world, db, key, method, actor, expected, pattern):
    client = Client(raise_request_exception=False)
    if actor != "anonymous":
        client.force_login(get_user_model().objects.get(pk=world.users[actor]))
    url = _url(key, pattern, world)
    response = getattr(client, method.lower())(url, **_body(key, method, world))

    got = outcome(response)

    location = f" → {response['Location']}" if response.has_header("Location") else ""
    assert got == expected, f"{method} {url} as {actor}: {got} (HTTP {response.status_code}{location}), " \
                            f"expected {expected}"
