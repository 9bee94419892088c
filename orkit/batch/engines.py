"""Where a batch runs: this process (one job), a pool of local processes, or a Dask cluster. Each
engine yields one row per finished instance, in completion order; the solve itself is the same
`solve_instance` everywhere."""

from __future__ import annotations

import json
import multiprocessing
import signal
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from orkit.core.chain import solve
from orkit.core.errors import BackendError, OrkitError
from orkit.core.registry import load, split_fragment
from orkit.core.result import Stop
from orkit.core.versions import versions

COLUMNS = ["instance", "family", "name", "status", "stop", "objective", "score", "bound", "gap", "wall_time",
           "backend", "seed", "time_limit", "reference", "reference_gap", "reason", "versions"]
DISTRIBUTED_EXTRA = "pip install 'orkit[distributed]'"


@dataclass(frozen=True)
class RunSettings:
    """How every instance of a batch is solved (picklable: it travels to worker processes)."""

    time_limit: float = 10.0
    backend: str | tuple[str, ...] = "auto"
    seed: int = 0
    workers: int = 1
    backend_params: dict[str, dict[str, Any]] = field(default_factory=dict)


def solve_instance(job: tuple[str, str], settings: RunSettings) -> dict[str, Any]:
    """Load and solve one instance, given as (address for the row, absolute path to read); every
    failure becomes a row that says what went wrong."""
    address, location = job
    started = time.perf_counter()
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(instance=address, seed=settings.seed, time_limit=settings.time_limit,
               versions=json.dumps(versions(), sort_keys=True))
    try:
        model = load(location)
        row.update(family=model.problem, name=model.name)
        result = solve(model, backend=settings.backend, time_limit=settings.time_limit, seed=settings.seed,
                       workers=settings.workers, backend_params=settings.backend_params)
    except OrkitError as exc:
        return _failed(row, started, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a bug in orkit: keep the batch going, and keep the evidence in the row
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return _failed(row, started, f"internal error {type(exc).__name__}: {exc} "
                                     f"({Path(where.filename).name}:{where.lineno})")
    vector = isinstance(result.objective, tuple)
    row.update(
        status=result.status.value, stop=result.stop.value, backend=result.backend, gap=result.gap,
        objective=None if vector else result.objective, bound=None if vector else result.bound,
        score=json.dumps(list(result.objective)) if vector else None,
        wall_time=round(result.wall_time, 4), reason=result.reason or None,
    )
    return row


def _failed(row: dict[str, Any], started: float, reason: str) -> dict[str, Any]:
    row.update(status="UNKNOWN", stop=Stop.ERROR.value, reason=reason,
               wall_time=round(time.perf_counter() - started, 4))
    return row


def absolute(address: str) -> str:
    """Resolved where the batch starts: workers may run in another folder, or on another machine that
    mounts the same files (the fragment `#k` is kept)."""
    path, index = split_fragment(address)
    absolute = str(path.resolve())
    return absolute if index is None else f"{absolute}#{index}"


def interrupted(row: dict[str, Any]) -> bool:
    """A solve cut short by Ctrl-C is not a benchmark result: it is not kept, and a resume redoes it."""
    return row.get("stop") == Stop.INTERRUPTED.value


Jobs = list[tuple[str, str]]


def run_here(jobs: Jobs, settings: RunSettings) -> Iterator[dict[str, Any]]:
    for job in jobs:
        row = solve_instance(job, settings)
        if interrupted(row):  # the chain caught Ctrl-C and kept its best; the batch stops here
            raise KeyboardInterrupt
        yield row


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group: a pool worker between tasks must not die of it
    # (the chain installs its own handler while it solves); the parent ends the pool instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_pool(jobs: Jobs, settings: RunSettings, processes: int) -> Iterator[dict[str, Any]]:
    """Fresh processes (spawned: solver threads and fork do not mix), one instance at a time each."""
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(processes, initializer=_ignore_sigint)
    try:
        yield from pool.imap_unordered(partial(solve_instance, settings=settings), jobs, chunksize=1)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def run_dask(jobs: Jobs, settings: RunSettings, scheduler: str) -> Iterator[dict[str, Any]]:
    """The same solves as tasks on a Dask distributed cluster (the workers must see the instance files)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BackendError(f"the dask engine needs dask distributed: {DISTRIBUTED_EXTRA}") from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise BackendError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    futures = []
    try:
        futures = client.map(solve_instance, jobs, settings=settings, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.cancel(futures)
        client.close()
