"""The API against its own OpenAPI schema: schemathesis reads /api/schema/ from the portal's WSGI application and
sends generated requests to every operation the schema lists (new endpoints are picked up without a change here),
as each role with a personal API token, on the demo's data. Every answer must be no server error, have a status
and content type the schema declares, and a body that matches the declared schema.

* Bounded: ``MAX_EXAMPLES`` generated cases per operation and role (plus the schema's own examples), no shrinking,
  a fixed seed (``deterministic``): the same requests on every run.
* Writes run too (POST, PATCH, ...): the demo is loaded once for the module inside a transaction that is rolled back
  at the end (as tests/test_access_matrix.py does), and each request runs in its own savepoint, rolled back after
  it, so every case sees the same demo state. The services' durable transactions nest there because the savepoints
  are marked as a test case's (``TestCase._enter_atomics``).
* Path parameters are drawn from the demo's real objects (a return of the filer's city, another city's, the
  published run, a methodology version, a city code) as well as generated ones, so answers other than 404 are seen.
"""
from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import TestCase, override_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import api_token_create

MAX_EXAMPLES = 12
# The demo's accounts, one per role the API serves differently; None: no token (anonymous).
ROLES = {"anonymous": None, "filer": "filer-chongqing", "reviewer": "reviewer", "methodologist": "methodologist",
         "auditadmin": "auditadmin"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG = schemathesis.Config.from_dict({
    "seed": 2025,
    # A busy CI machine generates slowly: that is no failure of the API.
    "suppress-health-check": ["too_slow"],
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none", "no-shrink": True},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
})


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo and a token of each role, made once; rolled back after the module. Tokens are made as after a
    second-factor login (``verified``): a privileged role's token counts only then."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        atomics = TestCase._enter_atomics()
        try:
            call_command("load_demo", "--allow-without-debug", verbosity=0)
            users = get_user_model().objects
            tokens = {role: username and api_token_create(
                user=users.get(username=username), name="schemathesis", verified=True).secret
                for role, username in ROLES.items()}
            KNOWN.update(_known_ids())
            yield tokens
        finally:
            TestCase._rollback_atomics(atomics)


def _known_ids() -> dict[str, list]:
    """Real values of each path parameter name, from the demo (model names only through the apps registry)."""
    from django.apps import apps

    def pks(label: str, **filters) -> list:
        return list(apps.get_model(label).objects.filter(**filters).order_by("pk").values_list("pk", flat=True)[:3])

    chongqing = {"city__code": "500000"}
    ids = [*pks("reporting.IndicatorReturn", **chongqing), *pks("reporting.IndicatorReturn", city__code="510100"),
           *pks("indices.IndexRun"), *pks("methodology.MethodologyVersion")]
    codes = list(apps.get_model("accounts.City").objects.order_by("code").values_list("code", flat=True)[:2])
    return {"id": ids, "pk": ids, "code": codes}


# Loaded when the module is collected (schemathesis makes one test per operation from it); the schema view reads no
# database. The demo's objects are known only once the fixture below has loaded them.
KNOWN: dict[str, list] = {}
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Each path parameter is the generated value or, as often, a real one of the demo's (see KNOWN)."""
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries({
        name: st.one_of(st.just(value), st.sampled_from(KNOWN[name])) if KNOWN.get(name) else st.just(value)
        for name, value in path_parameters.items()})


@pytest.fixture
def keep_connection():
    """Django closes the connection around each WSGI request, which would end the test's transaction; Django's test
    client keeps it open the same way (django.test.client.ClientHandler)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.usefixtures("keep_connection")
@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
def test_the_api_keeps_to_its_schema(case, role, demo):
    token = demo[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    atomics = TestCase._enter_atomics()  # this request's savepoint: every case starts from the same demo
    try:
        response = case.call(headers=headers)
    finally:
        TestCase._rollback_atomics(atomics)
    case.validate_response(response, checks=CHECKS, headers=headers)
