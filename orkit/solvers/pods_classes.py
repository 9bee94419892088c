"""Pods grouped into classes of interchangeable pods, the form both exact backends solve.

Pods with the same requests, priority and admissible nodes are interchangeable: a model counts
how many of a class go to each node instead of naming the pod, which removes the symmetry between
replicas of one ReplicaSet. Running pods that must stay (protected ones, and those of tiers
already settled) are not in any class: their requests are a fixed load on their node.

Disruption of a class follows from the counts: on node n, min(count, running there) pods stay;
new slots are filled by pending pods first (free), then by running pods moved from elsewhere
(2 each); running pods neither staying nor moved are evicted (1 each).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
from ortools.graph.python import linear_sum_assignment

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.pods import Cluster, PodObjective

FIRST_STEP_SHARE = 0.6  # a step gets this share of the time left when more steps follow
PATTERN_SHARE = 0.75  # of a step's time, for the pattern bound and plan before the search (0.25/0.5/0.75/0.9
# resolved 80/89/91/90 of 135 scenarios at 1 s, 8-32 nodes)
BUILD_RATE = 30_000  # (class, node) count variables the Python model builders add per second, measured


@dataclass
class PodClasses:
    members: list[np.ndarray]  # pod indices of each class
    demand: np.ndarray  # [class, resource]
    priority: np.ndarray  # [class]
    allowed: np.ndarray  # [class, node]: new placements admissible
    running: np.ndarray  # [class, node]: pods of the class running there now
    pending: np.ndarray  # [class]
    free: np.ndarray  # [node, resource]: capacity left after the fixed pods
    fixed: np.ndarray  # pod indices held where they run

    @cached_property
    def size(self) -> np.ndarray:
        return np.array([len(m) for m in self.members], dtype=np.int64)

    @property
    def n(self) -> int:
        return len(self.members)

    @cached_property
    def admissible(self) -> np.ndarray:
        """[class, node]: how many pods of the class may be there (running ones may stay anywhere)."""
        return np.where(self.allowed, self.size[:, None], self.running)

    @cached_property
    def count_limits(self) -> np.ndarray:
        """[class, node]: the most pods of the class that are admissible on the node and fit it."""
        free = np.maximum(self.free, 0)[None, :, :]  # [1, node, resource]
        need = self.demand[:, None, :]  # [class, 1, resource]
        fit = np.where(need > 0, free // np.maximum(need, 1), np.iinfo(np.int64).max).min(axis=2)
        return np.minimum(self.admissible, fit)

    @cached_property
    def count_bounds(self) -> dict[tuple[int, int], int]:
        """Upper bound on the pods of class c on node n, for every pair where some may go."""
        top = self.count_limits
        classes, nodes = np.nonzero(top > 0)
        return {(int(c), int(n)): int(top[c, n]) for c, n in zip(classes, nodes)}

    def fits(self, contents: np.ndarray) -> np.ndarray:
        """[content, node]: whether each node content (pods per class) fits the node's free
        capacity and is admissible there (which also keeps it within the class sizes)."""
        fits = ((contents @ self.demand)[:, None, :] <= self.free[None, :, :]).all(axis=2)
        for j, content in enumerate(contents):
            present = np.flatnonzero(content)
            fits[j] &= (content[present, None] <= self.admissible[present]).all(axis=0)
        return fits

    def counts(self, assignment: np.ndarray, n_nodes: int) -> np.ndarray:
        """[class, node] counts of an assignment (pods outside the classes are ignored)."""
        x = np.zeros((self.n, n_nodes), dtype=np.int64)
        for c, members in enumerate(self.members):
            placed = assignment[members]
            placed = placed[placed >= 0]
            np.add.at(x[c], placed, 1)
        return x

    def assignment(self, model: Cluster, x: np.ndarray) -> np.ndarray:
        """A per-pod assignment realising counts `x` with the least disruption."""
        result = np.full(model.n_pods, -1, dtype=np.int64)
        result[self.fixed] = model.current[self.fixed]
        for c, members in enumerate(self.members):
            now = model.current[members]
            slots: list[int] = []
            for node in np.flatnonzero(x[c]):
                here = members[now == node]
                stay = min(int(x[c, node]), len(here))
                result[here[:stay]] = node
                slots += [int(node)] * (int(x[c, node]) - stay)
            moved = [int(p) for p in members[now >= 0] if result[p] < 0]
            waiting = [int(p) for p in members[now < 0]] + moved  # pending pods take free slots first
            for pod, node in zip(waiting, slots):
                result[pod] = node
        return result


def group(model: Cluster, fixed_mask: np.ndarray) -> PodClasses:
    """Classes of the pods not in `fixed_mask` (a boolean per pod of running pods held in place)."""
    fixed = np.flatnonzero(fixed_mask)
    keep = np.where(fixed_mask, model.current, -1)
    free = model.capacity - model.load(keep)
    free_pods = np.flatnonzero(~fixed_mask)
    keys: dict[tuple, list[int]] = {}
    for p in free_pods:
        key = (model.demand[p].tobytes(), int(model.priority[p]), model.placeable[p].tobytes())
        keys.setdefault(key, []).append(int(p))
    members = [np.array(v, dtype=np.int64) for v in keys.values()]
    n_nodes = model.n_nodes
    running = np.zeros((len(members), n_nodes), dtype=np.int64)
    pending = np.zeros(len(members), dtype=np.int64)
    for c, m in enumerate(members):
        now = model.current[m]
        np.add.at(running[c], now[now >= 0], 1)
        pending[c] = int((now < 0).sum())
    first = [m[0] for m in members]
    return PodClasses(
        members=members,
        demand=model.demand[first].reshape(len(members), len(model.resources)),
        priority=model.priority[first],
        allowed=model.placeable[first].reshape(len(members), n_nodes),
        running=running,
        pending=pending,
        free=free,
        fixed=fixed,
    )


def least_disruptive_nodes(k: PodClasses, counts: np.ndarray, by_tier: bool = True) -> np.ndarray:
    """The same node contents (class counts per node) handed to the nodes where they keep the most
    running pods in place: an assignment problem over (content, node) pairs where the content fits
    and is admissible. With `by_tier` (the lexicographic objective) a pod kept in a higher tier
    outweighs every pod of the tiers below, so no tier's disruption grows for a lower tier's sake
    and the plan never gets worse (the identity is one of the assignments; placed pods per class do
    not change). Where those weights would overflow, every kept pod counts 1. Solvers return any
    of many symmetric packings; this picks the best."""
    n_nodes = counts.shape[1]
    if n_nodes < 2 or not k.running.any():
        return counts
    weight = np.ones(k.n, dtype=np.int64)
    if by_tier:
        levels = np.unique(k.priority, return_inverse=True)[1]  # 0 for the lowest tier in the classes
        base = int(k.running.sum()) + 1
        if (levels.max() + 2) * np.log2(base) + np.log2(n_nodes + 1) <= 60:  # the solver scales costs by n
            weight = base ** levels.astype(np.int64)
    contents = counts.T  # [content, class]
    fits = k.fits(contents)  # [content, node]
    keeps = np.zeros((n_nodes, n_nodes), dtype=np.int64)
    for j in range(n_nodes):
        present = np.flatnonzero(contents[j])
        keeps[j] = (np.minimum(contents[j, present, None], k.running[present]) * weight[present, None]).sum(axis=0)
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    left, right = np.nonzero(fits)
    solver.add_arcs_with_cost(left, right, -keeps[left, right])
    if solver.solve() != solver.OPTIMAL:
        return counts
    result = np.empty_like(counts)
    for j in range(n_nodes):
        result[:, solver.right_mate(j)] = contents[j]
    return result


def incumbent_assignment(model: Cluster, ctx: StageContext) -> np.ndarray:
    return model.assignment_of(ctx.incumbent) if ctx.incumbent is not None else model.valid_current_plan()


def settled_mask(model: Cluster, assignment: np.ndarray) -> tuple[np.ndarray, int]:
    """Running pods to hold in place, and how many top tiers the incumbent already solves
    (every placeable pod of the tier and above placed, none of them disturbed)."""
    placeable = model.fits_somewhere
    placed = assignment >= 0
    disturbed = model.disruption(assignment) > 0
    settled = 0
    for tier in model.tiers:
        at_or_above = model.priority >= tier
        if (placeable & at_or_above & ~placed).any() or (disturbed & at_or_above).any():
            break
        settled += 1
    hold = model.protected.copy()
    if settled and model.objective is PodObjective.LEXICOGRAPHIC:
        hold |= (model.current >= 0) & (model.priority >= model.tiers[settled - 1])
    return hold, settled


def class_disruption(k: PodClasses, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(placed, disruption, moves) per class for counts, with the least-disruptive realisation."""
    placed = counts.sum(axis=1)
    stays = np.minimum(counts, k.running).sum(axis=1)
    moves = np.maximum(0, placed - stays - k.pending)
    return placed, k.running.sum(axis=1) - stays + moves, moves


@dataclass
class Step:
    tier: int  # index into model.tiers (-1: the single weighted step)
    kind: str  # "place", "disrupt" or "weighted"


class StepGoals:
    """What each lexicographic step optimises, as a number for class counts, and its trivial bounds."""

    def __init__(self, model: Cluster, k: PodClasses):
        self.model, self.k = model, k
        self.placeable = model.fits_somewhere
        self.fixed_placed = np.array([int((model.priority[k.fixed] >= t).sum()) for t in model.tiers])
        self.rank = model.tier_rank[[int(m[0]) for m in k.members]]
        self.scale = 2 * model.n_pods + 1

    def members(self, step: Step) -> np.ndarray:
        return np.flatnonzero(self.k.priority >= self.model.tiers[step.tier])

    def ceiling(self, step: Step) -> int:
        """Pods at or above the tier that fit some node, less those held in place (outside the classes)."""
        tier = self.model.tiers[step.tier]
        return int((self.placeable & (self.model.priority >= tier)).sum()) - int(self.fixed_placed[step.tier])

    def value(self, step: Step, counts: np.ndarray) -> int:
        """The expression's value for class counts (least-disruptive realisation)."""
        placed, disruption, _ = class_disruption(self.k, counts)
        if step.kind == "weighted":
            return int((self.rank * placed).sum()) * self.scale - int(disruption.sum())
        parts = placed if step.kind == "place" else disruption
        return int(parts[self.members(step)].sum())

    def settled(self, step: Step, counts: np.ndarray, disruption_floor: int) -> bool:
        if step.kind == "place":
            return self.value(step, counts) >= self.ceiling(step)
        if step.kind == "disrupt":
            return self.value(step, counts) <= disruption_floor
        return False


class StepEngine(Protocol):
    """An exact backend's side of the tier steps: optimise one step, then hold it."""

    name: str

    def optimise(self, step: Step, best: np.ndarray, seconds: float) -> tuple[np.ndarray | None, bool]:
        """(class counts found or None, proven optimal), hinted / warm-started with `best`."""

    def hold(self, step: Step, value: int) -> None:
        """Keep the step's expression at `value` or better in every later step."""


def solve_by_steps(model: Cluster, ctx: StageContext,
                   make_engine: Callable[[PodClasses, StepGoals], StepEngine | Outcome]) -> Outcome:
    """The lexicographic (or weighted) solve shared by the exact backends. Steps the best plan
    already settles are held without a solve; every solve starts from the best plan so far, so
    the answer is never worse than the incumbent."""
    start = incumbent_assignment(model, ctx)
    hold, settled = settled_mask(model, start)
    if model.objective is PodObjective.LEXICOGRAPHIC and settled == len(model.tiers):
        return Outcome(model.plan(start), model.score(start), Status.OPTIMAL, Stop.COMPLETED,
                       "the incumbent places every placeable pod and disturbs none")
    k = group(model, hold)
    pairs = len(k.count_bounds)
    if pairs > BUILD_RATE * ctx.budget.remaining() / 2:
        return Outcome(None, None, Status.UNKNOWN, Stop.TIME_LIMIT,
                       f"skipped: {pairs:,} (class, node) count variables would take most of the "
                       f"{ctx.budget.remaining():.1f}s left to build")
    goals = StepGoals(model, k)
    engine = make_engine(k, goals)
    if isinstance(engine, Outcome):
        return engine
    steps = tier_steps(model, settled)
    for t in range(settled if model.objective is PodObjective.LEXICOGRAPHIC else 0):
        engine.hold(Step(t, "place"), goals.ceiling(Step(t, "place")))  # settled: every placeable pod placed
    run = run_steps(model, ctx, goals, engine, steps, k.counts(start, model.n_nodes))
    reason = (f"{engine.name} on {k.n} pod classes over {model.n_nodes} nodes, {settled} tier(s) settled by the "
              f"incumbent, {run.solves} solve(s)" + ("" if run.proven_all else "; not every tier proven"))
    return steps_outcome(model, ctx, goals, run, reason)


def tier_steps(model: Cluster, first_tier: int) -> list[Step]:
    """The weighted objective's single step, or place-then-disrupt for each tier from `first_tier` down."""
    if model.objective is PodObjective.WEIGHTED:
        return [Step(-1, "weighted")]
    return [Step(t, kind) for t in range(first_tier, len(model.tiers)) for kind in ("place", "disrupt")]


@dataclass
class StepsRun:
    """What the tier steps reached: the best class counts, whether every step was proven, the
    solves run, and each step's known bound up to the first unproven one (its value where
    proven; for the first unproven step, the pattern bound when one was computed)."""

    best: np.ndarray | None
    proven_all: bool
    solves: int
    bounds: list[tuple[Step, int]]


def run_steps(model: Cluster, ctx: StageContext, goals: StepGoals, engine: StepEngine, steps: list[Step],
              best: np.ndarray | None, hint: np.ndarray | None = None, patterns: bool = True) -> StepsRun:
    """Optimise and hold each step in turn.

    `best` must satisfy the engine's model (None: nothing known yet; `hint` then only guides the
    first solve). A step `best` already settles is held without a solve. With `patterns`, each
    step first runs the pattern search (its plans ignore constraints outside the class model).
    A bound counts only while every step before it is proven: later steps are optimised under
    holds that may be worse than the optimum's."""
    k = goals.k
    run = StepsRun(best, True, 0, [])
    floor = 0
    holds: list[tuple[Step, int]] = []
    for index, step in enumerate(steps):
        if ctx.budget.should_stop():
            run.proven_all = False
            break
        proven = best is not None and goals.settled(step, best, floor)
        bound = None
        if not proven:
            run.solves += 1
            if best is not None:  # search only plans at least as good (CP-SAT's presolve may lose the hint)
                engine.hold(step, goals.value(step, best))
            share = 1.0 if index == len(steps) - 1 else FIRST_STEP_SHARE
            if patterns and step.kind != "weighted" and best is not None:
                best, proven, bound = step_by_patterns(ctx, goals, engine, holds, step, best,
                                                       ctx.budget.remaining() * share)
            if not proven and not ctx.budget.should_stop():  # a solver started after Ctrl-C would miss it
                best, proven = search_step(model, ctx, goals, engine, step, best, hint,
                                           ctx.budget.remaining() * share)
            if best is None:
                return StepsRun(None, False, run.solves, run.bounds)
            ctx.progress(model.score(k.assignment(model, best)), None)
        value = goals.value(step, best)  # held at the best plan's value: its optimum when proven
        if run.proven_all and (proven or bound is not None):
            run.bounds.append((step, value if proven else bound))
        run.proven_all &= proven
        run.best = best
        engine.hold(step, value)
        holds.append((step, value))
        if step.kind == "disrupt":
            floor = value
    return run


def search_step(model: Cluster, ctx: StageContext, goals: StepGoals, engine: StepEngine, step: Step,
                best: np.ndarray | None, hint: np.ndarray | None, seconds: float) -> tuple[np.ndarray | None, bool]:
    """The engine's solve of one step: (the better of its plan and `best`, proven optimal)."""
    found, proven = engine.optimise(step, best if best is not None else hint, seconds)
    if found is not None:
        found = least_disruptive_nodes(goals.k, found, model.objective is PodObjective.LEXICOGRAPHIC)
    sign = -1 if step.kind == "disrupt" else 1
    if found is not None and (best is None or sign * goals.value(step, found) >= sign * goals.value(step, best)):
        best = found
    return best, proven


def step_by_patterns(ctx: StageContext, goals: StepGoals, engine: StepEngine, holds: list[tuple[Step, int]],
                     step: Step, best: np.ndarray, seconds: float) -> tuple[np.ndarray, bool, int]:
    """The pattern search on a place or disrupt step: its plan when better, whether its bound
    proves the best plan optimal, and the bound. (Handing an unmet bound to CP-SAT as a constraint cost more
    proofs than it gave: 16 nodes at 10 s resolved 12 of 24 with it, 16 without.)"""
    from orkit.solvers.pods_patterns import pattern_search  # it builds on this module

    result = pattern_search(goals, holds, step, best, ctx, ctx.budget.slice(seconds * PATTERN_SHARE))
    sign = 1 if step.kind == "place" else -1  # larger is better
    if result.counts is not None:
        found = least_disruptive_nodes(goals.k, result.counts, True)
        if sign * goals.value(step, found) > sign * goals.value(step, best):
            best = found
            engine.hold(step, goals.value(step, best))
    return best, sign * goals.value(step, best) >= sign * result.bound, result.bound


def score_bound(goals: StepGoals, bounds: list[tuple[Step, int]]) -> tuple[int, ...] | None:
    """The lexicographic score vector no plan beats: the steps' known bounds in their places
    (pods held in place count as placed and undisturbed), every later component at its trivial
    bound (every placeable pod placed, nobody disturbed). None for the weighted objective, whose
    steps give no bound here."""
    model = goals.model
    if model.objective is not PodObjective.LEXICOGRAPHIC:
        return None
    vector = list(model.bound())
    for step, value in bounds:
        if step.kind == "place":
            vector[2 * step.tier] = value + int(goals.fixed_placed[step.tier])
        else:
            vector[2 * step.tier + 1] = -value
    return tuple(vector)


def steps_outcome(model: Cluster, ctx: StageContext, goals: StepGoals, run: StepsRun, reason: str) -> Outcome:
    stop = Stop.COMPLETED if run.proven_all else (Stop.INTERRUPTED if ctx.budget.interrupted else Stop.TIME_LIMIT)
    if run.best is None:
        return Outcome(None, None, Status.UNKNOWN, stop, "no plan found within the time; " + reason)
    assignment = goals.k.assignment(model, run.best)
    bound = model.score(assignment) if run.proven_all else score_bound(goals, run.bounds)
    return Outcome(model.plan(assignment), bound, Status.OPTIMAL if run.proven_all else Status.FEASIBLE, stop, reason)
