"""Pod-packing heuristic stage: the current state made valid, then the default scheduler's answer.

The default scheduler's plan is the floor every later stage must beat, so it is the incumbent the
CP-SAT and MIP stages start from.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status
from orkit.models.pods import Cluster
from orkit.solvers.heuristics.kube_default import default_schedule

MIN_SECONDS = 0.0


def valid_current(model: Cluster) -> np.ndarray:
    """The current assignment with pods evicted (lowest priority first) from any overloaded node."""
    assignment = model.current_plan()
    over = model.load(assignment) > model.capacity
    for node in np.flatnonzero(over.any(axis=1)):
        on_node = np.flatnonzero((assignment == node) & ~model.protected)
        for pod in on_node[np.lexsort((-model.demand[on_node].sum(axis=1), model.priority[on_node]))]:
            if not (model.load(assignment)[node] > model.capacity[node]).any():
                break
            assignment[pod] = -1
    return assignment


def solve(model: Cluster, ctx: StageContext) -> Outcome:
    start = valid_current(model)
    candidates = [start, default_schedule(model, start)]
    best = max(candidates, key=model.score)
    proven = model.score(best) == model.bound()
    reason = "default scheduler from the current state" + (" (every pod placed, nobody disturbed)" if proven else "")
    return Outcome(model.plan(best), model.bound(), Status.OPTIMAL if proven else Status.FEASIBLE,
                   ctx.budget.stop_cause(), reason)
