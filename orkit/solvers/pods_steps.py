"""The tier-by-tier solve shared by the exact pod backends: settle what the incumbent already
solves, then optimise and hold each place and disrupt step in turn (pattern search first, then the
backend's own search), keeping the best plan and the bounds its proven steps give."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.pods import Cluster, PodObjective
from orkit.solvers.exact.knapsack_kernels import kernels_ready
from orkit.solvers.pods_classes import PodClasses, group, least_disruptive_nodes
from orkit.solvers.pods_goals import Step, StepGoals, score_bound
from orkit.solvers.pods_patterns import pattern_search, value_granule

FIRST_STEP_SHARE = 0.7  # a step gets this share of the time left when more steps follow (1 s grid, same
# session: 779, 779, 779 of 867 against 778, 777, 777 at 0.6; 0.8 779 and 775, 0.5 775: a place step's plan
# counts before any disruption after it)
PATTERN_SHARE = 0.9  # of a step's time, for the pattern bound and plan before the search: 0.9 against 0.75
# resolved 757 and 758 of the 867 grid scenarios at 1 s against 751 and 750 once the master MIP was fast (488f5a2)
KERNEL_WAIT_SHARE = 0.1  # of a solve's time, waited for the search kernels to load (about 0.7 s from the cache)
BUILD_RATE = 30_000  # (class, node) count variables the Python model builders add per second, measured


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


class StepEngine(Protocol):
    """An exact backend's side of the tier steps: optimise one step, then hold it."""

    name: str

    def optimise(self, step: Step, best: np.ndarray, seconds: float,
                 target: int | None = None) -> tuple[np.ndarray | None, bool]:
        """(class counts found or None, proven optimal), hinted / warm-started with `best`. `target`,
        when given, is the only value better than `best`'s that a plan can have (a bound says so):
        reaching it, or showing no plan does, proves the step."""

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
    patterns = any(step.kind != "weighted" for step in steps)
    loaded = not patterns or kernels_ready(ctx.budget.remaining() * KERNEL_WAIT_SHARE, ctx.budget.should_stop)
    run = run_steps(model, ctx, goals, engine, steps, k.counts(start, model.n_nodes), patterns=patterns and loaded)
    reason = (f"{engine.name} on {k.n} pod classes over {model.n_nodes} nodes, {settled} tier(s) settled by the "
              f"incumbent, {run.solves} solve(s)" + ("" if run.proven_all else "; not every tier proven")
              + ("" if loaded else "; pattern search skipped while its kernels load"))
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
    proven_all, solves, floor = True, 0, 0
    holds: list[tuple[Step, int]] = []
    bounds: list[tuple[Step, int]] = []
    for index, step in enumerate(steps):
        if ctx.budget.should_stop():
            proven_all = False
            break
        proven = best is not None and goals.settled(step, best, floor)
        bound = None
        if not proven:
            solves += 1
            if best is not None:  # search only plans at least as good (CP-SAT's presolve may lose the hint)
                engine.hold(step, goals.value(step, best))
            share = 1.0 if index == len(steps) - 1 else FIRST_STEP_SHARE
            if patterns and step.kind != "weighted" and best is not None:
                best, proven, bound = step_by_patterns(ctx, goals, engine, holds, step, best,
                                                       ctx.budget.remaining() * share)
            if not proven and not ctx.budget.should_stop():  # a solver started after Ctrl-C would miss it
                target = bound if bound is not None and best is not None and \
                    goals.sign(step) * (bound - goals.value(step, best)) == value_granule(goals, holds, step) else None
                best, proven = search_step(model, ctx, goals, engine, step, best, hint,
                                           ctx.budget.remaining() * share, target)
            if best is None:
                return StepsRun(None, False, solves, bounds)
            ctx.progress(model.score(k.assignment(model, best)), None)
        value = goals.value(step, best)  # held at the best plan's value: its optimum when proven
        if proven_all and (proven or bound is not None):
            bounds.append((step, value if proven else bound))
        proven_all &= proven
        engine.hold(step, value)
        holds.append((step, value))
        if step.kind == "disrupt":
            floor = value
    return StepsRun(best, proven_all, solves, bounds)


def search_step(model: Cluster, ctx: StageContext, goals: StepGoals, engine: StepEngine, step: Step,
                best: np.ndarray | None, hint: np.ndarray | None, seconds: float,
                target: int | None = None) -> tuple[np.ndarray | None, bool]:
    """The engine's solve of one step: (the better of its plan and `best`, proven optimal)."""
    found, proven = engine.optimise(step, best if best is not None else hint, seconds, target)
    if found is not None:
        found = least_disruptive_nodes(goals.k, found, model.objective is PodObjective.LEXICOGRAPHIC)
    if found is not None and (best is None or replaces(goals, step, found, best)):
        best = found
    return best, proven


def replaces(goals: StepGoals, step: Step, found: np.ndarray, best: np.ndarray) -> bool:
    """Whether plan `found` should replace `best` after a step's search: a better value on the step,
    or the same value and a full score no worse (a search stopped by the time limit may leave a
    plan that ties this step but disturbs more pods in the steps after it)."""
    gain = goals.sign(step) * (goals.value(step, found) - goals.value(step, best))
    if gain:
        return gain > 0
    model, k = goals.model, goals.k
    return not model.is_better(model.score(k.assignment(model, best)), model.score(k.assignment(model, found)))


def step_by_patterns(ctx: StageContext, goals: StepGoals, engine: StepEngine, holds: list[tuple[Step, int]],
                     step: Step, best: np.ndarray, seconds: float) -> tuple[np.ndarray, bool, int]:
    """The pattern search on a place or disrupt step: its plan when better, whether its bound
    proves the best plan optimal, and the bound. (Handing an unmet bound to CP-SAT as a constraint cost more
    proofs than it gave: 16 nodes at 10 s resolved 12 of 24 with it, 16 without.)"""
    result = pattern_search(goals, holds, step, best, ctx, ctx.budget.slice(seconds * PATTERN_SHARE))
    sign = goals.sign(step)
    if result.counts is not None:
        found = least_disruptive_nodes(goals.k, result.counts, True)
        if sign * goals.value(step, found) > sign * goals.value(step, best):
            best = found
            engine.hold(step, goals.value(step, best))
    return best, sign * goals.value(step, best) >= sign * result.bound, result.bound


def steps_outcome(model: Cluster, ctx: StageContext, goals: StepGoals, run: StepsRun, reason: str) -> Outcome:
    stop = Stop.COMPLETED if run.proven_all else (Stop.INTERRUPTED if ctx.budget.interrupted else Stop.TIME_LIMIT)
    if run.best is None:
        return Outcome(None, None, Status.UNKNOWN, stop, "no plan found within the time; " + reason)
    assignment = goals.k.assignment(model, run.best)
    bound = model.score(assignment) if run.proven_all else score_bound(goals, run.bounds)
    return Outcome(model.plan(assignment), bound, Status.OPTIMAL if run.proven_all else Status.FEASIBLE, stop, reason)
