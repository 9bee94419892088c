"""Reference values (best known or optimal objectives) read from a CSV, and the gap of a result to them.

The key is an `instance`, `name` or `id` column, or `set` plus `index` (OR-Library: `wt40#7`); the
value is `--reference-column` or the first of the usual names (best_known, optimum_or_best_upper ...)."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from orkit.core.errors import InstanceError
from orkit.core.registry import split_fragment
from orkit.core.result import Sense

KEY_COLUMNS = ("instance", "name", "id")
VALUE_COLUMNS = ("reference", "best_known", "optimum_or_best_upper", "optimum", "best", "objective", "value")


@dataclass(frozen=True)
class Reference:
    path: str
    column: str
    values: dict[str, float]

    def lookup(self, address: str, model_name: str | None) -> float | None:
        """The reference of an instance, by its model name or by its file name (`wt40.txt#7` -> wt40#7)."""
        path, index = split_fragment(address)
        stem = path.name.split(".")[0]
        for key in (model_name, f"{stem}#{index}" if index is not None else stem, path.name):
            if key is not None and key in self.values:
                return self.values[key]
        return None


def read_reference(path: str | Path, column: str | None = None) -> Reference:
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise InstanceError(f"cannot read the reference: {exc.strerror}", path) from None
    with handle:
        try:
            rows = list(csv.reader(handle))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InstanceError(f"not a CSV file: {exc}", path) from None
    if not rows:
        raise InstanceError("empty reference file; expected a header line", path, 1)
    header = [h.strip() for h in rows[0]]
    value_column = column or next((c for c in VALUE_COLUMNS if c in header), None)
    if value_column not in header:
        wanted = repr(column) if column else f"one of {', '.join(VALUE_COLUMNS)}"
        raise InstanceError(f"no value column {wanted} in the header {header}", path, 1)
    keyed = next((c for c in KEY_COLUMNS if c in header), None)
    if keyed is None and not {"set", "index"} <= set(header):
        raise InstanceError(f"no key column ({', '.join(KEY_COLUMNS)}, or set and index) in {header}", path, 1)
    position = {name: k for k, name in enumerate(header)}
    values: dict[str, float] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InstanceError(f"{len(row)} fields, the header has {len(header)}", path, line)
        cell = row[position[value_column]].strip()
        if not cell:
            continue  # no reference for this instance
        try:
            value = float(cell)
        except ValueError:
            raise InstanceError(f"{value_column} {cell!r} is not a number", path, line) from None
        if not math.isfinite(value):
            raise InstanceError(f"{value_column} {cell!r} is not finite", path, line)
        key = row[position[keyed]].strip() if keyed else \
            f"{row[position['set']].strip()}#{row[position['index']].strip()}"
        values[key] = value
    return Reference(str(path), value_column, values)


def reference_gap(objective: float | None, reference: float | None, sense: Sense) -> float | None:
    """How much worse than the reference, as a fraction of it (negative: better than the reference)."""
    if objective is None or reference is None:
        return None
    worse = objective - reference if sense is Sense.MINIMIZE else reference - objective
    return worse / max(abs(reference), 1.0)
