"""Fixtures of the reader-page tests (test_pages, test_cache): a published methodology, three cities, runs of
2023 and 2024 (tests/indices/reader_data.py)."""
import datetime

import pytest
from django.utils import timezone

from tests.indices.reader_data import GROUPS_2023, GROUPS_2024, make_run, reader_city, reader_methodology, reader_period

CHONGQING, CHENGDU, WUHAN = "500000", "510100", "420100"


@pytest.fixture
def methodology(db):
    return reader_methodology()


@pytest.fixture
def cities(db):
    return {code: reader_city(code) for code in (CHONGQING, CHENGDU, WUHAN)}


@pytest.fixture
def period_2023(methodology, cities):
    return reader_period(methodology, 2023)


@pytest.fixture
def period_2024(methodology, cities):
    return reader_period(methodology, 2024)


@pytest.fixture
def published_2023(period_2023):
    return make_run(period_2023, GROUPS_2023, published=True)


@pytest.fixture
def published_2024(period_2024, published_2023):
    return make_run(period_2024, GROUPS_2024, published=True,
                    created_at=timezone.now() - datetime.timedelta(days=1))


@pytest.fixture
def provisional_2024(period_2024, published_2024):
    """A newer run that nobody published: Wuhan leads in it."""
    groups = {city: dict(values) for city, values in GROUPS_2024.items()}
    groups[WUHAN] = {"G1": 99, "G2": 99, "G3": 99, "G4": 99}
    return make_run(period_2024, groups, published=False, label="newer")
