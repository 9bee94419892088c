"""The DNN memory-planning baseline the field uses, as a backend of its own for comparisons: the
listed (or fixed) operator order, best-fit placement, eviction by furthest next use (Belady)."""

from __future__ import annotations

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.dnn import DnnMemory
from orkit.solvers.heuristics.dnn import replay


def solve(model: DnnMemory, ctx: StageContext) -> Outcome:
    plan = replay(model, model.listed_order, "furthest")
    if plan is None:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED, "an operator's own tensors did not fit")
    return Outcome(plan, None, Status.FEASIBLE, Stop.COMPLETED, "listed order, best-fit, furthest next use")
