"""The inline check of one value (htmx): the explanation box comes with the warning that asks for it, the
change against last year is the one the warning speaks of, and a warned value with its explanation is
saved and submitted in one post."""
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse

from reporting.models import ReturnState, ReturnValue

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def check(client, indicator_return, code, value, **extra):
    return client.post(reverse("reporting:return_validate", args=(indicator_return.pk, code)),
                       {f"value-{code}": value, **extra}, **HTMX)


def last_year_value(last_year, code):
    return ReturnValue.objects.get(indicator_return=last_year["500000"], indicator__code=code).value


def warned(last_year):
    """A whole number for M1.1 (no decimals) about 32 % above last year's (its tolerance is 30 %), and the change."""
    last = last_year_value(last_year, "M1.1")
    typed = (last * Decimal("1.32")).quantize(Decimal(1))
    change = f"{(typed / last - 1) * 100:+.1f}"
    assert Decimal(change) > 30
    return typed, change


def test_a_warning_brings_the_explanation_box(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    content = check(client, draft, "M4.1", "5").content.decode()
    assert "above the usual maximum" in content
    assert 'name="explanation-M4.1"' in content and 'id="explain-M4_1"' in content
    assert content.count('hx-swap-oob="true"') == 2  # the change and the explanation row


def test_a_value_without_warning_brings_no_box(client, draft, filer_chongqing, values):
    client.force_login(filer_chongqing)
    content = check(client, draft, "M4.1", str(values["500000"][2024]["M4.1"])).content.decode()
    assert 'name="explanation-M4.1"' not in content
    assert '<tr id="explain-M4_1" class="explanation" hidden hx-swap-oob="true"></tr>' in content
    assert "✓" in content


def test_a_box_already_there_is_left_alone(client, draft, filer_chongqing):
    """The filer may be typing in it while the check runs: only the findings and the change are swapped."""
    client.force_login(filer_chongqing)
    content = check(client, draft, "M4.1", "5.5", **{"explanation-M4.1": "口径调整"}).content.decode()
    assert "above the usual maximum" in content and 'id="change-M4_1"' in content
    assert "explain-M4_1" not in content and content.count('hx-swap-oob="true"') == 1


def test_without_htmx_only_the_findings_come_back(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    response = client.post(reverse("reporting:return_validate", args=(draft.pk, "M4.1")), {"value-M4.1": "5"})
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "usual" in content and "explanation-M4.1" not in content and "hx-swap-oob" not in content


def test_the_change_shown_is_the_change_of_the_typed_value(client, draft, filer_chongqing, last_year):
    """The warning spoke of the typed value, the last-year column of the stored one (issue 13: "+1.9 %"
    beside a warning of "+31.9 %")."""
    client.force_login(filer_chongqing)
    code = "M1.1"
    typed, change = warned(last_year)
    content = check(client, draft, code, str(typed)).content.decode()
    assert f"{change} % from last year" in content
    assert f'data-testid="change-M1_1" hx-swap-oob="true">{change} %</div>' in content
    assert 'name="explanation-M1.1"' in content


def test_the_form_shown_again_shows_the_change_of_the_posted_value(client, draft, filer_chongqing, last_year):
    client.force_login(filer_chongqing)
    typed, change = warned(last_year)
    # An error elsewhere keeps the form on the page with the posted values.
    data = {"edit_version": draft.edit_version, "action": "save", "value-M1.1": str(typed), "value-M4.1": "35"}
    content = client.post(reverse("reporting:return_detail", args=(draft.pk,)), data).content.decode()
    assert f'data-testid="change-M1_1">{change} %</div>' in content
    assert 'name="explanation-M1.1"' in content  # the warning found in the post opens the box


def test_a_warned_value_with_its_explanation_is_saved_and_submitted_in_one_post(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    data = {"edit_version": draft.edit_version, "action": "submit", "value-M4.1": "5", "status-M4.1": "final",
            "source-M4.1": "年鉴", "explanation-M4.1": "集中核销前的口径"}
    response = client.post(reverse("reporting:return_detail", args=(draft.pk,)), data)
    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.state == ReturnState.SUBMITTED
    value = draft.values.get(indicator__code="M4.1")
    assert value.value == Decimal(5) and value.explanation == "集中核销前的口径"
    assert value.flags.filter(severity="warning").exists()


def test_without_the_explanation_the_submit_is_refused(client, draft, filer_chongqing):
    client.force_login(filer_chongqing)
    data = {"edit_version": draft.edit_version, "action": "submit", "value-M4.1": "5"}
    client.post(reverse("reporting:return_detail", args=(draft.pk,)), data)
    draft.refresh_from_db()
    assert draft.state == ReturnState.DRAFT
