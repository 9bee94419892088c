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
from orkit.solvers.pods_classes import (
    FIRST_STEP_SHARE,
    PodClasses,
    Step,
    StepGoals,
    class_disruption,
    group,
    incumbent_assignment,
    settled_mask,
)

MIN_SECONDS = 0.05


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


def solve(model: Cluster, ctx: StageContext) -> Outcome:
    start = incumbent_assignment(model, ctx)
    hold, settled = settled_mask(model, start)
    if model.objective is PodObjective.LEXICOGRAPHIC and settled == len(model.tiers):
        return Outcome(model.plan(start), model.score(start), Status.OPTIMAL, Stop.COMPLETED,
                       "the incumbent places every placeable pod and disturbs none")
    k = group(model, hold)
    tm = build(model, k)
    best = k.counts(start, model.n_nodes)
    goal = StepGoals(model, k)
    if model.objective is PodObjective.WEIGHTED:
        steps = [Step(-1, "weighted")]
    else:
        steps = [Step(t, kind) for t in range(settled, len(model.tiers)) for kind in ("place", "disrupt")]
        for t in range(settled):  # settled tiers: every placeable pod placed (running ones are held)
            tm.cp.add(expression(goal, tm, Step(t, "place")) >= goal.ceiling(Step(t, "place")))
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
            best, proven = _solve_step(model, ctx, goal, tm, step, best, last=index == len(steps) - 1)
            ctx.progress(model.score(k.assignment(model, best)), None)
        proven_all &= proven
        value = goal.value(step, best)  # fix the step at the best plan's value: its optimum when proven
        expr = expression(goal, tm, step)
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


def _solve_step(model, ctx, goal: StepGoals, tm: TierModel, step: Step, best: np.ndarray, last: bool):
    """One CP-SAT solve of one step, hinted with `best`; returns (the better of the found and the
    incumbent counts, proven optimal). (One weighted solve of several steps was tried: no more
    proofs, and fewer pods placed when time ran out.)"""
    tm.cp.clear_objective()
    (tm.cp.minimize if step.kind == "disrupt" else tm.cp.maximize)(expression(goal, tm, step))
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


def expression(goals: StepGoals, tm: TierModel, step: Step):
    """The step's objective as a CP-SAT linear expression."""
    if step.kind == "weighted":
        return sum(int(goals.rank[c]) * goals.scale * tm.placed[c] - tm.disruption[c] for c in range(goals.k.n))
    parts = tm.placed if step.kind == "place" else tm.disruption
    return sum((parts[c] for c in goals.members(step)), 0)
