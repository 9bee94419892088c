"""The solve pipeline: one budget, a heuristic incumbent, hinted exact stages, verified results.

Every solution a stage returns goes through the model's own `evaluate()` before it counts; a
stage that raises, returns a wrong solution or is unavailable is recorded with its reason and the
chain goes on, so the caller always gets the best verified solution and an honest status.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from orkit.core.backend import Outcome, StageContext
from orkit.core.budget import Budget
from orkit.core.errors import BackendError, ModelError
from orkit.core.model import Model
from orkit.core.registry import PROBLEMS, load_backend
from orkit.core.result import Objective, Progress, Result, Sense, StageRecord, Status, Stop
from orkit.core.versions import versions

StageRunner = Callable[[Model, StageContext], Outcome]


def resolve_chain(problem: str, backend: str | Sequence[str]) -> tuple[str, ...]:
    """Turn 'auto', a backend name, or a tuple of names into the stages to run."""
    entry = PROBLEMS[problem]
    names = entry.default_chain if backend == "auto" else (backend,) if isinstance(backend, str) else tuple(backend)
    valid = ["auto", *entry.backends]
    for name in names:
        if name not in entry.backends:
            raise BackendError(f"unknown backend {name!r} for {problem}; valid: {', '.join(valid)}")
    if not names:
        raise BackendError(f"no backend given; valid: {', '.join(valid)}")
    return names


@dataclass
class _State:
    model: Model
    incumbent: Any = None
    objective: Objective | None = None
    found_by: str | None = None
    bound: Objective | None = None
    proven_optimal: bool = False
    proven_infeasible: bool = False
    reason: str = ""
    hit_time_limit: bool = False
    progress: list[Progress] = field(default_factory=list)

    def offer_bound(self, bound: Objective | None) -> bool:
        """Take a bound on the optimum; False (and ignored) when it contradicts the verified incumbent."""
        if bound is None:
            return True
        if isinstance(bound, tuple) or isinstance(self.objective, tuple):
            return self._offer_vector_bound(bound)
        minimize = self.model.sense is Sense.MINIMIZE
        if self.objective is not None:
            noise = 1e-6 * max(1.0, abs(self.objective))
            if (bound - self.objective if minimize else self.objective - bound) > noise:
                return False  # a bound beyond a verified solution is wrong, not "optimal"
        if self.bound is None or (bound > self.bound if minimize else bound < self.bound):
            self.bound = float(bound)
        if self.objective is not None:
            self.bound = min(self.bound, self.objective) if minimize else max(self.bound, self.objective)
            if abs(self.bound - self.objective) <= 1e-6 * max(1.0, abs(self.objective)):
                self.proven_optimal = True
        return True

    def _offer_vector_bound(self, bound: Objective) -> bool:
        """Lexicographic score vectors compare exactly: no tolerance, no gap."""
        if not isinstance(bound, tuple):
            return True  # a scalar says nothing about a vector objective
        better = self.model.is_better
        if self.objective is not None and better(self.objective, bound):
            return False
        if self.bound is None or better(self.bound, bound):
            self.bound = bound
        if self.objective is not None and self.bound == self.objective:
            self.proven_optimal = True
        return True


@contextmanager
def _interruptible(budget: Budget):
    """First Ctrl-C asks the running stage to stop and keep its best; a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if budget.interrupted:
            raise KeyboardInterrupt
        budget.interrupt()

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not allowed here (embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_in_thread(runner: StageRunner, model: Model, ctx: StageContext) -> Outcome:
    """Run a stage in a worker thread so the main thread stays free to receive Ctrl-C."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = runner(model, ctx)
        except BaseException as exc:  # reported to the chain, never lost
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"orkit-{ctx.backend}", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.05)
    if "error" in box:
        raise box["error"]
    return box["value"]


def _min_seconds(problem: str, name: str) -> float:
    """The least time a backend can use well (its MIN_SECONDS); 0 when it cannot even be imported."""
    try:
        return float(getattr(load_backend(problem, name), "MIN_SECONDS", 0.0))
    except BackendError:
        return 0.0


def run_stages(
    model: Model,
    stages: Sequence[tuple[str, StageRunner | None]],
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int | None = None,
    warm_start: Any = None,
    log: Callable[[Progress], None] | None = None,
    backend_params: dict[str, dict[str, Any]] | None = None,
    budget: Budget | None = None,
) -> Result:
    """Run named stages in order (a None runner is imported from the registry on demand)."""
    budget = budget or Budget(time_limit)
    workers = workers or os.cpu_count() or 1
    backend_params = backend_params or {}
    state = _State(model)
    records: list[StageRecord] = []

    def report(event: Progress) -> None:
        state.progress.append(event)
        if log is not None:
            try:
                log(event)
            except Exception:  # a broken log callback must not kill the solve
                pass

    reason = model.infeasibility()
    if reason is not None:
        state.proven_infeasible = True
        state.reason = reason
        records.append(StageRecord("presolve", Status.INFEASIBLE, Stop.COMPLETED, reason=reason,
                                   wall_time=budget.elapsed()))
    else:
        state.offer_bound(model.bound())
        if warm_start is not None:
            _accept_warm_start(model, warm_start, state, records, report, budget)

    with _interruptible(budget):
        for index, (name, runner) in enumerate(stages):
            if state.proven_optimal or state.proven_infeasible:
                why = "optimality already proven" if state.proven_optimal else "infeasibility already proven"
                records.append(StageRecord(name, Status.UNKNOWN, None, reason=f"skipped: {why}"))
                continue
            if budget.interrupted:
                records.append(StageRecord(name, Status.UNKNOWN, Stop.INTERRUPTED, reason="skipped: interrupted"))
                continue
            needs = max(0.01, _min_seconds(model.problem, name) if runner is None else 0.0)
            if budget.remaining() < needs:
                state.hit_time_limit = True
                why = "no time left" if needs <= 0.01 else f"less than the {needs:g}s it needs to build and search"
                records.append(StageRecord(name, Status.UNKNOWN, Stop.TIME_LIMIT, reason=f"skipped: {why}"))
                continue
            following = tuple(later for later, _ in stages[index + 1:])
            records.append(_run_one(model, name, runner, following, state, budget, seed,
                                    workers, backend_params.get(name, {}), report))

    return _finish(model, state, records, budget, seed)


def _accept_warm_start(model, warm_start, state, records, report, budget) -> None:
    if isinstance(warm_start, dict):
        warm_start = model.solution_from_dict(warm_start)
    evaluation = model.evaluate(warm_start)
    if evaluation.feasible:
        state.incumbent, state.objective, state.found_by = warm_start, evaluation.objective, "warm_start"
        state.offer_bound(state.bound)
        report(Progress(budget.elapsed(), evaluation.objective, state.bound, "warm_start"))
        records.append(StageRecord("warm_start", Status.FEASIBLE, Stop.COMPLETED, evaluation.objective,
                                   reason="given by the caller, verified"))
    else:
        records.append(StageRecord("warm_start", Status.UNKNOWN, Stop.COMPLETED,
                                   reason="rejected: " + "; ".join(evaluation.violations[:3])))


def _run_one(model, name, runner, following, state, budget, seed, workers, params, report) -> StageRecord:
    started = time.perf_counter()
    try:
        runner = runner or load_backend(model.problem, name).solve
    except BackendError as exc:
        return StageRecord(name, Status.UNKNOWN, None, reason=f"skipped: {exc}")
    ctx = StageContext(
        budget=budget, incumbent=state.incumbent, incumbent_objective=state.objective, seed=seed,
        workers=workers, params=dict(params), report=report, backend=name, following=following,
    )
    try:
        outcome = _run_in_thread(runner, model, ctx)
    except KeyboardInterrupt:
        raise
    except MemoryError:
        return StageRecord(name, Status.UNKNOWN, Stop.ERROR, wall_time=time.perf_counter() - started,
                           reason="failed: out of memory")
    except Exception as exc:  # recorded, and the chain goes on
        kind = type(exc).__name__
        return StageRecord(name, Status.UNKNOWN, Stop.ERROR, wall_time=time.perf_counter() - started,
                           reason=f"failed: {kind}: {exc}")
    wall = time.perf_counter() - started
    if not isinstance(outcome, Outcome):
        return StageRecord(name, Status.UNKNOWN, Stop.ERROR, wall_time=wall,
                           reason=f"failed: backend returned {type(outcome).__name__}, not an Outcome")
    if outcome.stop is Stop.TIME_LIMIT:
        state.hit_time_limit = True

    objective = None
    if outcome.solution is not None:
        try:
            evaluation = model.evaluate(outcome.solution)
        except (ModelError, ValueError, TypeError, IndexError) as exc:
            evaluation = None
            violations = [f"evaluate() could not read it: {exc}"]
        else:
            violations = evaluation.violations
        if evaluation is None or not evaluation.feasible:
            return StageRecord(name, Status.UNKNOWN, Stop.ERROR, wall_time=wall,
                               reason="rejected: its solution failed evaluate(): " + "; ".join(violations[:3]))
        objective = evaluation.objective
        if model.is_better(objective, state.objective):
            state.incumbent, state.objective, state.found_by = outcome.solution, objective, name
            state.offer_bound(state.bound)
            report(Progress(budget.elapsed(), objective, state.bound, name))

    status = outcome.status
    note = outcome.reason
    if status is Status.INFEASIBLE:
        if state.incumbent is not None:
            status = Status.UNKNOWN
            note = (note + "; " if note else "") + "claimed infeasible although a verified solution exists: ignored"
        else:
            state.proven_infeasible = True
            state.reason = outcome.reason or f"proved infeasible by {name}"
    elif status is Status.OPTIMAL:
        claimed = objective if objective is not None else state.objective  # None: "the incumbent is optimal"
        if claimed is None or not state.offer_bound(claimed):
            status = Status.UNKNOWN
            note = (note + "; " if note else "") + (
                "claimed optimal without any solution: ignored" if claimed is None
                else f"claimed {claimed} optimal although a verified {state.objective} exists: ignored")
    if not state.offer_bound(outcome.bound):
        note = (note + "; " if note else "") + f"bound {outcome.bound} contradicts the verified incumbent: ignored"
    if status is Status.OPTIMAL and objective is None and outcome.solution is None:
        objective = state.objective
    return StageRecord(name, status, outcome.stop, objective, outcome.bound, wall, note)


def _finish(model: Model, state: _State, records: list[StageRecord], budget: Budget, seed: int) -> Result:
    if state.incumbent is not None:
        status = Status.OPTIMAL if state.proven_optimal else Status.FEASIBLE
    else:
        status = Status.INFEASIBLE if state.proven_infeasible else Status.UNKNOWN
    if status in (Status.OPTIMAL, Status.INFEASIBLE):
        stop = Stop.COMPLETED
    elif budget.interrupted:
        stop = Stop.INTERRUPTED
    elif state.hit_time_limit or budget.expired():
        stop = Stop.TIME_LIMIT
    elif records and all(r.stop in (Stop.ERROR, None) for r in records) and state.incumbent is None:
        stop = Stop.ERROR
    else:
        stop = Stop.COMPLETED
    return Result(
        model_name=model.name,
        problem=model.problem,
        status=status,
        stop=stop,
        objective=state.objective,
        bound=state.bound if not state.proven_infeasible else None,
        solution=state.incumbent,
        backend=state.found_by,
        stages=records,
        progress=state.progress,
        wall_time=budget.elapsed(),
        seed=seed,
        versions=versions(),
        reason=state.reason,
        model=model,
    )


def solve(
    model: Model,
    backend: str | Sequence[str] = "auto",
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int | None = None,
    warm_start: Any = None,
    log: Callable[[Progress], None] | None = None,
    backend_params: dict[str, dict[str, Any]] | None = None,
) -> Result:
    """Solve `model` within one wall-clock budget and return the best verified result.

    backend: "auto" (the problem's default chain), one backend name, or a tuple of names.
    backend_params: raw parameters per backend, e.g. {"cpsat": {"linearization_level": 2}}.
    """
    budget = Budget(time_limit)
    if not isinstance(model, Model):
        raise ModelError(f"expected an orkit model, got {type(model).__name__}")
    names = resolve_chain(model.problem, backend)
    return run_stages(model, [(name, None) for name in names], seed=seed, workers=workers,
                      warm_start=warm_start, log=log, backend_params=backend_params, budget=budget)


class CompiledModel:
    """A model compiled for one backend: edit `model` natively, then `solve()` to get a verified Result."""

    def __init__(self, problem_model: Model, backend: str, compiled: Any):
        self.problem_model = problem_model
        self.backend = backend
        self.compiled = compiled
        self._as_built = _footprint(compiled.model)

    @property
    def model(self) -> Any:
        """The native model (cp_model.CpModel, highspy.Highs, pulp.LpProblem ...)."""
        return self.compiled.model

    @property
    def vars(self) -> dict[str, Any]:
        """Variable maps from problem entities to native variables."""
        return self.compiled.vars

    def export(self, path: str) -> None:
        self.compiled.export(path)

    def solve(self, time_limit: float = 10.0, seed: int = 0, workers: int | None = None,
              log: Callable[[Progress], None] | None = None, params: dict[str, Any] | None = None) -> Result:
        stage = (self.backend, lambda model, ctx: self._run(ctx))
        return run_stages(self.problem_model, [stage], time_limit=time_limit, seed=seed, workers=workers,
                          log=log, backend_params={self.backend: params or {}})


    def _run(self, ctx: StageContext) -> Outcome:
        outcome = self.compiled.run(ctx)
        if outcome.status is Status.INFEASIBLE and _footprint(self.compiled.model) != self._as_built:
            # The compiled domains (a horizon, say) are only proven wide enough for the model as built:
            # with side constraints added, "no solution" may just mean "none inside those domains".
            outcome.status = Status.UNKNOWN
            outcome.reason += ("; infeasible within the compiled variable domains, which side constraints may "
                               "need to widen (e.g. a longer horizon), so not a proof")
        return outcome


def _footprint(native: Any) -> tuple[int, ...]:
    """Variable and constraint counts of a native model: tells whether a user has added to it."""
    if hasattr(native, "Proto"):  # CP-SAT
        proto = native.Proto()
        return len(proto.variables), len(proto.constraints)
    if hasattr(native, "getNumRow"):  # highspy
        return native.getNumCol(), native.getNumRow()
    if hasattr(native, "constraints"):  # PuLP
        return len(native.variables()), len(native.constraints)
    return ()


def compile(model: Model, backend: str = "cpsat", params: dict[str, Any] | None = None,
            warm_start: Any = None) -> CompiledModel:
    """Build the native model of one backend without solving it (for side constraints or export)."""
    module = load_backend(model.problem, backend)
    if not hasattr(module, "compile"):
        raise BackendError(f"backend {backend!r} builds no native model to compile")
    objective = model.evaluate(warm_start).objective if warm_start is not None else None
    ctx = StageContext(budget=Budget(3600.0), incumbent=warm_start, incumbent_objective=objective,
                       params=dict(params or {}), backend=backend)
    compiled = module.compile(model, ctx)
    if isinstance(compiled, Outcome):  # the compiler already decided (too large, or provably infeasible)
        raise BackendError(f"no {backend} model was built: {compiled.reason}")
    return CompiledModel(model, backend, compiled)
