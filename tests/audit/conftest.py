"""Helpers of the audit tests: a superuser, and the data an admin change form posts back unchanged."""
import pytest

from accounts.models import User
from tests.indices.test_reports import city_chongqing_demo, published_run, stored_reports  # noqa: F401
from tests.reporting.conftest import (  # noqa: F401  (the filing tests' fixtures)
    ccfi,
    draft,
    last_year,
    media_root,
    period,
    period_2023,
    today,
    values,
)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(username="admin", password="Ccfi-test-2025", email="admin@example.org")


def _field_data(form) -> dict:
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        if value is True:
            data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        else:
            data[bound.html_name] = str(value)
    return data


def change_form_data(response) -> dict:
    """What the admin change page in ``response`` submits if nothing is touched (its inlines included)."""
    data = _field_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(_field_data(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(_field_data(form))
    return data
