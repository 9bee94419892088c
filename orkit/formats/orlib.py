"""Single-machine tardiness files: OR-Library `wtN.txt` (weighted), the unweighted `ttN.txt`
layout, and CSV with one job per row.

OR-Library files are a stream of integers holding many instances of n jobs each: weighted files
give n processing times, n weights, n due dates per instance; unweighted files n processing times
and n due dates. n is not in the file; it comes from the file name (`wt40.txt`, `tt20u.txt`) as in
the published sets. One instance is addressed as `wt40.txt#7` (1-based, OR-Library order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orkit.core.errors import InstanceError, ModelError
from orkit.formats.text import Tokens, csv_table, read_text
from orkit.models.tardiness import MAX_VALUE, SingleMachine

NAME_PATTERN = re.compile(r"^(wt|tt)(\d+)(\D.*)?\.txt$", re.IGNORECASE)
MAX_JOBS = 100_000


def layout_from_name(path: Path) -> tuple[int, bool]:
    """(jobs per instance, weighted) as encoded in an OR-Library style file name."""
    match = NAME_PATTERN.match(path.name)
    if not match:
        raise InstanceError("cannot tell the number of jobs per instance: name the file wtN.txt (weighted) or "
                            "ttN.txt (unweighted), N = jobs per instance, as in the OR-Library sets", path)
    n = int(match.group(2))
    if not 1 <= n <= MAX_JOBS:
        raise InstanceError(f"{n} jobs per instance is outside 1..{MAX_JOBS}", path)
    return n, match.group(1).lower() == "wt"


@dataclass
class _OrlibFile:
    """An OR-Library file tokenised once: every instance is read from the same token stream."""

    path: Path
    n: int
    weighted: bool
    tokens: Tokens
    count: int

    @property
    def per_instance(self) -> int:
        return (3 if self.weighted else 2) * self.n


def _open(path: str | Path) -> _OrlibFile:
    """Tokenise the file and check that it holds whole instances only."""
    path = Path(path)
    n, weighted = layout_from_name(path)
    tokens = Tokens(read_text(path), path)
    per = (3 if weighted else 2) * n
    total = len(tokens.items)
    if total == 0:
        raise InstanceError("empty file: no instances", path)
    if total % per:
        complete = total // per
        line = tokens.items[complete * per][1]
        raise InstanceError(f"file ends inside instance {complete + 1}: {total % per} of its {per} numbers "
                            f"(n = {n}) are present", path, line)
    return _OrlibFile(path, n, weighted, tokens, total // per)


def _instance(file: _OrlibFile, index: int) -> SingleMachine:
    tokens, n, path = file.tokens, file.n, file.path
    tokens.pos = (index - 1) * file.per_instance
    p = []
    for j in range(n):
        line = tokens.line()
        p.append(tokens.int("processing time", maximum=MAX_VALUE))
        if p[-1] <= 0:
            raise InstanceError(f"instance #{index}, job {j + 1}: processing time must be positive, found {p[-1]}",
                                path, line)
    weights = tokens.ints(n, "weight", minimum=0, maximum=MAX_VALUE) if file.weighted else None
    due = tokens.ints(n, "due date", minimum=-MAX_VALUE, maximum=MAX_VALUE)
    return SingleMachine(p, due, weights, name=f"{path.stem}#{index}")


def instance_count(path: str | Path) -> int:
    """How many instances an OR-Library file holds (every instance complete, else InstanceError)."""
    return _open(path).count


def read_orlib(path: str | Path, index: int | None = None) -> SingleMachine:
    """Instance `index` (1-based) of an OR-Library file; a file of one instance needs no index."""
    file = _open(path)
    name, count = file.path.name, file.count
    if index is None:
        if count > 1:
            raise InstanceError(f"the file holds {count} instances: address one as {name}#1 .. {name}#{count}",
                                file.path)
        index = 1
    if not 1 <= index <= count:
        raise InstanceError(f"instance #{index} does not exist; the file holds {count} (#1 .. #{count})", file.path)
    return _instance(file, index)


def read_orlib_all(path: str | Path) -> list[SingleMachine]:
    """Every instance of an OR-Library file, in file order (the file is read once)."""
    file = _open(path)
    return [_instance(file, k) for k in range(1, file.count + 1)]


# CSV: a header naming the columns; short or long names both accepted.
_COLUMNS = {
    "job": "job", "id": "job", "name": "job",
    "p": "p", "processing_time": "p", "duration": "p",
    "d": "d", "due": "d", "due_date": "d",
    "w": "w", "weight": "w",
    "r": "r", "release": "r", "release_date": "r",
}


def looks_like_csv(head: str) -> bool:
    first = head.splitlines()[0] if head else ""
    names = {_COLUMNS.get(c.strip().lower()) for c in first.split(",")}
    return {"p", "d"} <= names


def read_csv(path: str | Path) -> SingleMachine:
    """`job,p,d[,w][,r]` with a header row; every bad cell is reported with its line."""
    path = Path(path)
    header, body = csv_table(path, "job,p,d[,w][,r]")
    roles = [_COLUMNS.get(c) for c in header]
    unknown = [c for c, r in zip(header, roles) if r is None]
    if unknown:
        raise InstanceError(f"unknown column(s) {unknown}; expected job,p,d[,w][,r]", path, 1)
    for required in ("p", "d"):
        if required not in roles:
            raise InstanceError(f"missing column {required!r} (header must be job,p,d[,w][,r])", path, 1)
    if len(set(roles)) != len(roles):
        raise InstanceError("a column appears twice in the header", path, 1)
    columns: dict[str, list] = {role: [] for role in roles}
    for number, row in body:
        for role, cell in zip(roles, row):
            if role == "job":
                columns[role].append(cell)
                continue
            try:
                value = int(cell)
            except ValueError:
                raise InstanceError(f"column {role!r}: expected an integer, found {cell!r}", path, number) from None
            if role == "p" and value <= 0:
                raise InstanceError(f"processing time must be positive, found {value}", path, number)
            if role in ("w", "r") and value < 0:
                raise InstanceError(f"column {role!r} must be >= 0, found {value}", path, number)
            if abs(value) > MAX_VALUE:
                raise InstanceError(f"column {role!r}: {value} is beyond the supported {MAX_VALUE}", path, number)
            columns[role].append(value)
    try:
        return SingleMachine(columns["p"], columns["d"], columns.get("w"), columns.get("r"),
                             name=path.stem, labels=tuple(columns.get("job", ())))
    except ModelError as exc:
        raise InstanceError(str(exc), path) from None


def write_csv(model: SingleMachine, path: str | Path) -> None:
    header = "job,p,d,w" + (",r" if model.release_dates is not None else "")
    out = [header]
    for j in range(model.n):
        row = [model.labels[j], model.processing_times[j], model.due_dates[j], model.weights[j]]
        if model.release_dates is not None:
            row.append(model.release_dates[j])
        out.append(",".join(str(x) for x in row))
    Path(path).write_text("\n".join(out) + "\n")
