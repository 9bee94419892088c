"""MiniMalloc CSV: header `id,lower,upper,size[,alignment][,offset]`, one buffer per row, lifetimes
half-open [lower, upper). The capacity is the numeric suffix of the file name, as in the MiniMalloc
suite (`challenging_A.1048576.csv`); without one the peak address is minimised."""

from __future__ import annotations

import re
from pathlib import Path

from orkit.core.errors import InstanceError, ModelError
from orkit.formats.text import csv_table
from orkit.models.scratchpad import BufferPlacement
from orkit.models.validation import MAX_MAGNITUDE

REQUIRED = ("id", "lower", "upper", "size")
OPTIONAL = ("alignment", "offset", "gaps")


def looks_like_minimalloc(head: str) -> bool:
    first = head.splitlines()[0] if head else ""
    return set(REQUIRED) <= {c.strip().lower() for c in first.split(",")}


def capacity_from_name(path: Path) -> int | None:
    match = re.search(r"\.(\d+)\.csv$", path.name, re.IGNORECASE)
    return int(match.group(1)) if match else None


def read_minimalloc(path: str | Path, capacity: int | None = None) -> BufferPlacement:
    path = Path(path)
    header, body = csv_table(path, "id,lower,upper,size")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InstanceError(f"missing column(s) {missing}; expected id,lower,upper,size[,alignment]", path, 1)
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise InstanceError(f"unknown column(s) {unknown}", path, 1)
    if "gaps" in header:
        raise InstanceError("the 'gaps' column (buffers with holes) is not supported", path, 1)
    col = {name: header.index(name) for name in header}
    labels, values = [], {name: [] for name in ("lower", "upper", "size", "alignment")}
    for number, row in body:
        labels.append(row[col["id"]])
        for name in ("lower", "upper", "size", "alignment"):
            if name not in col:
                continue
            cell = row[col[name]]
            try:
                value = int(cell)
            except ValueError:
                raise InstanceError(f"column {name!r}: expected an integer, found {cell!r}", path, number) from None
            if not 0 <= value <= MAX_MAGNITUDE:
                raise InstanceError(f"column {name!r}: {value} is outside 0..{MAX_MAGNITUDE}", path, number)
            if name == "upper" and value <= values["lower"][-1]:
                raise InstanceError(f"buffer {labels[-1]}: upper {value} <= lower {values['lower'][-1]} "
                                    "(lifetimes are half-open [lower, upper))", path, number)
            if name in ("size", "alignment") and value == 0:
                raise InstanceError(f"buffer {labels[-1]}: {name} must be positive", path, number)
            values[name].append(value)
    try:
        return BufferPlacement(values["lower"], values["upper"], values["size"], values["alignment"] or None,
                               capacity if capacity is not None else capacity_from_name(path),
                               name=path.name.split(".")[0], labels=tuple(labels))
    except ModelError as exc:
        raise InstanceError(str(exc), path) from None
