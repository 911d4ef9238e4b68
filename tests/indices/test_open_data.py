"""Open data (indices.opendata): every published run's files, reproducible with compute_index, deterministic,
formula-safe, and never of a provisional run."""
import copy
import csv
import datetime
import hashlib
import io
import json
import zipfile
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from accounts.models import City, User
from indices.demo import demo_index_ensure, demo_load
from indices.engine import spec
from indices.engine.compute import compute
from indices.management.commands.compute_index import read_values
from indices.models import IndexRun, Score
from indices.opendata import open_data_package
from indices.services import index_run_compute, index_run_publish
from methodology.models import MethodologyVersion
from methodology.services import methodology_clone, methodology_create_from_spec, methodology_publish
from reporting.models import ReportingPeriod, ReturnValue
from tests.indices.reader_data import GROUPS_2024, READER_DOCUMENT, make_run, reader_period

pytestmark = pytest.mark.django_db

FORMULA_PREFIXES = ("=", "+", "-", "@")


def _csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _unzip(content: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        folders = {name.split("/", 1)[0] for name in archive.namelist()}
        assert len(folders) == 1, folders
        archive.extractall(into)
    return into / folders.pop()


def test_every_published_demo_run_is_reproduced_exactly_from_its_open_data(client, tmp_path):
    """Download the ZIP as a reader, unzip it, run the command of the manifest and compare every node's score and
    rank of every city with the published run's Score rows (``_reproduce``), for each run the demo publishes."""
    demo_load()
    published = [outcome.run for outcome in demo_index_ensure() if outcome.run.is_published]
    assert sorted(run.period.data_year for run in published) == [2023, 2024]
    for run in published:
        options = _reproduce(client, run, tmp_path)
        assert "--previous" not in options  # the demo's methodology does not impute from last period's values


def test_a_run_that_imputes_from_last_period_ships_its_previous_values(client, tmp_path):
    """With last-period imputation the engine reads the previous data year's values: the package holds them as
    previous.csv, the command names it, and the run (one 2024 value missing, filled from 2023) is reproduced."""
    demo_load()
    demo_index_ensure()
    period = ReportingPeriod.objects.get(data_year=2024)
    clone = _methodology_with(period, "2025.lp", imputation="last_period")
    missing = ReturnValue.objects.filter(indicator_return__period=period, indicator_return__state="approved",
                                         indicator__code="M1.1").order_by("indicator_return__city__code").first()
    ReturnValue.objects.filter(pk=missing.pk).update(value=None)
    run = index_run_compute(period=period, methodology=clone)
    assert run.diagnostics["imputed_cells"], "nothing was imputed: the test would not read previous.csv"
    run = index_run_publish(run=run, actor=User.objects.get(username="methodologist"))
    options = _reproduce(client, run, tmp_path)
    assert options["--previous"] == "previous.csv"
    previous = _csv_rows((tmp_path / "2024" / "ccfi-2024-open-data" / "previous.csv").read_bytes())
    city = missing.indicator_return.city.code
    assert float(next(row for row in previous if row["unit"] == city)["M1.1"]) == float(ReturnValue.objects.get(
        indicator_return__period__data_year=2023, indicator_return__state="approved",
        indicator_return__city__code=city, indicator__code="M1.1").value)


def _methodology_with(period: ReportingPeriod, version: str, **engine) -> MethodologyVersion:
    """A published clone of the period's methodology with changed engine settings."""
    clone = methodology_clone(version=period.methodology, actor=None, new_version=version)
    MethodologyVersion.objects.filter(pk=clone.pk).update(engine_settings={**clone.engine_settings, **engine})
    return methodology_publish(version=MethodologyVersion.objects.get(pk=clone.pk), actor=None)


def test_a_run_with_a_reference_year_reads_that_years_values_and_ships_them(client, tmp_path):
    """With ``reference_year`` 2023 the 2024 run normalises against the 2023 approved values: its indicator scores
    differ from the run without a reference, it keeps the reference values it read, and its open data holds them as
    reference.csv, named in the command, so the run is reproduced exactly."""
    demo_load()
    demo_index_ensure()
    period = ReportingPeriod.objects.get(data_year=2024)
    plain = IndexRun.objects.get(period=period, published_at__isnull=False)
    run = index_run_compute(period=period, methodology=_methodology_with(period, "2025.ref", reference_year=2023))
    assert run.state == "succeeded", run.error
    assert run.input_hash != plain.input_hash
    reference = run.inputs["reference"]
    assert reference["year"] == 2023 and len(reference["units"]) == City.objects.count()
    city = reference["units"][0]
    assert reference["values"][city]["M1.1"] == float(ReturnValue.objects.get(
        indicator_return__period__data_year=2023, indicator_return__state="approved",
        indicator_return__city__code=city, indicator__code="M1.1").value)
    indicator_scores = {(row.city_id, row.code): row.value for row in Score.objects.filter(run=run, code="M1.1")}
    plain_scores = {(row.city_id, row.code): row.value for row in Score.objects.filter(run=plain, code="M1.1")}
    assert indicator_scores.keys() == plain_scores.keys() and indicator_scores != plain_scores

    run = index_run_publish(run=run, actor=User.objects.get(username="methodologist"))
    options = _reproduce(client, run, tmp_path)
    assert options["--reference"] == "reference.csv"


def test_a_reference_year_without_approved_values_fails_the_run_with_a_message(db):
    demo_load()
    demo_index_ensure()
    period = ReportingPeriod.objects.get(data_year=2024)
    run = index_run_compute(period=period, methodology=_methodology_with(period, "2025.ref", reference_year=2019))
    assert run.state == "failed"
    assert "the reference year has no value of indicator" in run.error


def _reproduce(client, run: IndexRun, tmp_path: Path) -> dict[str, str]:
    """Reproduce a published run from its downloaded ZIP; return the command's options.

    Compared exactly (float ==), not to a tolerance: the database keeps each score as an IEEE double (SQLite REAL,
    PostgreSQL double precision), the files write it as Python's repr (the shortest text that reads back as the
    same double), and the engine gives bit-identical results for the same inputs on one machine. So the command's
    own files are also byte-identical to the published scores.csv and ranks.csv, and it prints the run's hash."""
    year = run.period.data_year
    page = client.get(reverse("indices:open_data", args=[year]))
    assert page.status_code == 200
    zip_url = reverse("indices:open_data_file", args=[year, f"ccfi-{year}-open-data.zip"])
    assert zip_url in page.content.decode()
    response = client.get(zip_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    folder = _unzip(response.content, tmp_path / str(year))

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input_hash"] == run.input_hash and manifest["data_year"] == year
    assert manifest["methodology"] == {"code": run.methodology.code, "version": run.methodology.version}
    assert manifest["citation"] == f"China Consumer Finance Index (CCFI) {year}, CCFI Secretariat"
    assert manifest["licence"]["name"] == "CC BY 4.0"
    for entry in manifest["files"]:  # every file as the manifest describes it
        content = (folder / entry["name"]).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (entry["size"], entry["sha256"])
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [entry["name"] for entry in manifest["files"]] + ["manifest.json"])

    command = manifest["reproduce"]["command"].split()
    assert command[:3] == ["python", "manage.py", "compute_index"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    reference_year = run.methodology.engine_settings.get("reference_year")
    assert ("--reference" in options) == (reference_year not in (None, year))
    assert ("--previous" in options) == (run.methodology.engine_settings.get("imputation") == "last_period")
    out = StringIO()
    call_command("compute_index", *(f"{option}={folder / value}" for option, value in options.items()),
                 stdout=out, stderr=StringIO())
    assert f"Input hash {run.input_hash}." in out.getvalue()

    my_scores = (folder / options["--out"]).read_bytes()
    my_ranks = (folder / options["--ranks"]).read_bytes()
    stored = {(city, code): (value, rank) for city, code, value, rank in
              Score.objects.filter(run=run).values_list("city__code", "code", "value", "rank")}
    score_rows, rank_rows = _csv_rows(my_scores), _csv_rows(my_ranks)
    assert len(score_rows) == len(rank_rows) == run.units == len({city for city, _code in stored})
    compared = 0
    for score_row, rank_row in zip(score_rows, rank_rows, strict=True):
        city = score_row.pop("unit")
        assert rank_row.pop("unit") == city
        root = next(iter(score_row))  # the index, first in tree order; 'rank' is its rank
        assert (int(score_row.pop("rank")) if score_row["rank"] else None) == stored[(city, root)][1]
        assert score_row.keys() == rank_row.keys()
        for code, text in score_row.items():
            value, rank = stored[(city, code)]  # None: no score (a city or indicator the engine left out)
            assert (float(text) if text else None) == value, (year, city, code)
            assert (int(rank_row[code]) if rank_row[code] else None) == rank, (year, city, code)
            compared += 1
    assert compared == len(stored)  # every node and indicator of every city
    assert my_scores == (folder / "scores.csv").read_bytes()
    assert my_ranks == (folder / "ranks.csv").read_bytes()


    return options


def test_the_same_run_gives_the_same_bytes_and_every_file_is_served(client):
    demo_load()
    run = next(outcome.run for outcome in demo_index_ensure() if outcome.run.period.data_year == 2024)
    first = open_data_package(run=run)
    cache.clear()
    second = open_data_package(run=IndexRun.objects.get(pk=run.pk))
    assert [(item.name, item.content) for item in first.files] == [(item.name, item.content) for item in second.files]
    names = {item.name for item in first.files}
    assert {"values.csv", "values.xlsx", "values.json", "scores.csv", "ranks.xlsx", "rank-bands.csv",
            "rank-bands.json", "dictionary.xlsx", "methodology.json", "manifest.json",
            "ccfi-2024-open-data.zip"} <= names
    # Every time inside a ZIP or XLSX is the publication time (UTC; ZIP times have two-second steps).
    stamp = run.published_at.astimezone(datetime.UTC)
    for name in ("scores.xlsx", "ccfi-2024-open-data.zip"):
        with zipfile.ZipFile(io.BytesIO(first.file(name).content)) as archive:
            assert {info.date_time[:5] for info in archive.infolist()} == {stamp.timetuple()[:5]}, name
    with zipfile.ZipFile(io.BytesIO(first.file("scores.xlsx").content)) as book:
        assert stamp.strftime("%Y-%m-%dT%H:%M:%S") in book.read("docProps/core.xml").decode()
    for item in first.files:
        response = client.get(reverse("indices:open_data_file", args=[2024, item.name]))
        assert response.status_code == 200 and response.content == item.content, item.name
        assert response["X-Content-SHA256"] == item.sha256
    # The methodology file is what the methodology API's document.json gives.
    document = client.get(reverse("methodology-document", args=[run.methodology.pk]))
    assert first.file("methodology.json").content == document.content
    # The rank bands are every stored band; the values are what the run read.
    bands = _csv_rows(first.file("rank-bands.csv").content)
    assert len(bands) == Score.objects.filter(run=run, rank_p05__isnull=False).count() > 0
    values = _csv_rows(first.file("values.csv").content)
    assert [row["unit"] for row in values] == run.inputs["units"]
    assert {code: (float(text) if text else None) for code, text in values[0].items() if code != "unit"} == \
        run.inputs["values"][values[0]["unit"]]


def test_a_provisional_run_is_never_open_data(client, methodologist, methodology, published_2024, provisional_2024):
    """A year whose only run is provisional is 404 for everyone (the secretariat too), page and files alike; a
    year with both serves the published run, never the newer provisional one."""
    provisional_2022 = make_run(reader_period(methodology, 2022), GROUPS_2024, published=False)
    client.force_login(methodologist)
    for signed_in in (True, False):
        assert client.get(reverse("indices:open_data", args=[2022])).status_code == 404
        for name in ("manifest.json", "scores.csv", "ccfi-2022-open-data.zip"):
            assert client.get(reverse("indices:open_data_file", args=[2022, name])).status_code == 404
        if signed_in:
            client.logout()
    assert provisional_2022.input_hash not in str(client.get(reverse("indices:open_data_index")))
    assert client.get(reverse("indices:open_data_index")).url == reverse("indices:open_data", args=[2024])
    manifest = client.get(reverse("indices:open_data_file", args=[2024, "manifest.json"])).json()
    assert manifest["input_hash"] == published_2024.input_hash != provisional_2024.input_hash
    page = client.get(reverse("indices:open_data", args=[2024]))
    assert page.status_code == 200 and page.context["provisional"] is False
    assert provisional_2024.input_hash not in page.content.decode()
    assert client.get(reverse("indices:open_data_file", args=[2024, "settings.py"])).status_code == 404


def test_nothing_published_yet(client, db):
    response = client.get(reverse("indices:open_data_index"))
    assert response.status_code == 200
    assert 'data-testid="no-open-data"' in response.content.decode()


@pytest.fixture
def formula_run(cities):
    """A published run whose city, node and indicator names begin like spreadsheet formulas."""
    document = copy.deepcopy(READER_DOCUMENT)
    document["code"] = "RF"
    dimension = document["tree"]["children"][0]
    dimension["name"] = {"zh-hans": "=1+1", "en": "+SUM(A1:A9)"}
    dimension["children"][0]["children"][0]["name"] = {"zh-hans": "@SUM(A1)", "en": "=cmd|' /C calc'!A0"}
    version = methodology_publish(version=methodology_create_from_spec(spec=spec.from_document(document), actor=None),
                                  actor=None)
    City.objects.filter(code="500000").update(name_zh='=HYPERLINK("http://evil.example","重庆")', name_en="-2+3")
    return make_run(reader_period(version, 2024), GROUPS_2024, published=True)


def test_spreadsheet_cells_are_formula_safe(client, formula_run):
    """Text that a spreadsheet would run starts with an apostrophe in the CSV and XLSX files; JSON keeps it as is."""
    dangerous = {'=HYPERLINK("http://evil.example","重庆")', "-2+3", "=1+1", "+SUM(A1:A9)", "@SUM(A1)",
                 "=cmd|' /C calc'!A0"}

    def get(name):
        response = client.get(reverse("indices:open_data_file", args=[2024, name]))
        assert response.status_code == 200
        return response.content

    rows = _csv_rows(get("dictionary.csv"))
    texts = {row[column] for row in rows for column in ("name_zh", "name_en")}
    assert {f"'{text}" for text in dangerous} <= texts
    assert not [text for text in texts if text.startswith(FORMULA_PREFIXES)]
    book = openpyxl.load_workbook(io.BytesIO(get("dictionary.xlsx")))
    cells = [cell for row in book.active.iter_rows() for cell in row if cell.value is not None]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert {f"'{text}" for text in dangerous} <= {cell.value for cell in cells}
    assert not [cell.value for cell in cells if isinstance(cell.value, str) and cell.value.startswith(
        FORMULA_PREFIXES)]
    names = {row[key] for row in json.loads(get("dictionary.json")) for key in ("name_zh", "name_en")}
    assert dangerous <= names
    # Numbers stay numbers (a negative score is not text to escape).
    scores = openpyxl.load_workbook(io.BytesIO(get("scores.xlsx"))).active
    assert all(isinstance(cell.value, float | int) for cell in list(scores.iter_rows(min_row=2))[0][1:])


def test_the_page_in_both_languages_with_licence_citation_and_links(client, published_2024):
    response = client.get(reverse("indices:open_data", args=[2024]))
    html = response.content.decode()
    assert "开放数据" in html and "许可" in html
    assert "China Consumer Finance Index (CCFI) 2024, CCFI Secretariat" in html
    assert "https://creativecommons.org/licenses/by/4.0/" in html
    assert published_2024.input_hash in html
    for name in ("values.csv", "scores.xlsx", "ranks.json", "rank-bands.csv", "dictionary.csv", "methodology.json",
                 "manifest.json"):
        assert reverse("indices:open_data_file", args=[2024, name]) in html, name
    assert reverse("indices:open_data_index") in html  # the site menu
    client.cookies["django_language"] = "en"
    html = client.get(reverse("indices:open_data", args=[2024])).content.decode()
    assert "open data" in html and "Licence and citation" in html and "Reproduce the index" in html
    ranking = client.get(reverse("indices:ranking", args=[2024])).content.decode()
    assert reverse("indices:open_data", args=[2024]) in ranking



def test_the_rank_bands_are_reproduced_by_the_engine_from_the_same_files(tmp_path):
    """compute_index gives the nominal index only; the seeded Monte Carlo gives the published rank bands exactly
    from the same two files (docs/reproduce.md shows the call)."""
    demo_load()
    run = next(outcome.run for outcome in demo_index_ensure() if outcome.run.period.data_year == 2024)
    package = open_data_package(run=run)
    for item in package.files:
        (tmp_path / item.name).write_bytes(item.content)
    methodology = spec.loads((tmp_path / "methodology.json").read_text(encoding="utf-8"))
    codes = [indicator.code for indicator in methodology.indicators()]
    units, values = read_values(tmp_path / "values.csv", codes=codes)
    result = compute(methodology=methodology, units=units, values=values, uncertainty=True,
                     uncertainty_nodes=[node.code for node in methodology.nodes()])
    rows = _csv_rows(package.file("rank-bands.csv").content)
    assert len(rows) == Score.objects.filter(run=run, rank_p05__isnull=False).count() == 30 * len(methodology.nodes())
    for row in rows:
        band, position = result.uncertainty.bands[row["code"]], units.index(row["unit"])
        assert (float(band.low[position]), float(band.median[position]), float(band.high[position])) == (
            float(row["rank_p05"]), float(row["rank_median"]), float(row["rank_p95"])), row
