"""Open data of a published index run: its values, scores, ranks and rank bands as CSV, XLSX and JSON, the
methodology document, a data dictionary and a manifest, each alone and all in one ZIP.

**Reproducible.** ``values.csv`` and ``methodology.json`` are exactly what ``compute_index --values`` and
``--methodology`` read (plus ``previous.csv`` for ``--previous`` when the run imputed from last period's values,
and ``reference.csv`` for ``--reference`` when its methodology fixes the scale to a reference year), and
``scores.csv`` and ``ranks.csv`` are exactly what its ``--out`` and ``--ranks`` write: the command on the
downloaded files gives the same bytes (docs/reproduce.md).

**Deterministic.** The files are made from the run (its stored inputs and scores), its frozen methodology and the
cities' names only, with every timestamp in a ZIP or XLSX set to the run's publication time: the same run gives
the same bytes, so the manifest's SHA-256 sums stay true. Nothing depends on the request or its language.

**Only published runs.** ``open_data_run`` finds a period's published run; there is no way to ask for another.
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass

from accounts.models import City
from ccfi_portal.cache import published_read
from ccfi_portal.spreadsheets import escape_formula
from indices.engine.spec import IndicatorSpec, MethodologySpec
from indices.models import IndexRun, Score
from indices.selectors import run_is_illustrative
from methodology.selectors import methodology_document, methodology_spec

LICENCE = {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}
CITATION = "China Consumer Finance Index (CCFI) {year}, CCFI Secretariat"
UNIT = "unit"  # compute_index's column of city codes
FORMATS = ("csv", "xlsx", "json")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
    "zip": "application/zip",
}
# The columns that are not a city, node or indicator code, described in the data dictionary.
COLUMNS = (
    (UNIT, "城市行政区划代码（GB/T 2260）", "City: administrative division code (GB/T 2260)"),
    ("rank", "综合指数排名", "Rank on the composite index"),
    ("code", "节点或指标代码", "Node or indicator code"),
    ("rank_p05", "排名第5百分位数（蒙特卡洛）", "Rank, 5th percentile (Monte Carlo)"),
    ("rank_median", "排名中位数（蒙特卡洛）", "Rank, median (Monte Carlo)"),
    ("rank_p95", "排名第95百分位数（蒙特卡洛）", "Rank, 95th percentile (Monte Carlo)"),
)
DICTIONARY_COLUMNS = ("kind", "code", "parent", "level", "name_zh", "name_en", "unit_zh", "unit_en", "direction",
                      "weight", "aggregation", "normalisation", "decimals", "source_zh", "source_en",
                      "definition_zh", "definition_en")
SOURCE_ZH = re.compile(r"数据来源[：:]\s*(.+?)\s*$", re.S)
SOURCE_EN = re.compile(r"Source:\s*(.+?)\s*$", re.S)


@dataclass(frozen=True)
class Table:
    """A dataset before it is written: column names and rows of text, numbers or None (missing)."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class OpenDataFile:
    name: str  # in the ZIP and the URL
    dataset: str  # values, previous, reference, scores, ranks, rank_bands, dictionary, methodology, manifest, package
    format: str  # csv, xlsx, json or zip
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True)
class OpenDataPackage:
    year: int
    input_hash: str
    methodology_code: str
    methodology_version: str
    published_at: datetime.datetime
    reproduce: str  # the compute_index command that gives scores.csv and ranks.csv from the files
    files: tuple[OpenDataFile, ...]  # the datasets, the methodology, the dictionary, the manifest, then the ZIP

    def file(self, name: str) -> OpenDataFile | None:
        return next((item for item in self.files if item.name == name), None)

    def dataset(self, dataset: str) -> dict[str, OpenDataFile]:
        """The files of one dataset by format."""
        return {item.format: item for item in self.files if item.dataset == dataset}

    @property
    def archive(self) -> OpenDataFile:
        return self.files[-1]


def open_data_run(*, year: int) -> IndexRun | None:
    """The published run of the data year, or None: a provisional run is never open data."""
    return (IndexRun.objects.published().filter(period__data_year=year)
            .select_related("period", "methodology").first())


def open_data_package_cached(*, run: IndexRun) -> OpenDataPackage:
    """The package from the published-read cache: it is the same for every reader (a published run only)."""
    return published_read("open_data", run.pk, run.published_at.isoformat(),
                          compute=lambda: open_data_package(run=run))


def open_data_package(*, run: IndexRun) -> OpenDataPackage:
    """Every file of the published run's open data (see the module docstring)."""
    if not run.is_published:
        raise ValueError("Only a published run is open data.")
    spec = methodology_spec(version=run.methodology)
    year = run.period.data_year
    stamp = run.published_at.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)
    inputs = run.inputs if isinstance(run.inputs, dict) else {}
    codes = [code for _path, _parent, code in _tree(spec)]
    indicator_codes = list(inputs.get("indicators") or [indicator.code for indicator in spec.indicators()])
    scores = list(Score.objects.filter(run=run).values_list(
        "city__code", "code", "value", "rank", "rank_p05", "rank_median", "rank_p95"))
    units = list(inputs.get("units") or sorted({row[0] for row in scores}))
    by_cell = {(row[0], row[1]): row[2:] for row in scores}  # (value, rank, rank_p05, rank_median, rank_p95)

    def cell(unit: str, code: str) -> tuple:
        return by_cell.get((unit, code), (None,) * 5)

    tables = [_values_table("values", units, indicator_codes, inputs.get("values") or {})]
    uses_previous = spec.engine.imputation == "last_period"
    if uses_previous:
        tables.append(_values_table("previous", units, indicator_codes, inputs.get("previous") or {}))
    reference = inputs.get("reference")
    if reference:
        tables.append(_values_table("reference", list(reference["units"]), indicator_codes, reference["values"]))
    # compute_index's --out (scores at every node, then the rank on the index) and --ranks layouts.
    tables.append(Table("scores", (UNIT, *codes, "rank"), tuple(
        (unit, *(cell(unit, code)[0] for code in codes), cell(unit, codes[0])[1]) for unit in units)))
    tables.append(Table("ranks", (UNIT, *codes), tuple(
        (unit, *(cell(unit, code)[1] for code in codes)) for unit in units)))
    bands = tuple((unit, code, *cell(unit, code)[1:]) for unit in units for code in codes
                  if cell(unit, code)[2] is not None)
    if bands:
        tables.append(Table("rank_bands", (UNIT, "code", "rank", "rank_p05", "rank_median", "rank_p95"), bands))
    tables.append(_dictionary(spec, units))

    files: list[OpenDataFile] = []
    for table in tables:
        # previous.csv and reference.csv are inputs of the command only; the other datasets are for reading too.
        formats = ("csv",) if table.name in ("previous", "reference") else FORMATS
        for fmt in formats:
            files.append(_file(f"{table.name.replace('_', '-')}.{fmt}", table.name, fmt,
                               _render(table, fmt, stamp=stamp)))
    files.append(_file("methodology.json", "methodology", "json",
                       methodology_document(version=run.methodology).encode("utf-8")))
    command = ("python manage.py compute_index --methodology methodology.json --values values.csv"
               + (" --previous previous.csv" if uses_previous else "")
               + (" --reference reference.csv" if reference else "")
               + " --out my-scores.csv --ranks my-ranks.csv")
    manifest = {
        "title": {"zh-hans": f"中国消费金融指数（CCFI）{year} 开放数据",
                  "en": f"China Consumer Finance Index (CCFI) {year}: open data"},
        "data_year": year,
        "methodology": {"code": run.methodology.code, "version": run.methodology.version},
        "engine_version": run.engine_version,
        "input_hash": run.input_hash,
        "published_at": run.published_at.astimezone(datetime.UTC).isoformat(),
        "cities": len(units),
        "illustrative": run_is_illustrative(run=run),
        "licence": LICENCE,
        "citation": CITATION.format(year=year),
        "reproduce": {"command": command, "compare": {"my-scores.csv": "scores.csv", "my-ranks.csv": "ranks.csv"}},
        "files": [{"name": item.name, "size": item.size, "sha256": item.sha256} for item in files],
    }
    files.append(_file("manifest.json", "manifest", "json", _json(manifest)))
    folder = f"ccfi-{year}-open-data"
    archive = _zip([(f"{folder}/{item.name}", item.content) for item in files], stamp=stamp)
    files.append(_file(f"{folder}.zip", "package", "zip", archive))
    return OpenDataPackage(year=year, input_hash=run.input_hash, methodology_code=run.methodology.code,
                           methodology_version=run.methodology.version, published_at=run.published_at,
                           reproduce=command, files=tuple(files))


def _tree(spec: MethodologySpec):
    """(level, parent code, code) of every node and indicator in tree order, as compute_index writes them."""
    levels: dict[str, int] = {}
    for _path, parent, item in spec.walk():
        levels[item.code] = 0 if parent is None else levels[parent] + 1
        yield levels[item.code], parent, item.code


def _values_table(name: str, units: list[str], codes: list[str], values: dict) -> Table:
    """compute_index's layout: a 'unit' column and one column per indicator code (blank = missing)."""
    return Table(name, (UNIT, *codes), tuple(
        (unit, *((values.get(unit) or {}).get(code) for code in codes)) for unit in units))


def _dictionary(spec: MethodologySpec, units: list[str]) -> Table:
    """Every code in the files: the columns, the tree's nodes and indicators, the cities."""
    rows = [("column", code, "", "", zh, en, *[""] * 11) for code, zh, en in COLUMNS]
    items = {item.code: item for _path, _parent, item in spec.walk()}
    for level, parent, code in _tree(spec):
        item = items[code]
        if isinstance(item, IndicatorSpec):
            source_zh, source_en = SOURCE_ZH.search(item.definition_zh), SOURCE_EN.search(item.definition_en)
            rows.append(("indicator", code, parent, level, item.name_zh, item.name_en, item.unit_zh, item.unit_en,
                         item.direction, item.weight, "", item.normalisation, item.decimals,
                         source_zh.group(1) if source_zh else "", source_en.group(1) if source_en else "",
                         item.definition_zh, item.definition_en))
        else:
            rows.append(("node", code, parent or "", level, item.name_zh, item.name_en, "", "", "", item.weight,
                         item.aggregation, "", "", "", "", "", ""))
    names = {city.code: city for city in City.objects.filter(code__in=units)}
    for unit in units:
        city = names.get(unit)
        rows.append(("city", unit, "", "", city.name_zh if city else "", city.name_en if city else "",
                     *[""] * 11))
    return Table("dictionary", DICTIONARY_COLUMNS, tuple(rows))


def _file(name: str, dataset: str, fmt: str, content: bytes) -> OpenDataFile:
    return OpenDataFile(name=name, dataset=dataset, format=fmt, content=content,
                        sha256=hashlib.sha256(content).hexdigest())


def _render(table: Table, fmt: str, *, stamp: datetime.datetime) -> bytes:
    if fmt == "csv":
        return _csv(table)
    if fmt == "xlsx":
        return _xlsx(table, stamp=stamp)
    return _json([dict(zip(table.columns, (_json_cell(cell) for cell in row), strict=True)) for row in table.rows])


def _csv(table: Table) -> bytes:
    """As compute_index reads and writes: UTF-8, '\\n', numbers as Python writes them (exact), blank = missing.
    Text cells a spreadsheet would run are escaped; the dictionary (Chinese text) starts with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([escape_formula(column) for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    text = out.getvalue()
    return (("\ufeff" if table.name == "dictionary" else "") + text).encode("utf-8")


def _csv_cell(cell) -> str:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return ""
    if isinstance(cell, float):
        return repr(cell)
    if isinstance(cell, int):
        return str(cell)
    return escape_formula(cell)


def _json_cell(cell):
    return None if isinstance(cell, float) and math.isnan(cell) else cell


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode("utf-8")


def _xlsx(table: Table, *, stamp: datetime.datetime) -> bytes:
    """One sheet; formula-like text escaped; the document's dates and every ZIP entry's time fixed to ``stamp``."""
    import openpyxl  # lazy: a heavy library only XLSX files need
    from openpyxl.writer.excel import ExcelWriter

    book = openpyxl.Workbook(write_only=True)
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "CCFI Secretariat"
    sheet = book.create_sheet(title=table.name)
    sheet.append([escape_formula(column) for column in table.columns])
    for row in table.rows:
        sheet.append([None if cell is None or (isinstance(cell, float) and math.isnan(cell)) else escape_formula(cell)
                      for cell in row])
    buffer = io.BytesIO()
    # ExcelWriter rather than book.save(): save_workbook stamps the document with the current time.
    ExcelWriter(book, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as written:
        entries = [(info.filename, written.read(info)) for info in written.infolist()]
    return _zip(entries, stamp=stamp)


def _zip(entries: list[tuple[str, bytes]], *, stamp: datetime.datetime) -> bytes:
    """A ZIP whose bytes depend on the entries only: fixed time, permissions and system for every entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def open_data_years() -> list[int]:
    """The data years with a published run, newest first."""
    return list(IndexRun.objects.published().order_by("-period__data_year")
                .values_list("period__data_year", flat=True))
