"""Pod-packing heuristic stage: the current state made valid, the default scheduler's answer,
then one-move repairs the default scheduler cannot make.

The default scheduler's plan is the floor every later stage must beat. A repair places a pending
pod on a node after moving one running pod of no higher priority from that node to another node
with room: one more pod placed in its tier outweighs the move (lexicographically), and the move
costs nothing in any higher tier.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status
from orkit.models.pods import Cluster
from orkit.solvers.heuristics.kube_default import default_schedule

MIN_SECONDS = 0.0


def move_repairs(model: Cluster, assignment: np.ndarray, ctx: StageContext | None = None) -> np.ndarray:
    """Place pending pods (highest priority, then smallest first) each by at most one move."""
    assignment = assignment.copy()
    free = model.capacity - model.load(assignment)
    demand, placeable = model.demand, model.placeable
    pending = np.flatnonzero((assignment < 0) & model.fits_somewhere)
    pending = pending[np.lexsort((demand[pending].sum(axis=1), -model.priority[pending]))]
    for pod in pending:
        if ctx is not None and ctx.budget.should_stop():
            break
        fits = np.flatnonzero(placeable[pod] & (free >= demand[pod]).all(axis=1))
        if len(fits):  # room appeared through earlier repairs
            assignment[pod] = fits[0]
            free[fits[0]] -= demand[pod]
            continue
        movable = np.flatnonzero((assignment >= 0) & ~model.protected & (model.priority <= model.priority[pod]))
        nodes = assignment[movable]
        # the moved pod must free enough room on its node for `pod`
        frees = ((free[nodes] + demand[movable]) >= demand[pod]).all(axis=1) & placeable[pod, nodes]
        for other in movable[frees][np.argsort(demand[movable[frees]].sum(axis=1), kind="stable")]:
            here = assignment[other]
            room = placeable[other] & (free >= demand[other]).all(axis=1)
            room[here] = False
            targets = np.flatnonzero(room)
            if len(targets):
                there = targets[np.argmin((free[targets] - demand[other]).sum(axis=1))]  # best fit
                assignment[other], assignment[pod] = there, here
                free[there] -= demand[other]
                free[here] += demand[other] - demand[pod]
                break
    return assignment


def solve(model: Cluster, ctx: StageContext) -> Outcome:
    start = model.valid_current_plan()
    default = default_schedule(model, start)
    candidates = [start, default, move_repairs(model, default, ctx)]
    best = max(candidates, key=model.score)
    proven = model.score(best) == model.bound()
    reason = ("default scheduler from the current state" + (", then one-move repairs" if best is candidates[2] else "")
              + (" (every pod placed, nobody disturbed)" if proven else ""))
    return Outcome(model.plan(best), model.bound(), Status.OPTIMAL if proven else Status.FEASIBLE,
                   ctx.budget.stop_cause(), reason)
