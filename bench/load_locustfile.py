"""The locust users of bench/load_bench.py (run by it; not on its own). Needs LOAD_BENCH_DATA: the JSON file the
driver's prepare step writes (cities, ranking nodes, and each filer's open amendment with its values).

- ``Reader`` (anonymous, cached reads): the 2024 ranking, its drill-downs (``?node=CODE``) and city profiles.
- ``Filer`` (``fixed_count`` users, one demo filer each, never two on one city): logs in through the login form
  once, reads its open amendment of the 2024 return through the API, then saves values on it
  (``PATCH /api/v1/returns/{id}/values/`` with ``edit_version``), a few indicators each time, alternating
  between the approved value and a nudged one; an answer with rejected values counts as a failure.
- ``RankingReader`` (the cached-ranking scenario): ``/rankings/2024/`` only, each user paced by
  ``constant_throughput`` so that all of them together ask for LOAD_BENCH_TARGET_RPS requests per second.
- ``ApiRankingReader`` (``api-ranking``): the published 2024 ranking through the API,
  ``/api/v1/scores/?year=2024&level=0&ordering=rank`` (every city's index score, rank and rank band), paced like
  ``RankingReader``.
- ``ApiFiler`` (``api-update``): each user one of the ``api_filings`` (a return of its own, never shared), with its
  filer's personal API token (``Authorization: Bearer``); saves values as ``Filer`` does, paced like
  ``RankingReader``.
"""
import itertools
import json
import os
import random
import re
from decimal import Decimal

from locust import FastHttpUser, HttpUser, between, constant_throughput, task

DATA = json.loads(open(os.environ["LOAD_BENCH_DATA"], encoding="utf-8").read())
YEAR = DATA["year"]
PASSWORD = DATA["password"]
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VALUES_PER_SAVE = 3
_filer_slots = itertools.count()


class Reader(FastHttpUser):
    weight = 1
    wait_time = between(0.5, 1.5)

    @task(3)
    def ranking(self):
        self.client.get(f"/rankings/{YEAR}/", name=f"/rankings/{YEAR}/")

    @task(2)
    def drill_down(self):
        node = random.choice(DATA["nodes"])
        self.client.get(f"/rankings/{YEAR}/?node={node}", name=f"/rankings/{YEAR}/?node=[node]")

    @task(3)
    def city(self):
        self.client.get(f"/cities/{random.choice(DATA['cities'])}/", name="/cities/[code]/")


def _nudged(text: str) -> str:
    """The value with its last significant digit moved by one, down (up from zero): the same number of decimal
    places, so no more than the indicator allows, and inside the bounds the approved value was in."""
    value = Decimal(text).normalize()
    exponent = value.as_tuple().exponent
    step = Decimal(1).scaleb(exponent) if exponent < 0 else Decimal(1)
    return format(value - step if value > 0 else value + step, "f")


def _paced():
    """The wait of a paced user: all LOAD_BENCH_USERS together ask for LOAD_BENCH_TARGET_RPS requests/s."""
    return constant_throughput(float(os.environ.get("LOAD_BENCH_TARGET_RPS", "350"))
                               / int(os.environ.get("LOAD_BENCH_USERS", "50")))


class ValuesSaving:
    """Saving three values of ``self.filing``'s return through the API, changing each (a value flips between the
    approved one and its nudge), with the edit version last answered (``self.auth_headers()``: how the user proves
    who it is)."""

    def start_filing(self, filing: dict) -> None:
        self.filing = filing
        self.codes = sorted(filing["values"])
        self.turn = 0
        self.nudged: dict[str, bool] = {}

    def read_edit_version(self) -> None:
        """The return's edit version, and which values are nudged now: a run after another on the same returns
        (``--scenario api-update api-update``) starts where the last one left them, and a save must change all
        three of its values."""
        with self.client.get(f"/api/v1/returns/{self.filing['return_id']}/", name="/api/v1/returns/[id]/",
                             headers=self.auth_headers(), catch_response=True) as response:
            body = response.json() if response.status_code == 200 else {}
        self.edit_version = body.get("edit_version", 0)
        for item in body.get("values", []):
            base = self.filing["values"].get(item["code"])
            if base is not None and item["value"] is not None:
                self.nudged[item["code"]] = Decimal(item["value"]) != Decimal(base)

    def save_values(self):
        self.turn += 1
        start = (self.turn * VALUES_PER_SAVE) % len(self.codes)
        codes = (self.codes * 2)[start:start + VALUES_PER_SAVE]
        values = {}
        for code in codes:  # each value flips between the approved one and its nudge: every save changes three
            base = self.filing["values"][code]
            self.nudged[code] = not self.nudged.get(code, False)
            values[code] = {"value": _nudged(base) if self.nudged[code] else base}
        with self.client.patch(
                f"/api/v1/returns/{self.filing['return_id']}/values/", name="/api/v1/returns/[id]/values/ (PATCH)",
                json={"edit_version": self.edit_version, "values": values},
                headers=self.auth_headers(), catch_response=True) as response:
            if response.status_code in (200, 409):
                self.edit_version = response.json().get("edit_version", self.edit_version)
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif response.json()["rejected"]:
                response.failure(f"rejected {response.json()['rejected']}")
            elif not response.json()["changed"]:
                response.failure("nothing changed: the bench measures a save that writes")


class Filer(ValuesSaving, HttpUser):
    fixed_count = int(os.environ.get("LOAD_BENCH_FILERS", "10"))
    wait_time = between(1, 3)

    def auth_headers(self) -> dict:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}

    def on_start(self):
        slot = next(_filer_slots)
        self.start_filing(DATA["filers"][slot % len(DATA["filers"])])
        page = self.client.get("/accounts/login/", name="/accounts/login/ (form)")
        token = CSRF_FIELD.search(page.text)
        with self.client.post("/accounts/login/", name="/accounts/login/ (post)", catch_response=True, data={
                "username": self.filing["username"], "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else ""}) as response:
            if "/accounts/login/" in response.url:
                response.failure(f"login refused for {self.filing['username']}")
        self.read_edit_version()

    @task(3)
    def save(self):
        self.save_values()

    @task(1)
    def return_page(self):
        self.client.get(f"/returns/{self.filing['return_id']}/", name="/returns/[id]/")


class RankingReader(FastHttpUser):
    wait_time = _paced()

    @task
    def ranking(self):
        self.client.get(f"/rankings/{YEAR}/", name=f"/rankings/{YEAR}/")


class ApiRankingReader(FastHttpUser):
    wait_time = _paced()

    @task
    def ranking(self):
        self.client.get(f"/api/v1/scores/?year={YEAR}&level=0&ordering=rank",
                        name=f"/api/v1/scores/?year={YEAR}&level=0&ordering=rank")


_api_slots = itertools.count()


class ApiFiler(ValuesSaving, FastHttpUser):
    wait_time = _paced()

    def auth_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.filing['token']}"}

    def on_start(self):
        self.start_filing(DATA["api_filings"][next(_api_slots) % len(DATA["api_filings"])])
        self.read_edit_version()

    @task
    def save(self):
        self.save_values()
