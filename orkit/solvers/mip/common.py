"""A problem-agnostic sparse MIP, built as arrays, run on HiGHS (highspy) or CBC (PuLP).

Formulations (one module per problem) fill a `LinearBuilder`; this module owns the solver
plumbing: the size guard, warm starts, progress callbacks, interrupts and the explicit mapping of
every native status.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.errors import BackendError
from orkit.core.result import Status, Stop

# Above this many nonzeros a model is not built: the memory and the time are better spent elsewhere.
DEFAULT_MAX_NONZEROS = 5_000_000
SAFETY_MARGIN = 0.05
# HiGHS 1.14 proves wrong optima on rows with coefficients near 1e9 (pod memory in bytes): measured,
# it called disruption 16 optimal where 12 was feasible, and once "infeasible". Rows whose largest
# coefficient exceeds this are divided by a power of two (exact in binary) before HiGHS sees them.
ROW_COEFFICIENT_LIMIT = 2.0**20


class LinearBuilder:
    """Collects columns and rows as numpy chunks; `build()` gives one row-wise sparse matrix."""

    def __init__(self) -> None:
        self.cost: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.n_cols = 0
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        self.row_index: list[np.ndarray] = []
        self.row_value: list[np.ndarray] = []

    def add_columns(self, count: int, lower: float = 0.0, upper: float = 1.0, cost: Any = 0.0,
                    integer: bool = True) -> np.ndarray:
        first = self.n_cols
        self.n_cols += count
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), (count,)).copy())
        self.lower.append(np.full(count, lower, dtype=np.float64))
        self.upper.append(np.full(count, upper, dtype=np.float64))
        self.integer.append(np.full(count, 1 if integer else 0, dtype=np.int32))
        return np.arange(first, first + count)

    def add_row(self, index: Any, value: Any, lower: float = -math.inf, upper: float = math.inf) -> None:
        self.row_index.append(np.asarray(index, dtype=np.int32))
        self.row_value.append(np.broadcast_to(np.asarray(value, dtype=np.float64), (len(self.row_index[-1]),)))
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    @property
    def nonzeros(self) -> int:
        return int(sum(len(r) for r in self.row_index))

    def build(self, integral_objective: bool = False) -> LinearModel:
        lengths = np.array([len(r) for r in self.row_index], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        def cat(parts: list[np.ndarray], dtype) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        return LinearModel(
            cost=cat(self.cost, np.float64), col_lower=cat(self.lower, np.float64),
            col_upper=cat(self.upper, np.float64), integrality=cat(self.integer, np.int32),
            row_lower=np.array(self.row_lower, dtype=np.float64), row_upper=np.array(self.row_upper, dtype=np.float64),
            start=start, index=cat(self.row_index, np.int32), value=cat(self.row_value, np.float64),
            integral_objective=integral_objective,
        )


@dataclass
class LinearModel:
    """min cost·x s.t. row_lower <= A x <= row_upper, col bounds, integrality; A row-wise (CSR)."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    integral_objective: bool = False  # objective takes integer values on integer solutions

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)


def add_usage_rows(b: LinearBuilder, users, weights, capacity, es, ls, d, first) -> None:
    """Time-indexed usage rows: sum_i w_i * [i runs at t] <= capacity[t] for every period t, where
    x[i, s] (s in [es_i, ls_i]) is column first[i] + s - es_i; built as one sparse block."""
    horizon = len(capacity)
    rows, cols, vals = [], [], []
    for i, w in zip(users, weights):
        starts = np.arange(es[i], ls[i] + 1)
        offsets = np.arange(d[i])
        period = (starts[:, None] + offsets[None, :]).ravel()
        rows.append(period)
        cols.append(np.repeat(first[i] + starts - es[i], d[i]))
        vals.append(np.full(len(period), w))
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    keep = rows < horizon
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    order = np.argsort(rows, kind="stable")
    rows, cols, vals = rows[order], cols[order], vals[order]
    bounds = np.searchsorted(rows, np.arange(horizon + 1))
    total_weight = sum(weights)
    for t in range(horizon):
        lo, hi = bounds[t], bounds[t + 1]
        if hi > lo and total_weight > capacity[t]:
            b.add_row(cols[lo:hi], vals[lo:hi], upper=float(capacity[t]))


def size_guard(rows: int, cols: int, nonzeros: int, params: dict[str, Any]) -> str | None:
    """A reason to skip when the estimated model is too large, else None."""
    limit = int(params.pop("max_nonzeros", DEFAULT_MAX_NONZEROS))
    if nonzeros > limit:
        return (f"skipped: the model would have {nonzeros:,} nonzeros ({rows:,} rows x {cols:,} columns), "
                f"above the limit of {limit:,} (backend_params mip.max_nonzeros)")
    return None


def _highs():
    import highspy

    return highspy


def row_scales(lp: LinearModel) -> np.ndarray:
    """Per row, the power of two that brings its largest |coefficient| to ROW_COEFFICIENT_LIMIT or
    below (1 for rows already there). With integer data a row then stays exact: HiGHS's 1e-6
    tolerance on the scaled row is at most 2^-20 of a unit per unit of coefficient size."""
    largest = np.ones(lp.n_rows)
    rows = np.repeat(np.arange(lp.n_rows), np.diff(lp.start))
    np.maximum.at(largest, rows, np.abs(lp.value))
    exponent = np.ceil(np.log2(largest / ROW_COEFFICIENT_LIMIT))
    return np.exp2(-np.maximum(exponent, 0.0))


def to_highs(lp: LinearModel):
    """The model loaded into a new highspy.Highs, rows with huge coefficients scaled (`row_scales`):
    the same feasible set and optimum, which HiGHS then finds reliably."""
    highspy = _highs()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    model = highspy.HighsLp()
    model.num_col_ = lp.n_cols
    model.num_row_ = lp.n_rows
    model.col_cost_ = lp.cost
    model.col_lower_ = lp.col_lower
    model.col_upper_ = lp.col_upper
    scale = row_scales(lp)
    model.row_lower_ = lp.row_lower * scale
    model.row_upper_ = lp.row_upper * scale
    model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    model.a_matrix_.start_ = lp.start
    model.a_matrix_.index_ = lp.index
    model.a_matrix_.value_ = lp.value * np.repeat(scale, np.diff(lp.start))
    model.a_matrix_.num_col_ = lp.n_cols
    model.a_matrix_.num_row_ = lp.n_rows
    model.integrality_ = [highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
                          for v in lp.integrality]
    status = h.passModel(model)
    if status == highspy.HighsStatus.kError:
        raise BackendError("HiGHS rejected the model")
    return h


def _map_highs(h, restricted: bool, ctx: StageContext) -> tuple[Status, Stop, bool]:
    """Every HiGHS model status mapped explicitly; solution presence from primal_solution_status."""
    highspy = _highs()
    S = highspy.HighsModelStatus
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    code = h.getModelStatus()
    stopped = Stop.INTERRUPTED if ctx.budget.interrupted else Stop.TIME_LIMIT
    found = Status.FEASIBLE if has_solution else Status.UNKNOWN
    if code == S.kOptimal:
        return Status.OPTIMAL, Stop.COMPLETED, has_solution
    if code == S.kInfeasible:
        return (Status.OPTIMAL if restricted else Status.INFEASIBLE), Stop.COMPLETED, False
    if code in (S.kTimeLimit,):
        return found, Stop.TIME_LIMIT, has_solution
    if code == S.kInterrupt:
        return found, stopped, has_solution
    if code in (S.kIterationLimit, S.kSolutionLimit, S.kObjectiveBound, S.kObjectiveTarget):
        return found, Stop.COMPLETED, has_solution
    if code in (S.kUnbounded, S.kUnboundedOrInfeasible):
        return Status.UNKNOWN, Stop.COMPLETED, False
    if code == S.kMemoryLimit:
        return found, Stop.ERROR, has_solution
    if code == S.kUnknown:
        return found, Stop.COMPLETED, has_solution
    if code in (S.kNotset, S.kLoadError, S.kModelError, S.kPresolveError, S.kSolveError, S.kPostsolveError,
                S.kModelEmpty):
        raise BackendError(f"HiGHS failed: {h.modelStatusToString(code)}")
    raise BackendError(f"unmapped HiGHS model status {code}")


@contextmanager
def stop_on_budget(h, ctx: StageContext, improving: Callable | None = None):
    """Subscribe HiGHS callbacks that stop it when the budget ends or the user interrupts (HiGHS
    checks its own time limit too coarsely inside LPs), and optionally report improving solutions."""

    def interrupt(event) -> None:
        if ctx.budget.should_stop():
            event.interrupt()

    hooks = [(h.cbMipInterrupt, interrupt), (h.cbSimplexInterrupt, interrupt), (h.cbIpmInterrupt, interrupt)]
    if improving is not None:
        hooks.append((h.cbMipImprovingSolution, improving))
    for event, hook in hooks:
        event.subscribe(hook)
    try:
        yield
    finally:
        for event, hook in hooks:
            event.unsubscribe(hook)


@dataclass
class CompiledMIP:
    """A linear model plus what is needed to warm-start it and decode its solution."""

    lp: LinearModel
    vars: dict[str, Any]
    decode: Callable[[np.ndarray], Any]
    warm_start: np.ndarray | None = None
    restricted: bool = False
    notes: list[str] = field(default_factory=list)
    _highs: Any = None

    @property
    def model(self):
        """The native model: a highspy.Highs with the problem loaded (built on first access)."""
        if self._highs is None:
            self._highs = to_highs(self.lp)
        return self._highs

    def export(self, path: str | Path) -> None:
        """Write the model HiGHS solves (.lp or .mps): rows with coefficients above 2^20 appear
        divided by their power of two (`row_scales`), printed by HiGHS to 15 significant digits."""
        path = str(path)
        if not path.endswith((".lp", ".mps")):
            raise BackendError("MIP export writes .lp or .mps files")
        status = self.model.writeModel(path)
        if status == _highs().HighsStatus.kError:
            raise BackendError(f"HiGHS could not write {path}")

    def run(self, ctx: StageContext) -> Outcome:
        solver = str(ctx.params.pop("solver", "highs")).lower()
        if solver == "highs":
            return self._run_highs(ctx)
        if solver == "cbc":
            return self._run_cbc(ctx)
        raise BackendError(f"unknown MIP solver {solver!r}; valid: highs, cbc")

    def _bound(self, value: float | None) -> float | None:
        if value is None or not math.isfinite(value):
            return None
        return float(math.ceil(value - 1e-6)) if self.lp.integral_objective else float(value)

    def _run_highs(self, ctx: StageContext) -> Outcome:
        h = self.model
        h.setOptionValue("time_limit", max(0.01, ctx.budget.remaining() - SAFETY_MARGIN))
        h.setOptionValue("random_seed", int(ctx.seed) % (2**31))
        h.setOptionValue("mip_rel_gap", 0.0)
        if self.lp.integral_objective:
            h.setOptionValue("mip_abs_gap", 1.0 - 1e-6)
        for key, value in ctx.params.items():
            if h.setOptionValue(key, value) == _highs().HighsStatus.kError:
                raise BackendError(f"HiGHS rejected option {key}={value!r}")
        if self.warm_start is not None:
            h.setSolution(self._solution_object())

        def improving(event) -> None:
            out = event.data_out
            ctx.progress(out.objective_function_value, self._bound(out.mip_dual_bound))

        with stop_on_budget(h, ctx, improving):
            h.run()
        status, stop, has_solution = _map_highs(h, self.restricted, ctx)
        info = h.getInfo()
        solution = self.decode(np.asarray(h.getSolution().col_value)) if has_solution else None
        bound = self._bound(info.mip_dual_bound) if status is not Status.INFEASIBLE else None
        reason = f"HiGHS {h.modelStatusToString(h.getModelStatus())}, {info.mip_node_count} nodes"
        return Outcome(solution, bound, status, stop, "; ".join([reason, *self.notes]))

    def _solution_object(self):
        solution = _highs().HighsSolution()
        solution.col_value = list(self.warm_start)
        solution.value_valid = True
        return solution

    def _run_cbc(self, ctx: StageContext) -> Outcome:
        import pulp

        lp = self.lp
        problem = pulp.LpProblem("orkit", pulp.LpMinimize)
        columns = [
            problem.add_variable(f"c{k}", lowBound=lp.col_lower[k] if math.isfinite(lp.col_lower[k]) else None,
                                 upBound=lp.col_upper[k] if math.isfinite(lp.col_upper[k]) else None,
                                 cat=pulp.LpInteger if lp.integrality[k] else pulp.LpContinuous)
            for k in range(lp.n_cols)
        ]
        problem += pulp.lpSum(c * columns[k] for k, c in enumerate(lp.cost) if c)
        for r in range(lp.n_rows):
            lo, hi = lp.start[r], lp.start[r + 1]
            expr = pulp.LpAffineExpression(zip((columns[k] for k in lp.index[lo:hi]), lp.value[lo:hi]))
            if lp.row_lower[r] == lp.row_upper[r]:
                problem += expr == lp.row_lower[r]
            else:
                if math.isfinite(lp.row_lower[r]):
                    problem += expr >= lp.row_lower[r]
                if math.isfinite(lp.row_upper[r]):
                    problem += expr <= lp.row_upper[r]
        if self.warm_start is not None:
            for column, value in zip(columns, self.warm_start):
                column.setInitialValue(value)
        limit = max(1, int(ctx.budget.remaining() - SAFETY_MARGIN))
        with warnings.catch_warnings():  # PuLP 3 announces PULP_CBC_CMD's removal in 4 (pinned <4)
            warnings.simplefilter("ignore", DeprecationWarning)
            command = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, threads=max(1, ctx.workers),
                                        warmStart=self.warm_start is not None, options=[f"randomSeed {ctx.seed}"])
        problem.solve(command)
        code = problem.sol_status
        if code == pulp.LpSolutionOptimal:
            status, stop = Status.OPTIMAL, Stop.COMPLETED
        elif code == pulp.LpSolutionIntegerFeasible:
            status, stop = Status.FEASIBLE, Stop.TIME_LIMIT
        elif code == pulp.LpSolutionInfeasible:
            status, stop = (Status.OPTIMAL if self.restricted else Status.INFEASIBLE), Stop.COMPLETED
        elif code == pulp.LpSolutionNoSolutionFound:
            status, stop = Status.UNKNOWN, Stop.TIME_LIMIT
        elif code == pulp.LpSolutionUnbounded:
            status, stop = Status.UNKNOWN, Stop.COMPLETED
        else:
            raise BackendError(f"unmapped CBC solution status {code}")
        solution = None
        if status in (Status.OPTIMAL, Status.FEASIBLE):
            values = np.array([c.value() if c.value() is not None else 0.0 for c in columns])
            solution = self.decode(values)
        reason = f"CBC {pulp.LpSolution[code]}"
        return Outcome(solution, None, status, stop, "; ".join([reason, *self.notes]))
