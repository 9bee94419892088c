"""Pod packing on CP-SAT: integer counts per (pod class, node), solved tier by tier.

Lexicographic objective: for each priority tier from the highest, maximise the pods placed at or
above it, fix that, then minimise the disruption at or above it, fix that. Steps whose optimum the
incumbent already reaches (every placeable pod placed; no more disruption than the tiers above)
are settled without a solve, and running pods of fully settled top tiers are fixed in place, so
CP-SAT only sees the tiers where something can change. Each solve is hinted with the best plan so
far, so no step ends worse than the incumbent it started from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.pods import Cluster, PodObjective
from orkit.solvers.cpsat.common import configure
from orkit.solvers.heuristics.pods import valid_current
from orkit.solvers.pods_classes import PodClasses, group

MIN_SECONDS = 0.05
FIRST_STEP_SHARE = 0.6  # a step gets this share of the time left when more steps follow


def incumbent_assignment(model: Cluster, ctx: StageContext) -> np.ndarray:
    return model.assignment_of(ctx.incumbent) if ctx.incumbent is not None else valid_current(model)


def settled_mask(model: Cluster, assignment: np.ndarray) -> tuple[np.ndarray, int]:
    """Running pods to hold in place, and how many top tiers the incumbent already solves
    (every placeable pod of the tier and above placed, none of them disturbed)."""
    placeable = model.eligible.any(axis=1)
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


@dataclass
class TierModel:
    """The CP-SAT model over class counts, with per-tier placed and disruption expressions."""

    classes: PodClasses
    cp: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar]
    stay: dict[tuple[int, int], cp_model.IntVar]
    moves: list[cp_model.IntVar]
    placed: list[cp_model.LinearExpr]  # per class
    disruption: list[cp_model.LinearExpr]  # per class

    def hint(self, counts: np.ndarray) -> None:
        self.cp.clear_hints()
        k = self.classes
        for (c, n), var in self.x.items():
            self.cp.add_hint(var, int(counts[c, n]))
        for (c, n), var in self.stay.items():
            self.cp.add_hint(var, int(min(counts[c, n], k.running[c, n])))
        _, _, moves = class_disruption(k, counts)
        for c, var in enumerate(self.moves):
            self.cp.add_hint(var, int(moves[c]))

    def counts(self, solver: cp_model.CpSolver, n_nodes: int) -> np.ndarray:
        result = np.zeros((self.classes.n, n_nodes), dtype=np.int64)
        for (c, n), var in self.x.items():
            result[c, n] = solver.value(var)
        return result


def class_disruption(k: PodClasses, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(placed, disruption, moves) per class for counts, with the least-disruptive realisation."""
    placed = counts.sum(axis=1)
    stays = np.minimum(counts, k.running).sum(axis=1)
    moves = np.maximum(0, placed - stays - k.pending)
    return placed, k.running.sum(axis=1) - stays + moves, moves


def build(model: Cluster, k: PodClasses) -> TierModel:
    cp = cp_model.CpModel()
    cp.name = model.name
    n_nodes = model.n_nodes
    size = k.size
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    upper: dict[tuple[int, int], int] = {}
    stay: dict[tuple[int, int], cp_model.IntVar] = {}
    for c in range(k.n):
        need = k.demand[c]
        for n in range(n_nodes):
            if not k.allowed[c, n] and k.running[c, n] == 0:
                continue
            top = int(size[c]) if k.allowed[c, n] else int(k.running[c, n])
            positive = need > 0
            if positive.any():
                top = min(top, int((np.maximum(k.free[n, positive], 0) // need[positive]).min()))
            if top <= 0:
                continue
            x[c, n] = cp.new_int_var(0, top, f"x_{c}_{n}")
            upper[c, n] = top
            if k.running[c, n]:
                stay[c, n] = cp.new_int_var(0, min(top, int(k.running[c, n])), f"stay_{c}_{n}")
                cp.add(stay[c, n] <= x[c, n])
    by_node: dict[int, list[tuple[int, cp_model.IntVar, int]]] = {}
    by_class: dict[int, list[cp_model.IntVar]] = {}
    for (c, n), var in x.items():
        by_node.setdefault(n, []).append((c, var, upper[c, n]))
        by_class.setdefault(c, []).append(var)
    for n, items in by_node.items():
        for r in range(len(model.resources)):
            terms = [(int(k.demand[c, r]), var, top) for c, var, top in items if k.demand[c, r] > 0]
            if sum(a * top for a, _, top in terms) > k.free[n, r]:  # only constraints that can bind
                cp.add(sum(a * var for a, var, _ in terms) <= int(k.free[n, r]))
    placed, disruption, moves = [], [], []
    for c in range(k.n):
        y = sum(by_class.get(c, []))
        if by_class.get(c):
            cp.add(y <= int(size[c]))
        stays = sum(var for (cc, _), var in stay.items() if cc == c)
        move = cp.new_int_var(0, int(k.running[c].sum()), f"moves_{c}")
        cp.add(move >= y - stays - int(k.pending[c]))
        placed.append(y)
        disruption.append(int(k.running[c].sum()) - stays + move)
        moves.append(move)
    return TierModel(k, cp, x, stay, moves, placed, disruption)


@dataclass
class Step:
    tier: int  # index into model.tiers (-1: the single weighted step)
    kind: str  # "place", "disrupt" or "weighted"


def solve(model: Cluster, ctx: StageContext) -> Outcome:
    start = incumbent_assignment(model, ctx)
    hold, settled = settled_mask(model, start)
    if model.objective is PodObjective.LEXICOGRAPHIC and settled == len(model.tiers):
        return Outcome(None, None, Status.OPTIMAL, Stop.COMPLETED, "the incumbent places every placeable pod "
                       "and disturbs none")
    k = group(model, hold)
    tm = build(model, k)
    best = k.counts(start, model.n_nodes)
    goal = StepGoals(model, k, tm)
    if model.objective is PodObjective.WEIGHTED:
        steps = [Step(-1, "weighted")]
    else:
        steps = [Step(t, kind) for t in range(settled, len(model.tiers)) for kind in ("place", "disrupt")]
        for t in range(settled):  # settled tiers: every placeable pod placed (running ones are held)
            tm.cp.add(goal.expression(Step(t, "place")) >= goal.ceiling(Step(t, "place")))
    proven_all, solves, index = True, 0, 0
    disruption_floor = 0
    while index < len(steps):
        if ctx.budget.should_stop():
            proven_all = False
            break
        step = steps[index]
        if goal.settled(step, best, disruption_floor):  # the incumbent reaches this step's bound
            proven = True
        else:
            solves += 1
            best, proven = _solve_step(model, ctx, goal, step, best, last=index == len(steps) - 1)
            ctx.progress(model.score(k.assignment(model, best)), None)
        proven_all &= proven
        value = goal.value(step, best)  # fix the step at the best plan's value: its optimum when proven
        expr = goal.expression(step)
        tm.cp.add(expr >= value if step.kind != "disrupt" else expr <= value)
        if step.kind == "disrupt":
            disruption_floor = value
        index += 1
    assignment = k.assignment(model, best)
    status = Status.OPTIMAL if proven_all else Status.FEASIBLE
    stop = Stop.COMPLETED if proven_all else (Stop.INTERRUPTED if ctx.budget.interrupted else Stop.TIME_LIMIT)
    reason = (f"{k.n} pod classes over {model.n_nodes} nodes, {settled} tier(s) settled by the incumbent, "
              f"{solves} CP-SAT solve(s)" + ("" if proven_all else "; not every tier proven"))
    bound = model.score(assignment) if proven_all else None
    return Outcome(model.plan(assignment), bound, status, stop, reason)


def _solve_step(model, ctx, goal: StepGoals, step: Step, best: np.ndarray, last: bool):
    """One CP-SAT solve of one step, hinted with `best`; returns (the better of the found and the
    incumbent counts, proven optimal). (One weighted solve of several steps was tried: no more
    proofs, and fewer pods placed when time ran out.)"""
    tm = goal.tm
    tm.cp.clear_objective()
    (tm.cp.minimize if step.kind == "disrupt" else tm.cp.maximize)(goal.expression(step))
    tm.hint(best)
    solver = cp_model.CpSolver()
    configure(solver, ctx, ctx.budget.remaining() * (1.0 if last else FIRST_STEP_SHARE))
    remove_hook = ctx.budget.on_interrupt(solver.StopSearch)
    try:
        code = solver.Solve(tm.cp)
    finally:
        remove_hook()
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = tm.counts(solver, model.n_nodes)
        sign = -1 if step.kind == "disrupt" else 1
        if sign * goal.value(step, found) >= sign * goal.value(step, best):
            best = found
    return best, code == cp_model.OPTIMAL


class StepGoals:
    """What each step optimises, as a CP-SAT expression and as a number for class counts."""

    def __init__(self, model: Cluster, k: PodClasses, tm: TierModel):
        self.model, self.k, self.tm = model, k, tm
        self.placeable = model.eligible.any(axis=1)
        self.fixed_placed = np.array([int((model.priority[k.fixed] >= t).sum()) for t in model.tiers])
        self.rank = np.searchsorted(model.tiers[::-1], k.priority) + 1  # lowest tier 1
        self.scale = 2 * model.n_pods + 1

    def members(self, step: Step) -> np.ndarray:
        return np.flatnonzero(self.k.priority >= self.model.tiers[step.tier])

    def ceiling(self, step: Step) -> int:
        """Pods at or above the tier that fit some node, less those held in place (outside the classes)."""
        tier = self.model.tiers[step.tier]
        return int((self.placeable & (self.model.priority >= tier)).sum()) - int(self.fixed_placed[step.tier])

    def expression(self, step: Step):
        tm = self.tm
        if step.kind == "weighted":
            return sum(int(self.rank[c]) * self.scale * tm.placed[c] - tm.disruption[c] for c in range(self.k.n))
        parts = tm.placed if step.kind == "place" else tm.disruption
        return sum((parts[c] for c in self.members(step)), 0)

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
