"""CP-SAT plumbing shared by every problem: parameters, progress, interrupts, status mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ortools.sat.python import cp_model

from orkit.core.backend import Outcome, StageContext
from orkit.core.errors import BackendError
from orkit.core.result import Status, Stop

# Seconds kept back from the stage's budget for decoding and verification.
SAFETY_MARGIN = 0.05


class _ProgressCallback(cp_model.CpSolverSolutionCallback):
    def __init__(self, ctx: StageContext, scale: Callable[[float], Any]):
        super().__init__()
        self.ctx = ctx
        self.scale = scale

    def on_solution_callback(self) -> None:
        self.ctx.progress(self.scale(self.ObjectiveValue()), self.scale(self.BestObjectiveBound()))


def configure_run(solver: cp_model.CpSolver, ctx: StageContext, seconds: float) -> None:
    """The time, workers and seed of one solve, from the chain (no user parameters: also for
    helper solves inside another backend's stage)."""
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, seconds)
    p.num_workers = max(1, int(ctx.workers))
    p.random_seed = int(ctx.seed) % (2**31)
    p.log_search_progress = False
    # CP-SAT's own SIGINT handler crashes the process when the solve runs in a worker thread;
    # the chain catches Ctrl-C itself and stops the search through StopSearch.
    p.catch_sigint_signal = False


def solve_until_stopped(solver: cp_model.CpSolver, model: cp_model.CpModel, ctx: StageContext,
                        callback: cp_model.CpSolverSolutionCallback | None = None) -> int:
    """Solve, stopping the search when the chain is interrupted (Ctrl-C): the status code."""
    remove_hook = ctx.budget.on_interrupt(solver.StopSearch)
    try:
        return solver.Solve(model, callback)
    finally:
        remove_hook()


def configure(solver: cp_model.CpSolver, ctx: StageContext, time_limit: float) -> None:
    """Budget, workers and seed from the chain; raw parameters from the user override them."""
    configure_run(solver, ctx, time_limit - SAFETY_MARGIN)
    p = solver.parameters
    for key, value in ctx.params.items():
        if not hasattr(p, key):
            raise BackendError(f"unknown CP-SAT parameter {key!r}")
        current = getattr(p, key)
        try:
            if isinstance(value, (list, tuple)):  # repeated fields such as ignore_subsolvers
                del current[:]
                current.extend(value)
                continue
            if isinstance(current, bool):
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            elif isinstance(current, int):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            setattr(p, key, value)
        except (TypeError, ValueError) as exc:
            raise BackendError(f"CP-SAT parameter {key}={value!r}: {exc}") from None


def status_of(code: int, ctx: StageContext, restricted: bool) -> tuple[Status, Stop]:
    """Map every CP-SAT status explicitly. `restricted`: the model only admits solutions at least as
    good as the incumbent, so "infeasible" there means "nothing better", not "no solution"."""
    stopped = Stop.INTERRUPTED if ctx.budget.interrupted else Stop.TIME_LIMIT
    if code == cp_model.OPTIMAL:
        return Status.OPTIMAL, Stop.COMPLETED
    if code == cp_model.FEASIBLE:
        return Status.FEASIBLE, stopped
    if code == cp_model.INFEASIBLE:
        return (Status.OPTIMAL if restricted else Status.INFEASIBLE), Stop.COMPLETED
    if code == cp_model.UNKNOWN:
        return Status.UNKNOWN, stopped
    if code == cp_model.MODEL_INVALID:
        raise BackendError("CP-SAT rejected the model as invalid (a bug in the compiler)")
    raise BackendError(f"unmapped CP-SAT status {code}")


def export(model: cp_model.CpModel, path: str | Path) -> None:
    """Write a CP-SAT model to .pb (binary) or .pb.txt (text) for debugging."""
    if not model.ExportToFile(str(path)):
        raise BackendError(f"could not write the CP-SAT model to {path}")


@dataclass
class CompiledCPSAT:
    """A CP-SAT model plus what is needed to decode it into the problem's solution."""

    model: cp_model.CpModel
    vars: dict[str, Any]
    decode: Callable[[cp_model.CpSolver], Any]
    objective_scale: Callable[[float], Any] = lambda v: v
    restricted: bool = False  # bounded by the incumbent objective
    notes: list[str] = field(default_factory=list)

    def export(self, path: str | Path) -> None:
        export(self.model, path)

    def run(self, ctx: StageContext) -> Outcome:
        solver = cp_model.CpSolver()
        configure(solver, ctx, ctx.budget.remaining())
        callback = _ProgressCallback(ctx, self.objective_scale)
        code = solve_until_stopped(solver, self.model, ctx, callback)
        status, stop = status_of(code, ctx, self.restricted)
        solution = self.decode(solver) if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
        bound = None
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN) and self.model.HasObjective():
            bound = self.objective_scale(solver.BestObjectiveBound())
        reason = f"{solver.StatusName(code)} after {solver.WallTime():.2f}s, {solver.NumBranches()} branches"
        if self.notes:
            reason += "; " + "; ".join(self.notes)
        return Outcome(solution, bound, status, stop, reason)
