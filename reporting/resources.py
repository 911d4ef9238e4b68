"""Spreadsheet import and export of returns with django-import-export.

One row per city and indicator (long format), the same columns in the template and the upload:
city code, city, indicator code, name, unit, last year's approved value, this year's value,
observation status, source, explanation. Headers are bilingual ("指标代码 indicator_code"); on
import only the English key after the last space is read, so either language's header works.

The resource parses and checks each row (known city and indicator, the uploader's own city, no
duplicates) and turns it into a ``ValueEntry``; it writes nothing itself. The values then go
through the reporting services, i.e. through the same validation, change records and flags as
the form (``services.values_import_preview`` / ``values_import_apply``). A blank value cell
means a missing value, never zero.

Exports escape cells that a spreadsheet would run as a formula (ASVS 1.2.10); the import undoes
that escaping, so a template re-imported unchanged changes nothing. An upload is read as a stream
and refused at the first row past a limit (columns, cell length, text, rows), before anything is
kept; only the columns the import reads are kept.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import tablib
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_
from import_export import fields, resources, widgets
from import_export.instance_loaders import BaseInstanceLoader

from accounts.models import City
from ccfi_portal.i18n import pick
from ccfi_portal.spreadsheets import escape_formula, unescape_formula
from methodology.models import Severity
from reporting.entries import ValueEntry
from reporting.models import IndicatorReturn, ObservationStatus, ReportingPeriod, ReturnState, ReturnValue
from reporting.selectors import period_spec, previous_approved_values_for, user_may_edit_values
from reporting.uploads import XLSX, limit
from reporting.validation import number_text, observation_status_label, shown, variables

COLUMNS = [
    ("city_code", "城市代码"), ("city", "城市"), ("indicator_code", "指标代码"), ("name", "指标名称"),
    ("unit", "单位"), ("allowed_range", "允许范围"), ("expected_range", "预期范围"), ("last_year", "上年审核值"),
    ("value", "本年数值"), ("observation_status", "观测状态"),
    ("source_note", "数据来源"), ("explanation", "情况说明"),
]
HEADER_ALIASES = {zh: key for key, zh in COLUMNS} | {key: key for key, _zh in COLUMNS}
REQUIRED_HEADERS = ("indicator_code", "value")


@dataclass
class ImportPlan:
    """What a parsed file asks for: entries per return, and every row's own problems."""

    returns: dict[int, IndicatorReturn]
    entries: dict[int, dict[str, ValueEntry]]
    values: dict[int, dict[str, ReturnValue]]  # the stored values of each return, by code
    rows: list[dict]  # {"row", "city", "code", "outcome", "messages": [...], "changes": [...]}


def header_key(header) -> str:
    text = str(header or "").strip()
    key = text.rsplit(" ", 1)[-1].strip().lower() if text else ""
    return HEADER_ALIASES.get(key) or HEADER_ALIASES.get(text) or key


class RawWidget(widgets.Widget):
    """Keeps a cell as the user wrote it: the validation service parses and judges it."""

    def clean(self, value, row=None, **kwargs):
        return value

    def render(self, value, obj=None, **kwargs):
        return value


class _PlanLoader(BaseInstanceLoader):
    """Finds the stored value for (city code, indicator code) in a preloaded dict: one query for all rows."""

    def get_instance(self, row):
        return self.resource.values_by_key.get((str(row.get("city_code") or self.resource.default_city_code or "")
                                                .strip(), str(row.get("indicator_code") or "").strip()))


class ReturnValueResource(resources.ModelResource):
    city_code = fields.Field(attribute="city_code", column_name="city_code", widget=RawWidget(), readonly=True)
    city = fields.Field(column_name="city", readonly=True)
    indicator_code = fields.Field(attribute="indicator_code", column_name="indicator_code", widget=RawWidget(),
                                  readonly=True)
    name = fields.Field(column_name="name", readonly=True)
    unit = fields.Field(column_name="unit", readonly=True)
    allowed_range = fields.Field(column_name="allowed_range", readonly=True)
    expected_range = fields.Field(column_name="expected_range", readonly=True)
    last_year = fields.Field(column_name="last_year", readonly=True)
    value = fields.Field(attribute="value", column_name="value", widget=RawWidget())
    observation_status = fields.Field(attribute="observation_status", column_name="observation_status",
                                      widget=RawWidget())
    source_note = fields.Field(attribute="source_note", column_name="source_note", widget=RawWidget())
    explanation = fields.Field(attribute="explanation", column_name="explanation", widget=RawWidget())

    class Meta:
        model = ReturnValue
        fields = [key for key, _zh in COLUMNS]
        export_order = [key for key, _zh in COLUMNS]
        import_id_fields = ["indicator_code"]
        instance_loader_class = _PlanLoader
        skip_diff = True
        clean_model_instances = False
        use_transactions = False

    def __init__(self, *, previous: dict | None = None, language: str = "zh-hans",
                 plan: ImportPlan | None = None, values_by_key: dict | None = None,
                 default_city_code: str | None = None, allowed_city_codes: set[str] | None = None,
                 specs: dict | None = None):
        super().__init__()
        self.specs = specs or {}
        self.previous = previous or {}
        self.language = language
        self.plan = plan
        self.values_by_key = values_by_key or {}
        self.default_city_code = default_city_code
        self.allowed_city_codes = allowed_city_codes or set()
        self.seen: set[tuple[str, str]] = set()

    # Export (the template).

    def get_export_headers(self, selected_fields=None):
        return [f"{zh} {key}" for key, zh in COLUMNS]

    def dehydrate_city_code(self, value: ReturnValue):
        return value.indicator_return.city.code

    def dehydrate_city(self, value: ReturnValue):
        city = value.indicator_return.city
        return pick(city, "name", self.language)

    def dehydrate_indicator_code(self, value: ReturnValue):
        return value.indicator.code

    def dehydrate_name(self, value: ReturnValue):
        return pick(value.indicator, "name", self.language)

    def dehydrate_unit(self, value: ReturnValue):
        return pick(value.indicator, "unit", self.language)

    def dehydrate_allowed_range(self, value: ReturnValue):
        bounds = getattr(self.specs.get(value.indicator.code), "bounds", None)
        return range_text(bounds.hard_min, bounds.hard_max) if bounds else ""

    def dehydrate_expected_range(self, value: ReturnValue):
        bounds = getattr(self.specs.get(value.indicator.code), "bounds", None)
        return range_text(bounds.soft_min, bounds.soft_max) if bounds else ""

    def dehydrate_observation_status(self, value: ReturnValue):
        """The form's label (终值, Final), which the import reads back as the code."""
        with translation.override(self.language):
            return observation_status_label(value.observation_status)

    def dehydrate_last_year(self, value: ReturnValue):
        last = self.previous.get(value.indicator_return.city_id, {}).get(value.indicator.code)
        return _cell_number(last, value.indicator.decimals)

    def dehydrate_value(self, value: ReturnValue):
        return _cell_number(value.value, value.indicator.decimals)

    # Import (rows to entries).

    def before_import_row(self, row, **kwargs):
        code = str(row.get("indicator_code") or "").strip()
        city_code = str(row.get("city_code") or self.default_city_code or "").strip()
        # What the report keeps of the codes as written: short, control characters made visible.
        record = {"row": kwargs.get("row_number", 0) + 1, "city": shown(city_code, 20), "code": shown(code, 30),
                  "outcome": "unchanged", "messages": [], "changes": []}
        self.plan.rows.append(record)
        if not code and all(value in (None, "") for value in row.values()):
            record["outcome"] = "ignored"
            record["messages"].append(_message(Severity.INFO, N_("Empty row; ignored.")))
            raise ValidationError("ignored")
        if city_code not in self.allowed_city_codes:
            # The same answer whether the city exists or is someone else's: nothing is revealed.
            record["messages"].append(_message(
                Severity.ERROR, N_("City code “%(city)s” is not a city you can file for in this period."),
                city=record["city"]))
            raise ValidationError("city")
        if (city_code, code) not in self.values_by_key:
            record["messages"].append(_message(
                Severity.ERROR, N_("“%(code)s” is not an indicator or context variable of this period's methodology."),
                code=record["code"]))
            raise ValidationError("code")
        if (city_code, code) in self.seen:
            record["messages"].append(_message(Severity.ERROR, N_("%(code)s appears more than once for this city."),
                                               code=code))
            raise ValidationError("duplicate")
        self.seen.add((city_code, code))

    def import_instance(self, instance, row, **kwargs):
        entry = ValueEntry(value=row.get("value"))
        if "observation_status" in row:
            entry.observation_status = row.get("observation_status")
        if "source_note" in row:
            entry.source_note = row.get("source_note") or ""
        if "explanation" in row:
            entry.explanation = row.get("explanation") or ""
        return_id = instance.indicator_return_id
        self.plan.entries.setdefault(return_id, {})[instance.indicator.code] = entry
        self.plan.returns.setdefault(return_id, instance.indicator_return)
        city_id = instance.indicator_return.city_id
        self.plan.rows[-1]["city_id"] = city_id

    def save_instance(self, instance, is_create, row, **kwargs):
        """The services store the values; the resource only plans them."""

    def save_m2m(self, instance, row, **kwargs):
        pass


def _message(severity: str, message: str, **params) -> dict:
    return {"severity": severity, "message": message, "params": params}


def range_text(low, high) -> str:
    """A range as read beside a value: "0 – 100", "≥ 0", "≤ 100" or blank."""
    if low is not None and high is not None:
        return f"{number_text(low)} – {number_text(high)}"
    if low is not None:
        return f"≥ {number_text(low)}"
    return f"≤ {number_text(high)}" if high is not None else ""


def _cell_number(value: Decimal | None, decimals: int):
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-decimals)) if decimals is not None else value


# Reading an upload.

# The columns an import reads; any other column of the file (the template's name, unit, last year's value,
# the filer's own notes) is skipped while reading and never kept.
IMPORT_KEYS = ("city_code", "indicator_code", "value", "observation_status", "source_note", "explanation")


def read_upload(upload, *, kind: str) -> tablib.Dataset:
    """The cells an import needs from an XLSX (first sheet) or CSV (UTF-8 or GB18030) file, headers normalised.

    Rows are streamed and checked as they are read, so a hostile file is refused before it costs memory:
    a row reaching beyond the column limit, a cell over the length limit, more text in all than the text
    limit, or data after the row limit. Only the columns in IMPORT_KEYS are kept; blank rows at the end
    are not counted.
    """
    upload.seek(0)
    content = upload.read()
    rows = _xlsx_rows(content) if kind == XLSX else _csv_rows(content)
    reader = _BoundedRows()
    try:
        for number, row in enumerate(rows, start=1):
            reader.add(number, row)
    finally:
        rows.close()
    return reader.dataset()


class _BoundedRows:
    """Keeps the needed cells of each row read, refusing the file as soon as a limit is passed."""

    def __init__(self):
        self.max_rows = limit("REPORTING_IMPORT_MAX_ROWS")
        self.max_columns = limit("REPORTING_IMPORT_MAX_COLUMNS")
        self.max_cell = limit("REPORTING_IMPORT_MAX_CELL_CHARS")
        self.max_text = limit("REPORTING_IMPORT_MAX_TEXT_CHARS")
        self.headers: list[str] | None = None
        self.positions: list[int] = []  # the file's column of each kept header
        self.rows: list[list] = []
        self.blank = 0  # blank rows read since the last kept one: kept only if data follows
        self.text = 0

    def add(self, number: int, row) -> None:
        if len(row) > self.max_columns:
            raise ValidationError(
                _("Row %(row)s has cells up to column %(column)s; at most %(max)s columns are read. Delete the "
                  "columns after the template's last one."), code="too_many_columns",
                params={"row": number, "column": column_letter(len(row)), "max": self.max_columns})
        for index, cell in enumerate(row):
            if isinstance(cell, str) and len(cell) > self.max_cell:
                raise ValidationError(_("Row %(row)s, column %(column)s holds %(length)s characters; a cell may "
                                        "hold at most %(max)s."), code="cell_too_long",
                                      params={"row": number, "column": column_letter(index + 1),
                                              "length": len(cell), "max": self.max_cell})
        if self.headers is None:
            self._read_headers(row)
            return
        cells = [_clean_cell(row[index]) if index < len(row) else None for index in self.positions]
        if all(cell in (None, "") for cell in cells):
            self.blank += 1
            return
        if number - 1 > self.max_rows:
            raise ValidationError(_("The file has more than %(max)s rows."), code="too_many_rows",
                                  params={"max": self.max_rows})
        self.text += sum(len(cell) for cell in cells if isinstance(cell, str))
        if self.text > self.max_text:
            raise ValidationError(_("The file holds more than %(max)s characters of text in the columns read."),
                                  code="too_much_text", params={"max": self.max_text})
        self.rows.extend([None] * len(cells) for _blank in range(self.blank))
        self.blank = 0
        self.rows.append(cells)

    def _read_headers(self, row) -> None:
        self.headers = []
        for index, header in enumerate(row):
            key = header_key(header)
            if key not in IMPORT_KEYS:
                continue
            if key in self.headers:
                raise ValidationError(_("The column %(column)s appears twice; keep one."), code="duplicate_column",
                                      params={"column": key})
            self.headers.append(key)
            self.positions.append(index)
        missing = [key for key in REQUIRED_HEADERS if key not in self.headers]
        if missing:
            raise ValidationError(_("The file has no column %(columns)s; start from the downloaded template."),
                                  code="headers", params={"columns": ", ".join(missing)})

    def dataset(self) -> tablib.Dataset:
        if self.headers is None:
            raise ValidationError(_("The file has no rows."), code="empty")
        dataset = tablib.Dataset(headers=self.headers)
        for row in self.rows:
            dataset.append(row)
        return dataset


def _clean_cell(cell):
    """A text cell without surrounding spaces and without the apostrophe an export put before a formula."""
    return unescape_formula(cell.strip()) if isinstance(cell, str) else cell


def column_letter(number: int) -> str:
    """A spreadsheet's name of a column: 1 is A, 27 is AA, 16384 is XFD."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _xlsx_rows(content: bytes):
    """The first sheet's rows, each as wide as its own last cell: the declared range is not trusted and no
    row is padded to the widest one."""
    import openpyxl  # lazy: a heavy library only XLSX uploads need; uses defusedxml when installed

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise ValidationError(_("The workbook cannot be read: %(error)s"), code="unreadable",
                              params={"error": type(error).__name__}) from error
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    except Exception as error:
        raise ValidationError(_("The workbook cannot be read: %(error)s"), code="unreadable",
                              params={"error": type(error).__name__}) from error
    finally:
        book.close()


def _csv_rows(content: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("The CSV file is neither UTF-8 nor GB18030 text."), code="encoding")
    reader = csv.reader(io.StringIO(text))
    try:
        yield from reader
    except csv.Error as error:
        raise ValidationError(_("Line %(line)s of the CSV file cannot be read: a cell is too long or a quote is not "
                                "closed."), code="unreadable", params={"line": reader.line_num}) from error


def dataset_cells(dataset: tablib.Dataset) -> dict:
    """The parsed rows as JSON (numbers stay numbers; dates and the like become text)."""
    def plain(cell):
        return cell if cell is None or isinstance(cell, str | int | float) and not isinstance(cell, bool) else str(cell)

    return {"headers": list(dataset.headers), "rows": [[plain(cell) for cell in row] for row in dataset]}


def cells_dataset(cells: dict) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=cells.get("headers") or [])
    for row in cells.get("rows", []):
        dataset.append(row)
    return dataset


def import_plan_build(*, dataset: tablib.Dataset, period: ReportingPeriod, actor, city: City | None) -> ImportPlan:
    """Each row checked and turned into an entry of the city's open return; row problems recorded.

    ``city`` is the filer's city (every row must be for it; a file without a city column is taken
    to be for it); None lets the system administrator load several cities at once.
    """
    returns = IndicatorReturn.objects.filter(period=period, state__in=(ReturnState.DRAFT, ReturnState.RETURNED))
    if city is not None:
        returns = returns.filter(city=city)
    returns = [item for item in returns.select_related("city", "period") if user_may_edit_values(actor, item)]
    by_id = {item.pk: item for item in returns}
    values_by_key = {}
    for value in ReturnValue.objects.filter(indicator_return__in=returns).select_related("indicator"):
        value.indicator_return = by_id[value.indicator_return_id]
        values_by_key[(value.indicator_return.city.code, value.indicator.code)] = value
    plan = ImportPlan(returns={}, entries={}, rows=[], values={})
    for value in values_by_key.values():
        plan.values.setdefault(value.indicator_return_id, {})[value.indicator.code] = value
    resource = ReturnValueResource(plan=plan, values_by_key=values_by_key,
                                   default_city_code=city.code if city else None,
                                   allowed_city_codes={item.city.code for item in returns})
    resource.import_data(dataset, dry_run=False, use_transactions=False, raise_errors=False)
    return plan


def template_dataset(*, returns: list[IndicatorReturn], language: str) -> tablib.Dataset:
    """The downloadable template: every indicator of the returns, last year's values, current values."""
    if not returns:
        return tablib.Dataset(headers=ReturnValueResource().get_export_headers())
    previous = previous_approved_values_for(city_ids=[item.city_id for item in returns],
                                            data_year=returns[0].period.data_year)
    queryset = ReturnValue.objects.filter(indicator_return__in=returns).select_related(
        "indicator", "indicator_return__city")
    # In the form's order: the tree's indicators, then the context variables.
    specs = variables(period_spec(period=returns[0].period))
    order = {code: index for index, code in enumerate(specs)}
    rows = sorted(queryset, key=lambda value: (value.indicator_return.city.code,
                                                order.get(value.indicator.code, len(order))))
    return ReturnValueResource(previous=previous, language=language, specs=specs).export(queryset=rows)


def dataset_as_csv(dataset: tablib.Dataset) -> bytes:
    """CSV with a BOM, so that Excel opens the Chinese text as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([escape_formula(header) for header in dataset.headers])
    for row in dataset:
        writer.writerow([escape_formula(cell) if cell is not None else "" for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def dataset_as_xlsx(dataset: tablib.Dataset, *, title: str = "CCFI", language: str | None = None) -> bytes:
    """The template as a workbook: the values sheet first (the one an import reads) with a frozen header row,
    readable column widths and a drop-down of the form's status labels, then a sheet of instructions."""
    import openpyxl  # lazy: a heavy library only XLSX downloads need
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    def cell_text(cell):
        # Control characters are refused on input; one stored before that is shown as U+FFFD, not a 500.
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", cell) if isinstance(cell, str) else cell

    language = language or translation.get_language() or "zh-hans"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([cell_text(escape_formula(header)) for header in dataset.headers])
    for row in dataset:
        sheet.append([cell_text(escape_formula(cell)) for cell in row])
    sheet.freeze_panes = "A2"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    keys = [header_key(header) for header in dataset.headers]
    for index, header in enumerate(dataset.headers):
        width = max((_text_width(cell) for cell in dataset.get_col(index) if cell is not None), default=0)
        sheet.column_dimensions[column_letter(index + 1)].width = min(max(width, _text_width(header), 8) + 2, 50)
    with translation.override(language):
        labels = [str(label) for _value, label in ObservationStatus.choices]
        if "observation_status" in keys and dataset.height:
            letter = column_letter(keys.index("observation_status") + 1)
            # A warning, not a stop: the codes and older words are still read on import.
            choice = DataValidation(type="list", formula1='"' + ",".join(labels) + '"', allow_blank=True,
                                    errorStyle="warning", showErrorMessage=True)
            choice.add(f"{letter}2:{letter}{dataset.height + 1}")
            sheet.add_data_validation(choice)
        notes = book.create_sheet(title=str(_("Instructions"))[:31])
        notes.column_dimensions["A"].width = 100
        for line in template_instructions(labels):
            notes.append([line])
            notes.cell(row=notes.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        notes["A1"].font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_width(cell) -> int:
    """About how many character widths a cell needs: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in str(cell))


def template_instructions(labels: list[str]) -> list[str]:
    """The instructions sheet, in the active language, with the form's own words for the statuses."""
    return [
        str(_("How to fill in this template")),
        str(_("Fill in this year's value of each row; a blank cell means a missing value, never zero.")),
        str(_("Observation status: choose %(labels)s from the list (a blank cell means %(final)s).")
            % {"labels": " / ".join(labels), "final": labels[0]}),
        str(_("The unit, the allowed range, the expected range and last year's approved value are shown for "
              "reference; the import does not read them. A value outside the allowed range is refused; one outside "
              "the expected range needs an explanation.")),
        str(_("Do not change the city and indicator codes or the header row. Only the first sheet is imported.")),
    ]
