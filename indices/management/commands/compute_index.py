"""Compute an index from files, offline: no database is read or written."""
import csv
import math
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from indices.engine import spec
from indices.engine.compute import compute
from indices.engine.errors import EngineError

UNIT_COLUMN = "unit"


class Command(BaseCommand):
    help = "Compute an index from a methodology document and a CSV of values, without touching the database."

    # Offline by design: system checks may open a database connection, so none run.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--methodology", required=True, help="Methodology document (JSON, see docs).")
        parser.add_argument("--values", required=True,
                            help="CSV with a 'unit' column and one column per indicator code; blank = missing.")
        parser.add_argument("--out", required=True,
                            help="CSV to write: 'unit', one column per node and indicator in tree order, 'rank'.")
        parser.add_argument("--ranks",
                            help="CSV to write: 'unit', then the rank at every node and indicator (tree order).")
        parser.add_argument("--previous", help="Last period's values (same layout), for last-period imputation.")
        parser.add_argument("--reference", help="Reference-year values (same layout), to fix the normalisation scale.")

    def handle(self, *args, methodology, values, out, ranks=None, previous=None, reference=None, **options):
        methodology_spec = self._methodology(methodology)
        codes = [indicator.code for indicator in methodology_spec.indicators()]
        units, matrix = read_values(Path(values), codes=codes)
        previous_matrix = self._aligned(previous, codes=codes, units=units) if previous else None
        reference_matrix = read_values(Path(reference), codes=codes)[1] if reference else None
        try:
            result = compute(methodology=methodology_spec, units=units, values=matrix, previous=previous_matrix,
                             reference=reference_matrix, audit=False)
        except EngineError as error:
            raise CommandError(str(error)) from error
        write_scores(Path(out), result)
        if ranks:
            write_ranks(Path(ranks), result)
        diagnostics = result.diagnostics
        self.stdout.write(
            f"Computed {methodology_spec.code} {methodology_spec.version} for {len(units)} units "
            f"({len(diagnostics.excluded_units)} excluded, {len(diagnostics.imputed_cells)} cells imputed); "
            f"wrote {out}. Input hash {result.input_hash}."
        )
        for warning in diagnostics.warnings:
            self.stderr.write(f"Warning: {warning.render()}")
        if diagnostics.excluded_indicators:
            self.stderr.write("Excluded for availability: " + ", ".join(diagnostics.excluded_indicators))

    def _methodology(self, path: str) -> spec.MethodologySpec:
        try:
            return spec.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        except spec.DocumentError as error:
            raise CommandError(f"{path} is not a valid methodology document: {error}") from error

    def _aligned(self, path: str, *, codes: list[str], units: list[str]) -> np.ndarray:
        """Last period's rows in this period's unit order; units it lacks are all missing."""
        previous_units, previous = read_values(Path(path), codes=codes)
        row_of = {unit: row for row, unit in enumerate(previous_units)}
        aligned = np.full((len(units), len(codes)), np.nan)
        for row, unit in enumerate(units):
            if unit in row_of:
                aligned[row] = previous[row_of[unit]]
        return aligned


def read_values(path: Path, *, codes: list[str]) -> tuple[list[str], np.ndarray]:
    """Units and a units × indicators matrix (columns in ``codes`` order) from a wide CSV."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            if UNIT_COLUMN not in header:
                raise CommandError(f"{path} has no '{UNIT_COLUMN}' column.")
            missing = [code for code in codes if code not in header]
            if missing:
                raise CommandError(f"{path} has no column for: {', '.join(missing)}.")
            units, rows = [], []
            for line, record in enumerate(reader, start=2):
                units.append(record[UNIT_COLUMN].strip())
                rows.append([_number(record[code], path=path, line=line, code=code) for code in codes])
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
    return units, np.array(rows, dtype=float).reshape(len(rows), len(codes))


def _number(text: str | None, *, path: Path, line: int, code: str) -> float:
    text = (text or "").strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"{path}, line {line}, column {code}: {text!r} is not a number.") from None
    if not math.isfinite(value):
        raise CommandError(f"{path}, line {line}, column {code}: {text!r} is not a finite number.")
    return value


def write_scores(path: Path, result) -> None:
    """One row per unit: its unrounded score at every node and indicator (tree order), then its rank."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([UNIT_COLUMN, *result.codes, "rank"])
        for row, unit in enumerate(result.units):
            rank = int(result.ranks[row, 0])
            writer.writerow([unit, *(_cell(value) for value in result.scores[row]), rank or ""])


def write_ranks(path: Path, result) -> None:
    """One row per unit: its rank at every node and indicator (tree order); blank where it has none."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([UNIT_COLUMN, *result.codes])
        for row, unit in enumerate(result.units):
            writer.writerow([unit, *(int(rank) or "" for rank in result.ranks[row])])


def _cell(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))
