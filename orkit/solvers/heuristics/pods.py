"""Pod-packing heuristic stage: the current state made valid, the default scheduler's answer,
one-move repairs the default scheduler cannot make, and a whole-cluster repack (tabu search on
overflow, tier by tier) with its node contents handed to the nodes that keep the most running pods.

The default scheduler's plan is the floor every later stage must beat. A repair places a pending
pod on a node after moving one running pod of no higher priority from that node to another node
with room: one more pod placed in its tier outweighs the move (lexicographically), and the move
costs nothing in any higher tier.
"""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status
from orkit.models.pods import Cluster, PodObjective
from orkit.solvers.heuristics.kube_default import default_schedule
from orkit.solvers.heuristics.pods_repack import repack
from orkit.solvers.pods_classes import group, least_disruptive_nodes

MIN_SECONDS = 0.0
REPACK_SHARE = 0.15  # of the time left, when exact stages follow (measured: 0.01-0.2 s on 32 nodes)


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
    repaired = move_repairs(model, default, ctx)
    seconds = ctx.budget.remaining() * (1.0 if ctx.is_last else REPACK_SHARE)
    repacked = least_disruptive(model, repack(model, repaired, ctx.budget.slice(seconds), ctx.seed))
    candidates = {"default scheduler from the current state": default,
                  "default scheduler, then one-move repairs": repaired,
                  "whole-cluster repack": repacked,
                  "current state": start}
    reason, best = max(candidates.items(), key=lambda item: model.score(item[1]))
    proven = model.score(best) == model.bound()
    return Outcome(model.plan(best), model.bound(), Status.OPTIMAL if proven else Status.FEASIBLE,
                   ctx.budget.stop_cause(), reason + (" (every pod placed, nobody disturbed)" if proven else ""))


def least_disruptive(model: Cluster, assignment: np.ndarray) -> np.ndarray:
    """The plan's node contents moved to the nodes where they keep the most running pods."""
    k = group(model, model.protected & (model.current >= 0))
    relabelled = k.assignment(model, least_disruptive_nodes(k, k.counts(assignment, model.n_nodes),
                                                            model.objective is PodObjective.LEXICOGRAPHIC))
    return max((assignment, relabelled), key=model.score)
