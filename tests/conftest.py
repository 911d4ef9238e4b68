"""Shared fixtures: a small methodology document, and people in each role."""
import copy
import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import translation

from accounts.models import City, Role, User
from ccfi_portal.cache import local_copies
from indices.engine import spec
from methodology.services import methodology_create_from_spec

pytest_plugins = ["tests.celery_worker"]


def _indicator(code: str, *, direction: int = 1, **overrides) -> dict:
    document = {
        "type": "indicator",
        "code": code,
        "name": {"zh-hans": f"指标{code}", "en": f"Indicator {code}"},
        "weight": 1,
        "direction": direction,
        "unit": {"zh-hans": "个", "en": "count"},
        "decimals": 0,
        "definition": {"zh-hans": "", "en": ""},
        "bounds": {"hard_min": 0, "hard_max": 1000, "soft_min": 1, "soft_max": 500, "yoy_tolerance_pct": 50},
        "normalisation": {"method": "minmax", "params": {}, "log_transform": False},
    }
    document.update(overrides)
    return document


SMALL_DOCUMENT = {
    "schema": spec.SCHEMA,
    "code": "TEST",
    "version": "1.0",
    "title": {"zh-hans": "测试方法", "en": "Test methodology"},
    "notes": "",
    "tree": {
        "type": "node", "code": "TEST", "name": {"zh-hans": "测试指数", "en": "Test index"}, "weight": 1,
        "aggregation": "arithmetic",
        "children": [
            {"type": "node", "code": "A", "name": {"zh-hans": "维度甲", "en": "Dimension A"}, "weight": 1,
             "aggregation": "arithmetic", "children": [_indicator("A.1"), _indicator("A.2", direction=-1)]},
            {"type": "node", "code": "B", "name": {"zh-hans": "维度乙", "en": "Dimension B"}, "weight": 2,
             "aggregation": "geometric", "children": [_indicator("B.1")]},
        ],
    },
    "context_variables": [
        {"code": "POP", "name": {"zh-hans": "常住人口", "en": "Resident population"},
         "unit": {"zh-hans": "万人", "en": "10 thousand persons"}, "decimals": 2,
         "definition": {"zh-hans": "", "en": ""},
         "bounds": {"hard_min": 1, "hard_max": 5000, "soft_min": None, "soft_max": None, "yoy_tolerance_pct": 10}},
    ],
}


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the portal's default language: a request made in English, or a management
    command (Django turns translations off in some), must not leak into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache (local memory in the tests): a published read cached by one test
    must not answer the next, whose database differs; nor the process's copies of published reads."""
    cache.clear()
    local_copies.clear()
    yield
    cache.clear()
    local_copies.clear()


def pytest_report_header(config):
    """Say in the log which real services this run used."""
    database = settings.DATABASES["default"]
    broker = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15 (worker tests only)"
    return [f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}", f"celery broker: {broker}"]


@pytest.fixture
def small_document() -> dict:
    """A valid three-indicator methodology document; tests may change their copy."""
    return copy.deepcopy(SMALL_DOCUMENT)


@pytest.fixture
def draft_methodology(db, small_document):
    return methodology_create_from_spec(spec=spec.from_document(small_document), actor=None)


@pytest.fixture
def city_chongqing(db) -> City:
    return City.objects.create(code="500000", name_zh="重庆", name_en="Chongqing",
                               province_zh="重庆市", province_en="Chongqing")


@pytest.fixture
def city_chengdu(db) -> City:
    return City.objects.create(code="510100", name_zh="成都", name_en="Chengdu",
                               province_zh="四川省", province_en="Sichuan")


def _person(username: str, role: Role, *, city: City | None = None, staff: bool = False) -> User:
    user = User.objects.create_user(username=username, password="Ccfi-test-2025", city=city, is_staff=staff)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def filer_chongqing(city_chongqing) -> User:
    return _person("filer-chongqing", Role.FILER, city=city_chongqing)


@pytest.fixture
def filer_chengdu(city_chengdu) -> User:
    return _person("filer-chengdu", Role.FILER, city=city_chengdu)


@pytest.fixture
def reviewer(db) -> User:
    return _person("reviewer", Role.REVIEWER)


@pytest.fixture
def methodologist(db) -> User:
    return _person("methodologist", Role.METHODOLOGIST, staff=True)


@pytest.fixture
def audit_admin(db) -> User:
    return _person("auditadmin", Role.AUDIT_ADMIN, staff=True)


@pytest.fixture
def security_admin(db) -> User:
    return _person("secadmin", Role.SECURITY_ADMIN, staff=True)
