"""Cities, accounts, periods, returns, values and the audit trail in the admin."""
import datetime
import re
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from audit.services import audit_record
from methodology.services import methodology_publish
from reporting.models import IndicatorReturn, ReportingPeriod, ReturnValue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """Pages in English, so that these assertions still hold once the Chinese catalogue is filled in."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def period(draft_methodology) -> ReportingPeriod:
    methodology = methodology_publish(version=draft_methodology, actor=None)
    return ReportingPeriod.objects.create(data_year=2024, opens_on=datetime.date(2025, 3, 1),
                                          due_on=datetime.date(2025, 5, 31), methodology=methodology)


@pytest.fixture
def indicator_return(period, city_chongqing) -> IndicatorReturn:
    indicator_return = IndicatorReturn.objects.create(city=city_chongqing, period=period, is_illustrative=True)
    for indicator in period.methodology.indicators.all():
        ReturnValue.objects.create(indicator_return=indicator_return, indicator=indicator, value=Decimal("12.5"),
                                   source_note=f"Yearbook table {indicator.code}")
    return indicator_return


@pytest.fixture
def one_of_each(indicator_return, filer_chongqing) -> dict:
    """One row of every model of the app, keyed by model name."""
    event = audit_record(actor=filer_chongqing, event_type="return.submit", obj=indicator_return,
                         ip_address="203.0.113.7")
    return {
        "city": indicator_return.city,
        "user": filer_chongqing,
        "reportingperiod": indicator_return.period,
        "indicatorreturn": indicator_return,
        "returnvalue": indicator_return.values.first(),
        "auditevent": event,
    }


APP_OF_MODEL = {"city": "accounts", "user": "accounts", "auditevent": "audit"}


def url(name: str, *args) -> str:
    app_label = APP_OF_MODEL.get(name.split("_")[0], "reporting")
    return reverse(f"admin:{app_label}_{name}", args=args)


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


READ_ONLY_MODELS = {"returnvalue", "auditevent"}


def test_it_registers_every_model_of_the_app():
    """All but the password history and the API tokens, which hold hashes and stay out of the admin (their
    owners revoke tokens on their account page), and the audit trail's hash chain, which each audit event's
    page shows."""
    models = [model for label in ("accounts", "audit", "reporting") for model in apps.get_app_config(label).get_models()
              if model.__name__ not in ("PasswordRecord", "ApiToken", "AuditChainLink")]
    assert all(admin.site.is_registered(model) for model in models)


@pytest.mark.parametrize("model", ["city", "user", "reportingperiod", "indicatorreturn", "returnvalue", "auditevent"])
def test_it_renders_changelist_add_and_change_pages(admin_client, one_of_each, model):
    add_status = HTTPStatus.FORBIDDEN if model in READ_ONLY_MODELS else HTTPStatus.OK

    assert admin_client.get(url(f"{model}_changelist")).status_code == HTTPStatus.OK
    assert admin_client.get(url(f"{model}_add")).status_code == add_status
    assert admin_client.get(url(f"{model}_change", one_of_each[model].pk)).status_code == HTTPStatus.OK


@pytest.mark.parametrize(("model", "query", "count"), [
    ("city", "?q=Chongqing", 1),
    ("city", "?province_zh=重庆市", 1),
    ("city", "?q=Beijing", 0),
    ("user", "?q=filer", 1),
    ("user", "?is_staff__exact=0&city__id__exact={city}", 1),
    ("user", "?groups__id__exact={filer_group}", 1),
    ("reportingperiod", "?state__exact=open&methodology__id__exact={methodology}", 1),
    ("reportingperiod", "?q=2024", 1),
    ("indicatorreturn", "?q=重庆", 1),
    ("indicatorreturn", "?period__id__exact={period}&state__exact=draft&is_illustrative__exact=1", 1),
    ("indicatorreturn", "?city__id__exact={city}&state__exact=approved", 0),
    ("returnvalue", "?q=A.1", 1),
    ("returnvalue", "?q=Chongqing&observation_status__exact=final", 4),
    ("auditevent", "?q=filer-chongqing", 1),
    ("auditevent", "?q=重庆+2024", 1),
    ("auditevent", "?event_type=return.submit&success__exact=1", 1),
    ("auditevent", "?event_type=methodology.publish", 1),
])
def test_it_searches_and_filters(admin_client, one_of_each, model, query, count):
    ids = {"city": one_of_each["city"].pk, "period": one_of_each["reportingperiod"].pk,
           "methodology": one_of_each["reportingperiod"].methodology_id,
           "filer_group": Group.objects.get(name="filer").pk}
    response = admin_client.get(url(f"{model}_changelist") + query.format(**ids))

    assert response.status_code == HTTPStatus.OK
    assert response.context["cl"].result_count == count


@pytest.mark.parametrize(("model", "add_row"), [
    ("returnvalue", lambda rows: [ReturnValue.objects.bulk_create(
        ReturnValue(indicator_return=later, indicator=value.indicator, value=1)
        for value in rows["indicatorreturn"].values.all()) for later in [IndicatorReturn.objects.create(
            city=rows["city"], period=rows["reportingperiod"], revision=revision) for revision in (2, 3)]]),
    ("indicatorreturn", lambda rows: [IndicatorReturn.objects.create(
        city=rows["city"], period=rows["reportingperiod"], revision=revision) for revision in (2, 3, 4)]),
    ("auditevent", lambda rows: [audit_record(actor=rows["user"], event_type="login", obj=rows["city"])
                                 for _ in range(5)]),
    ("user", lambda rows: [User.objects.create_user(username=f"filer-{n}", city=rows["city"]) for n in range(5)]),
])
def test_changelists_do_not_query_per_row(admin_client, one_of_each, model, add_row):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url(f"{model}_changelist"))
        assert response.status_code == HTTPStatus.OK
        return len(captured)

    before = queries()
    add_row(one_of_each)

    assert queries() == before


# Returns and values.

def test_a_return_shows_its_values_read_only(admin_client, indicator_return):
    response = admin_client.get(url("indicatorreturn_change", indicator_return.pk))
    content = response.content.decode()

    assert "Yearbook table A.1" in content
    assert 'name="values-0-value"' not in content
    assert 'name="state"' not in content  # the workflow moves through the review services only


def test_values_cannot_be_changed_here(admin_client, indicator_return):
    value = indicator_return.values.first()

    response = admin_client.post(url("returnvalue_change", value.pk), {"value": "99"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert ReturnValue.objects.get(pk=value.pk).value == Decimal("12.5")


# The audit trail.

def test_the_audit_trail_is_read_only_even_for_a_superuser(admin_client, one_of_each):
    event = one_of_each["auditevent"]

    assert admin_client.post(url("auditevent_add"), {"event_type": "forged"}).status_code == HTTPStatus.FORBIDDEN
    assert admin_client.post(url("auditevent_change", event.pk),
                             {"event_type": "forged"}).status_code == HTTPStatus.FORBIDDEN
    assert admin_client.post(url("auditevent_delete", event.pk), {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    bulk = admin_client.post(url("auditevent_changelist"), {
        "action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    assert bulk.status_code == HTTPStatus.OK  # an unknown action: the list again, nothing deleted
    assert AuditEvent.objects.get(pk=event.pk).event_type == "return.submit"


def test_the_audit_list_shows_time_user_event_success_object_and_ip(admin_client, one_of_each):
    text = page_text(admin_client.get(url("auditevent_changelist")))

    for heading in ("Time (Beijing)", "User", "Event type", "Outcome", "Object", "IP address"):
        assert heading in text
    assert "203.0.113.7" in text
    assert "Return submitted" in text and "return.submit" not in text  # the event type's label, not its code


def test_an_audit_administrator_reads_the_trail_and_nothing_more(client, audit_admin, one_of_each):
    client.force_login(audit_admin)
    event = one_of_each["auditevent"]

    assert client.get(url("auditevent_changelist")).status_code == HTTPStatus.OK
    assert client.get(url("auditevent_change", event.pk)).status_code == HTTPStatus.OK
    assert client.get(url("auditevent_add")).status_code == HTTPStatus.FORBIDDEN
    assert client.post(url("auditevent_change", event.pk), {"event_type": "x"}).status_code == HTTPStatus.FORBIDDEN
    assert client.post(url("auditevent_delete", event.pk), {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert client.get(url("user_changelist")).status_code == HTTPStatus.FORBIDDEN
    assert AuditEvent.objects.filter(pk=event.pk, event_type="return.submit").exists()


def test_a_security_administrator_cannot_read_the_trail(client, security_admin, one_of_each):
    client.force_login(security_admin)

    assert client.get(url("auditevent_changelist")).status_code == HTTPStatus.FORBIDDEN


# Accounts.

def test_a_user_is_created_with_a_city(admin_client, city_chengdu):
    response = admin_client.post(url("user_add"), {
        "username": "filer-new", "usable_password": "true", "password1": "Ccfi-test-2025-new",
        "password2": "Ccfi-test-2025-new", "email": "filer@example.org", "city": city_chengdu.pk,
    })

    assert response.status_code == HTTPStatus.FOUND
    assert User.objects.get(username="filer-new").city == city_chengdu


def test_the_user_page_edits_the_city(admin_client, filer_chongqing, city_chengdu):
    page = admin_client.get(url("user_change", filer_chongqing.pk))

    assert "city" in page.context["adminform"].form.fields


def test_a_security_administrator_cannot_grant_superuser_rights(client, security_admin, filer_chongqing, admin_user):
    client.force_login(security_admin)
    assert client.get(url("user_add")).status_code == HTTPStatus.OK
    page = client.get(url("user_change", filer_chongqing.pk))
    data = {"username": filer_chongqing.username, "is_active": "on", "is_superuser": "on",
            "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00", "city": filer_chongqing.city_id}

    response = client.post(url("user_change", filer_chongqing.pk), data)

    assert "is_superuser" not in page.context["adminform"].form.fields
    assert response.status_code == HTTPStatus.FOUND
    assert not User.objects.get(pk=filer_chongqing.pk).is_superuser
    assert client.post(url("user_change", admin_user.pk), data).status_code == HTTPStatus.FORBIDDEN
    password_change = client.post(reverse("admin:auth_user_password_change", args=[admin_user.pk]),
                                  {"password1": "Ccfi-test-2025-x", "password2": "Ccfi-test-2025-x"})
    assert password_change.status_code == HTTPStatus.FORBIDDEN


def _account_form(user, *roles: str) -> dict:
    return {"username": user.username, "is_active": "on", "date_joined_0": "2025-01-01",
            "date_joined_1": "00:00:00", "city": user.city_id or "",
            "groups": [Group.objects.get(name=role).pk for role in roles]}


def test_a_security_administrator_grants_ordinary_roles_and_the_change_is_audited(
        client, security_admin, filer_chongqing):
    client.force_login(security_admin)
    page = client.get(url("user_change", filer_chongqing.pk))
    offered = set(page.context["adminform"].form.fields["groups"].queryset.values_list("name", flat=True))
    assert offered == {"filer", "reviewer", "methodologist"}

    response = client.post(url("user_change", filer_chongqing.pk), _account_form(filer_chongqing, "filer", "reviewer"),
                           REMOTE_ADDR="10.9.8.7")

    assert response.status_code == HTTPStatus.FOUND
    assert set(filer_chongqing.groups.values_list("name", flat=True)) == {"filer", "reviewer"}
    event = AuditEvent.objects.get(event_type="user.change")
    assert event.actor == security_admin and event.ip_address == "10.9.8.7"
    assert event.details["roles_added"] == ["reviewer"] and event.details["roles_removed"] == []
    assert "groups" in event.details["fields"]


def test_a_security_administrator_cannot_hand_out_or_take_over_administrator_accounts(
        client, security_admin, audit_admin, filer_chongqing):
    client.force_login(security_admin)

    response = client.post(url("user_change", filer_chongqing.pk), _account_form(filer_chongqing, "audit_admin"))
    assert response.status_code == HTTPStatus.OK  # the form again, with the error
    assert "groups" in response.context["adminform"].form.errors
    assert set(filer_chongqing.groups.values_list("name", flat=True)) == {"filer"}

    own = client.post(url("user_change", security_admin.pk), _account_form(security_admin, "security_admin",
                                                                          "audit_admin"))
    assert own.status_code == HTTPStatus.FORBIDDEN
    assert client.post(url("user_change", audit_admin.pk), _account_form(audit_admin)).status_code == \
        HTTPStatus.FORBIDDEN
    takeover = client.post(reverse("admin:auth_user_password_change", args=[audit_admin.pk]),
                           {"password1": "Ccfi-test-2025-x", "password2": "Ccfi-test-2025-x"})
    assert takeover.status_code == HTTPStatus.FORBIDDEN
    assert set(security_admin.groups.values_list("name", flat=True)) == {"security_admin"}
    assert not AuditEvent.objects.filter(event_type__startswith="user.").exists()


def test_the_system_administrator_appoints_the_audit_administrator(admin_client, admin_user, filer_chongqing):
    response = admin_client.post(url("user_change", filer_chongqing.pk), _account_form(filer_chongqing, "audit_admin"))
    assert response.status_code == HTTPStatus.FOUND
    set_password = admin_client.post(reverse("admin:auth_user_password_change", args=[filer_chongqing.pk]),
                                     {"password1": "Ccfi-test-2025-x", "password2": "Ccfi-test-2025-x"})
    assert set_password.status_code == HTTPStatus.FOUND

    events = list(AuditEvent.objects.filter(event_type__startswith="user.").order_by("id"))
    assert [event.event_type for event in events] == ["user.change", "user.password_set"]
    assert events[0].details["roles_added"] == ["audit_admin"] and events[0].details["roles_removed"] == ["filer"]
    assert all(event.actor == admin_user for event in events)
