"""Batch runs: solve many instances (files, folders, many-instance files) in parallel processes or on
a Dask cluster, one row per instance, resumable, with gaps to reference values.

    frame = orkit.bench(["instances/"], time_limit=5, jobs=2, out="results.csv")
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from orkit.batch.engines import COLUMNS, RunSettings, absolute, run_dask, run_here, run_pool
from orkit.batch.instances import select
from orkit.batch.output import ResultsFile
from orkit.batch.reference import Reference, read_reference, reference_gap
from orkit.core.errors import BackendError
from orkit.core.registry import model_class

__all__ = ["COLUMNS", "bench", "summarise"]
ENGINES = ("local", "dask")


def bench(paths: Iterable[str | Path] | str | Path, time_limit: float = 10.0, backend: str | tuple[str, ...] = "auto",
          jobs: int = 1, workers: int | None = None, seed: int = 0, out: str | Path | None = None,
          reference: str | Path | None = None, reference_column: str | None = None, engine: str = "local",
          scheduler: str | None = None, backend_params: dict[str, dict[str, Any]] | None = None,
          progress: bool | TextIO = False, notify: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Solve every instance under `paths` and return one row per instance (see `COLUMNS`).

    `jobs` processes solve at once with `workers` solver threads each (default: the cores shared out);
    `out` (.csv or .parquet) is written as rows finish, and instances already in it are skipped.
    A Ctrl-C keeps every finished row and returns them (`frame.attrs["interrupted"]` is True).
    """
    say = notify or (lambda message: warnings.warn(message, stacklevel=3))
    if isinstance(paths, str | Path):
        paths = [paths]
    if engine not in ENGINES:
        raise BackendError(f"unknown engine {engine!r}; valid: {', '.join(ENGINES)}")
    if engine == "dask" and not scheduler:
        raise BackendError("the dask engine needs the scheduler's address (scheduler='tcp://host:8786')")
    if jobs < 1:
        raise BackendError(f"jobs must be at least 1, not {jobs}")
    cores = os.cpu_count() or 1
    if workers is None:
        workers = max(1, cores // jobs) if engine == "local" else 1
    elif engine == "local" and workers * jobs > cores:
        say(f"{jobs} jobs x {workers} solver threads = {jobs * workers} > {cores} cores: solves compete for "
            "the processors and their times mean less")
    ref = read_reference(reference, reference_column) if reference is not None else None
    selection = select(paths)
    for address, why in selection.skipped:
        say(f"skipped {address}: {why}")
    results = ResultsFile(out) if out is not None else None
    done = results.done if results is not None else set()
    todo = [(a, absolute(a)) for a in selection.addresses if a not in done]
    settings = RunSettings(time_limit=time_limit, backend=backend, seed=seed, workers=workers,
                           backend_params=dict(backend_params or {}))
    if engine == "dask":
        rows = run_dask(todo, settings, scheduler)
    elif jobs == 1 or len(todo) <= 1:
        rows = run_here(todo, settings)
    else:
        rows = run_pool(todo, settings, min(jobs, len(todo)))
    bar = _Bar(len(todo), progress)
    fresh: list[dict[str, Any]] = []
    stopped = False
    try:
        for row in rows:
            _add_reference(row, ref)
            fresh.append(row)
            if results is not None:
                results.append(row)
            bar.update(row)
    except KeyboardInterrupt:
        stopped = True
        rows.close()
    finally:
        bar.close()
    frame = _frame(selection.addresses, results, fresh, ref)
    frame.attrs.update(interrupted=stopped, skipped=selection.skipped, todo=len(todo), finished=len(fresh))
    if stopped:
        say(f"interrupted: {len(fresh)} of {len(todo)} instances finished"
            + (f"; run the same command again to resume from {out}" if out is not None else ""))
    return frame


def _add_reference(row: dict[str, Any], ref: Reference | None) -> None:
    if ref is None:
        return
    value = ref.lookup(row["instance"], row["name"])
    row["reference"] = value
    if row["family"] and row["objective"] is not None:
        row["reference_gap"] = reference_gap(row["objective"], value, model_class(row["family"]).sense)


def _frame(addresses: list[str], results: ResultsFile | None, fresh: list[dict[str, Any]],
           ref: Reference | None) -> pd.DataFrame:
    """The rows of the selected instances, in selection order: resumed ones from the file, new ones."""
    pieces = [results.frame] if results is not None else [pd.DataFrame(fresh, columns=COLUMNS)]
    frame = pd.concat([p for p in pieces if not p.empty] or [pd.DataFrame(columns=COLUMNS)], ignore_index=True)
    frame = frame.drop_duplicates("instance", keep="last")
    order = {a: k for k, a in enumerate(addresses)}
    frame = frame[frame["instance"].isin(order)]
    frame = frame.sort_values("instance", key=lambda s: s.map(order)).reset_index(drop=True)
    if ref is not None and not frame.empty:  # rows resumed from an older run get today's reference too
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        for row in records:
            _add_reference(row, ref)
        frame = pd.DataFrame(records, columns=COLUMNS)
    return frame


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """One line per family: how many instances, solved, proven, infeasible, failed, times, reference gaps."""
    if frame.empty:
        return pd.DataFrame()
    data = frame.assign(family=frame["family"].fillna("(unread)").replace("", "(unread)"))
    solved = data["objective"].notna() | data["score"].notna()
    groups = data.assign(solved=solved).groupby("family", sort=True)
    table = pd.DataFrame({
        "instances": groups.size(),
        "solved": groups["solved"].sum(),
        "optimal": groups["status"].apply(lambda s: int((s == "OPTIMAL").sum())),
        "infeasible": groups["status"].apply(lambda s: int((s == "INFEASIBLE").sum())),
        "errors": groups["stop"].apply(lambda s: int((s == "ERROR").sum())),
        "median_s": groups["wall_time"].median().round(2),
        "max_s": groups["wall_time"].max().round(2),
    })
    gaps = pd.to_numeric(data["reference_gap"], errors="coerce")
    if gaps.notna().any():
        by = gaps.groupby(data["family"])
        table["with_reference"] = by.count()
        table["mean_gap_%"] = (100 * by.mean()).round(3)
        table["max_gap_%"] = (100 * by.max()).round(3)
        table["at_reference"] = by.apply(lambda g: int((g.abs() < 1e-9).sum()))
        table["better"] = by.apply(lambda g: int((g < -1e-9).sum()))
    return table.reset_index()


class _Bar:
    """A one-line progress bar on a terminal stream: done/total, elapsed, estimate, the last row."""

    def __init__(self, total: int, stream: bool | TextIO):
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.stream = (sys.stderr if stream is True else stream) or None

    def update(self, row: dict[str, Any]) -> None:
        self.done += 1
        if self.stream is None:
            return
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done)
        filled = int(20 * self.done / max(self.total, 1))
        value = row["score"] or row["objective"]
        last = f"{row['name'] or row['instance']} {row['status']}" + (f" {value}" if value is not None else "")
        self.stream.write(f"\r\033[K[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} "
                          f"{_clock(elapsed)} elapsed, ~{_clock(left)} left  {last}"[:160])
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.done:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"
