"""A pattern (Dantzig-Wolfe) bound and plan for a pod disrupt step, by column generation.

The class-count model's LP lets a pending pod be split over the free fragments of many nodes, so
its bound on disruption is near zero. Here every node instead chooses one whole content (a
pattern: pods per class, and how many of them were running there), and the LP mixes patterns.
This LP is the Gilmore-Gomory idea for bin packing. Priced exactly (CP-SAT per node, too slow
for the chain), its optimum rounded up equalled the proven optimum in all 11 generated disrupt
steps where one was known, while CP-SAT's own bound stayed far below.

Pricing (the best pattern for each node at the LP's duals) is a 2-D knapsack. It is solved
exactly on a grid where demands and capacities are rounded down: every real pattern is a grid
pattern, so the LP over grid patterns stays a valid lower bound, weaker than the exact one (8
against 12 on one 8-node cluster). Patterns that really fit also feed a restricted master MIP,
which often finds a far better plan than the search (disruption 20 against 120 on 32 nodes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from orkit.core.backend import StageContext
from orkit.core.budget import Budget
from orkit.solvers.exact.knapsack_kernels import bounded_knapsack
from orkit.solvers.mip.common import _highs, stop_on_budget
from orkit.solvers.pods_classes import PodClasses, Step, StepGoals, class_disruption

GRID_CELLS = 2**16  # knapsack table size per node group
ENUMERATION_LIMIT = 512  # stay combinations per node enumerated instead of a local DP
MIP_SHARE = 0.3  # of the budget kept for the restricted master MIP
SEARCH_NODES = 20_000
SMOOTHING = 0.8  # Wentges: price at this mix of the best-bound duals and the master's, to damp the oscillation
TOLERANCE = 1e-6


@dataclass
class PatternResult:
    bound: int  # no plan at the step's holds places more (place step) or disrupts less (disrupt step)
    counts: np.ndarray | None  # [class, node] of the best plan from the restricted master, or None
    iterations: int
    converged: bool


@dataclass
class Pattern:
    node: int
    content: np.ndarray  # pods per class
    stays: np.ndarray  # of them running there before
    fits: bool  # within the real capacities (not only the grid's)


class GridPricer:
    """Exact least-reduced-cost node contents on a floor-rounded grid of the (at most two) resources
    that can bind. Nodes that admit the same classes share one table of newcomers; running pods that
    stay are added per node."""

    def __init__(self, k: PodClasses):
        self.k = k
        free = np.maximum(k.free, 0)
        binding = np.flatnonzero((k.demand * k.size[:, None]).sum(axis=0) > free.min(axis=0))
        tightness = (k.demand * k.size[:, None]).sum(axis=0)[binding] / np.maximum(free.sum(axis=0)[binding], 1)
        self.resources = binding[np.argsort(-tightness)][:2]  # dropping the rest only relaxes
        top = np.maximum(free[:, self.resources].max(axis=0), 1) if len(self.resources) else np.zeros(0)
        side = int(GRID_CELLS ** (1 / max(len(self.resources), 1)))
        self.step = np.maximum(1, np.ceil(top / side)).astype(np.int64)
        self.cap = self._grid(free)  # [node, 2]
        self.need = self._grid(k.demand)  # [class, 2]
        self.shape = tuple(int(v) + 1 for v in self.cap.max(axis=0))
        groups: dict[bytes, list[int]] = {}
        for n in range(k.free.shape[0]):
            groups.setdefault(k.allowed[:, n].tobytes(), []).append(n)
        self.groups = list(groups.values())

    def _grid(self, amounts: np.ndarray) -> np.ndarray:
        """Amounts of the binding resources in grid steps, rounded down, padded to two columns."""
        grid = np.zeros((amounts.shape[0], 2), dtype=np.int64)
        grid[:, : len(self.resources)] = amounts[:, self.resources] // self.step
        return grid

    def _add(self, table: np.ndarray, c: int, cost: float, count: int, taken: list) -> None:
        """Up to `count` pods of class c at `cost` each into a min-cost table (binary splitting)."""
        n1, n2 = self.need[c]
        chunk = 1
        while count > 0:
            t = min(chunk, count)
            count -= t
            chunk *= 2
            a1, a2 = t * n1, t * n2
            if a1 >= table.shape[0] or a2 >= table.shape[1]:
                break
            candidate = table[: table.shape[0] - a1, : table.shape[1] - a2] + t * cost
            better = candidate < table[a1:, a2:] - 1e-12
            table[a1:, a2:] = np.where(better, candidate, table[a1:, a2:])
            taken.append((c, t, a1, a2, better))

    @staticmethod
    def _backtrack(items: list, cell: tuple[int, int], counts: np.ndarray) -> tuple[int, int]:
        """Add to `counts` the items the table's optimum at `cell` took; returns the cell left."""
        g1, g2 = cell
        for c, t, a1, a2, better in reversed(items):
            i1, i2 = g1 - a1, g2 - a2
            if i1 >= 0 and i2 >= 0 and better[i1, i2]:
                counts[c] += t
                g1, g2 = i1, i2
        return g1, g2

    def _stays(self, n: int, cost: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """The running pods to keep on node n (at `cost` each) with the newcomers' table: the stays
        and the grid capacity left for newcomers. Few combinations are enumerated, else a local DP."""
        k = self.k
        classes = np.flatnonzero((k.running[:, n] > 0) & (cost < -1e-12))
        g1, g2 = (int(v) for v in self.cap[n])
        stays = np.zeros(k.n, np.int64)
        if np.prod(k.running[classes, n] + 1, dtype=float) <= ENUMERATION_LIMIT:
            ranges = [np.arange(k.running[c, n] + 1) for c in classes]
            combos = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, len(classes)) if ranges \
                else np.zeros((1, 0), np.int64)
            left = self.cap[n] - combos @ self.need[classes]
            total = np.full(len(combos), np.inf)
            fits = (left >= 0).all(axis=1)
            total[fits] = combos[fits] @ cost[classes] + table[left[fits, 0], left[fits, 1]]
            best = int(np.argmin(total))
            stays[classes] = combos[best]
            return stays, (int(left[best, 0]), int(left[best, 1]))
        local = table[: g1 + 1, : g2 + 1].copy()
        taken: list = []
        for c in classes:
            self._add(local, int(c), float(cost[c]), int(k.running[c, n]), taken)
        return stays, self._backtrack(taken, (g1, g2), stays)

    def price(self, u: np.ndarray, w: np.ndarray, mu: np.ndarray, wanted: set[int]) -> dict[int, tuple[float, Pattern]]:
        """For the nodes in `wanted`: (reduced cost, pattern) minimising sum u*content + w*stays - mu[node]."""
        k = self.k
        out: dict[int, tuple[float, Pattern]] = {}
        for group in self.groups:
            nodes = [n for n in group if n in wanted]
            if not nodes:
                continue
            table = np.zeros(self.shape)
            newcomers: list = []
            for c in np.flatnonzero((u < -1e-12) & k.allowed[:, nodes[0]]):
                self._add(table, int(c), float(u[c]), int(k.size[c]), newcomers)
            for n in nodes:
                stays, left = self._stays(n, u + w, table)
                content = stays.copy()
                self._backtrack(newcomers, left, content)
                fits = bool(k.fits(content[None, :])[0, n])
                out[n] = (float(u @ content + w @ stays) - float(mu[n]), Pattern(n, content, stays, fits))
        return out


class ExactPricer:
    """Least-reduced-cost node contents by branch and bound over the real capacities, so the LP is
    over real patterns only. Class c on node n is two items: the pods running there (which stay,
    at u+w each when w < 0) and the rest (at u each). Nodes with the same capacity and items share
    one search. Where a search hits its node limit, the grid pricer's bound stands in for it."""

    def __init__(self, k: PodClasses):
        self.k = k
        self.top = np.zeros((k.n, k.free.shape[0]), np.int64)  # [class, node]: most pods that fit
        for (c, n), top in k.count_bounds.items():
            self.top[c, n] = top
        self.stay_top = np.minimum(self.top, k.running)
        self.capacity = np.maximum(k.free, 0)
        self.grid: GridPricer | None = None
        self.exact = True  # the last pricing's bound is exact (every search finished)

    def price(self, u: np.ndarray, w: np.ndarray, mu: np.ndarray) -> tuple[list[tuple[float, Pattern]], float]:
        """Per node, the best real pattern found with its reduced cost; and the sum over nodes of
        a lower bound on each node's least reduced cost (exact where the search finished)."""
        k = self.k
        stay_cost = u + np.minimum(w, 0.0)
        groups: dict[bytes, list[int]] = {}
        for n in range(len(mu)):
            stays = np.where(w < 0, self.stay_top[:, n], 0)
            key = self.capacity[n].tobytes() + stays.tobytes() + self.top[:, n].tobytes()
            groups.setdefault(key, []).append(n)
        found: list[tuple[float, Pattern]] = [(0.0, Pattern(0, np.zeros(0), np.zeros(0), True))] * len(mu)
        bound, fallback = 0.0, set()
        for nodes in groups.values():
            first = nodes[0]
            stays = np.where(w < 0, self.stay_top[:, first], 0)
            classes = np.concatenate([np.arange(k.n), np.arange(k.n)])
            value = -np.concatenate([stay_cost, u])
            count = np.concatenate([stays, self.top[:, first] - stays])
            items = np.flatnonzero((count > 0) & (value > TOLERANCE))
            floor = max(0.0, -float(mu[nodes].max()))
            x, best, finished = bounded_knapsack(value[items], count[items], k.demand[classes[items]],
                                                 self.capacity[first], floor, SEARCH_NODES)
            content = np.zeros(k.n, np.int64)
            kept = np.zeros(k.n, np.int64)
            np.add.at(content, classes[items], x)
            kept[classes[items[items < k.n]]] = x[items < k.n]
            cost = float(u @ content + w @ kept)
            for n in nodes:
                found[n] = (cost - float(mu[n]), Pattern(n, content, kept, True))
                if finished:
                    bound += min(0.0, found[n][0])
                else:
                    fallback.add(n)
        self.exact = not fallback
        if fallback:
            self.grid = self.grid or GridPricer(k)
            bound += sum(min(0.0, rc) for rc, _ in self.grid.price(u, w, mu, fallback).values())
        return found, bound


class PatternMaster:
    """The pattern LP of one disrupt step: one convex choice per node, class sizes, moves per class,
    the holds of earlier steps, and the step's disruption as objective."""

    def __init__(self, goals: StepGoals, holds: list[tuple[Step, int]], step: Step):
        highspy = _highs()
        k = goals.k
        self.k, self.goals, self.holds = k, goals, holds
        n_nodes, C = k.free.shape[0], k.n
        self.n_nodes = n_nodes
        running = k.running.sum(axis=1)
        self.objective = np.zeros(C, bool)
        self.objective[goals.members(step)] = True
        self.place = step.kind == "place"  # minimise minus the pods placed, else the disruption
        self.constant = 0.0 if self.place else float(running[self.objective].sum())
        self.in_hold = np.zeros((len(holds), C), bool)
        for i, (held, _) in enumerate(holds):
            self.in_hold[i, goals.members(held)] = True
        self.place_hold = np.array([held.kind == "place" for held, _ in holds], bool)
        h = self.h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        inf = highspy.kHighsInf
        lower = np.concatenate([np.ones(n_nodes), np.full(C, -inf), -k.pending.astype(float),
                                [float(v) if held.kind == "place" else -inf for held, v in holds]])
        upper = np.concatenate([np.ones(n_nodes), k.size.astype(float), np.full(C, inf),
                                [inf if held.kind == "place" else float(v - running[self.in_hold[i]].sum())
                                 for i, (held, v) in enumerate(holds)]])
        self.lower, self.upper = lower, upper
        h.addRows(len(lower), lower, upper, 0, np.zeros(len(lower), np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.move_row, self.hold_row = n_nodes + C, n_nodes + 2 * C
        for c in range(C):  # moves[c] >= placed - stays - pending, counted in disrupt holds and the objective
            held = np.flatnonzero(self.in_hold[:, c] & ~self.place_hold)
            rows = [self.move_row + c, *(self.hold_row + held)]
            h.addCol(0.0 if self.place else float(self.objective[c]), 0, inf, len(rows), np.array(rows, np.int32),
                     np.ones(len(rows)))
        self.patterns: list[Pattern] = []

    def add(self, p: Pattern) -> None:
        rows = [p.node]
        values = [1.0]
        for c in np.flatnonzero(p.content):
            rows.append(self.n_nodes + c)
            values.append(float(p.content[c]))
        for c in np.flatnonzero(p.content - p.stays):
            rows.append(self.move_row + c)
            values.append(-float(p.content[c] - p.stays[c]))
        for i in range(len(self.holds)):
            v = p.content[self.in_hold[i]].sum() if self.place_hold[i] else -p.stays[self.in_hold[i]].sum()
            if v:
                rows.append(self.hold_row + i)
                values.append(float(v))
        gain = p.content if self.place else p.stays
        self.h.addCol(-float(gain[self.objective].sum()), 0, _highs().kHighsInf, len(rows),
                      np.array(rows, np.int32), np.array(values))
        self.patterns.append(p)

    def solve_lp(self) -> tuple[float, np.ndarray] | None:
        """(LP value, row duals) of the restricted master, or None."""
        h = self.h
        h.run()
        if h.getModelStatus() != _highs().HighsModelStatus.kOptimal:
            return None
        return h.getInfo().objective_function_value + self.constant, np.asarray(h.getSolution().row_dual)

    def prices(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(u, w, mu) at row duals y: a pattern's reduced cost is u*content + w*stays - mu[node]."""
        C = self.k.n
        mu, y_size, y_move, y_hold = (y[: self.n_nodes], y[self.n_nodes: self.n_nodes + C],
                                      y[self.move_row: self.hold_row], y[self.hold_row:])
        u = -y_size + y_move - (self.in_hold & self.place_hold[:, None]).T @ y_hold - self.place * self.objective
        w = -y_move - (not self.place) * self.objective + (self.in_hold & ~self.place_hold[:, None]).T @ y_hold
        return u, w, mu

    def dual_value(self, y: np.ndarray) -> float:
        """The dual objective at row duals y (each row's bound on the side its dual's sign binds).
        Plus every node's least reduced cost, it is the Lagrangian bound at y; at the master's own
        duals it equals the LP value."""
        active = np.where(y > 0, self.lower, self.upper)  # an infinite side only under a rounding-noise dual
        terms = np.where(np.isfinite(active), y * np.where(np.isfinite(active), active, 0.0),
                         np.where(np.abs(y) < TOLERANCE * 0.1, 0.0, -np.inf))
        return float(terms.sum()) + self.constant

    def best_plan(self, ctx: StageContext, seconds: float) -> np.ndarray | None:
        """The restricted master as a MIP over the patterns that really fit, from the first pattern
        of every node (the plan the search started from): [class, node] counts, or None."""
        highspy, h = _highs(), self.h
        first = self.k.n
        for j, p in enumerate(self.patterns):
            h.changeColIntegrality(first + j, highspy.HighsVarType.kInteger)
            if not p.fits:
                h.changeColBounds(first + j, 0, 0)
        for c in range(self.k.n):
            h.changeColIntegrality(c, highspy.HighsVarType.kInteger)
        h.setOptionValue("time_limit", max(0.01, seconds))
        warm = highspy.HighsSolution()
        values = np.zeros(first + len(self.patterns))
        values[first: first + self.n_nodes] = 1
        counts = self._counts(values)
        values[:first] = class_disruption(self.k, counts)[2]
        warm.col_value = list(values)
        warm.value_valid = True
        h.setSolution(warm)
        with stop_on_budget(h, ctx):
            h.run()
        if h.getInfo().primal_solution_status != 2:
            return None
        return self._counts(np.asarray(h.getSolution().col_value))

    def _counts(self, values: np.ndarray) -> np.ndarray:
        counts = np.zeros((self.k.n, self.n_nodes), np.int64)
        for j in np.flatnonzero(values[self.k.n:] > 0.5):
            p = self.patterns[j]
            counts[:, p.node] = p.content
        return counts


def reduced_cost(p: Pattern, u: np.ndarray, w: np.ndarray, mu: np.ndarray) -> float:
    return float(u @ p.content + w @ p.stays) - float(mu[p.node])


def pattern_search(goals: StepGoals, holds: list[tuple[Step, int]], step: Step, best: np.ndarray,
                   ctx: StageContext, budget: Budget) -> PatternResult:
    """Column generation for a place or disrupt step from the plan `best` (which meets every hold),
    then the restricted master MIP. The bound is the best Lagrangian bound seen (LP value plus every
    node's least reduced cost), valid at every iteration, so stopping early keeps it honest."""
    k = goals.k
    master = PatternMaster(goals, holds, step)
    for n in range(master.n_nodes):
        content = best[:, n]
        master.add(Pattern(n, content.copy(), np.minimum(content, k.running[:, n]), True))
    pricer = ExactPricer(k)
    sign = -1 if master.place else 1  # the master minimises sign * the step's value
    target = sign * goals.value(step, best)
    bound, iterations, converged = -math.inf, 0, False
    centre: np.ndarray | None = None  # the duals with the best Lagrangian bound so far
    mip_seconds = budget.remaining() * MIP_SHARE
    while not budget.should_stop() and budget.remaining() > mip_seconds:
        solved = master.solve_lp()
        if solved is None:
            break
        value, y = solved
        iterations += 1
        at_master = master.prices(y)
        new: list[Pattern] = []
        for smoothing in (SMOOTHING, 0.0) if centre is not None else (0.0,):
            duals = smoothing * centre + (1 - smoothing) * y if smoothing else y
            priced, least = pricer.price(*master.prices(duals))
            lagrangian = master.dual_value(duals) + least
            if lagrangian > bound:
                bound, centre = lagrangian, duals
            new = [p for _, p in priced if reduced_cost(p, *at_master) < -TOLERANCE]
            if new:
                break  # else the smoothed duals mispriced: price at the master's own
        if not new or math.ceil(bound - TOLERANCE) >= target or value - bound < TOLERANCE:
            converged = (not new and pricer.exact) or value - bound < TOLERANCE
            break
        for p in new:
            master.add(p)
    lower = math.ceil(bound - TOLERANCE) if bound > -math.inf else -goals.ceiling(step) if master.place else 0
    counts = None
    if lower < target and not budget.should_stop():
        counts = master.best_plan(ctx, budget.remaining())
    natural = max(0, lower) if not master.place else min(goals.ceiling(step), -lower)
    return PatternResult(natural, counts, iterations, converged)
