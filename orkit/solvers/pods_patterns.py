"""A pattern (Dantzig-Wolfe) bound and plan for a pod place or disrupt step, by column generation.

The class-count model's LP lets a pending pod be split over the free fragments of many nodes, so
its bounds are weak: disruption near zero, and over-subscribed clusters "fit" pods that do not.
Here every node instead chooses one whole content (a pattern: pods per class, and how many of
them were running there), and the LP mixes patterns: the Gilmore-Gomory idea for bin packing.
Its optimum, rounded, equalled the proven optimum in all 11 generated disrupt steps where one
was known, while CP-SAT's own bound stayed far below.

Pricing (the best pattern for each node at the LP's duals) is a bounded knapsack over the node's
resources, solved exactly by a compiled branch and bound, so the LP is over real patterns only.
(An earlier pricer solved a knapsack exactly on a grid with demands rounded down: always fast,
but its unreal patterns kept util >= 1.0 place steps from ever closing.) Prices come from
Wentges-smoothed duals. The patterns also feed a restricted master integer program (CP-SAT),
which often finds a far better plan than the search (disruption 20 against 120 on 32 nodes).
Where the rounded bound stays one or more below that plan, every pattern a better plan could
use is enumerated and the MIP solved over them all, which proves the optimum exactly.

A place step first looks for more pods directly: on nodes alike, a short bin-completion search refutes
ceilings out of reach in milliseconds; then a tabu search on overflow (`pods_overflow`) climbs one pod at a
time toward the ceiling, which finds the near-perfect packings column generation and its MIP miss.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from orkit.core.backend import StageContext
from orkit.core.budget import Budget
from orkit.solvers.cpsat.common import configure_run, solve_until_stopped
from orkit.solvers.exact.knapsack_kernels import bounded_knapsacks, knapsack_contents_above, partners_of
from orkit.solvers.mip.common import _highs
from orkit.solvers.pods_classes import PodClasses
from orkit.solvers.pods_fill import ceiling_out_of_reach, fill_to_ceiling, most_placed_by_totals
from orkit.solvers.pods_goals import Step, StepGoals
from orkit.solvers.pods_overflow import place_more

MIP_SHARE = 0.2  # of the budget kept for the restricted master MIP (see FIRST_MIP_SHARE)
SEARCH_NODES = 2_000  # per pricing search at first, ten times more each time a round adds nothing
# (early duals are far from the final ones, so deep early searches are mostly wasted. 1 s grid, same runs:
# 777 and 774 of 867 against 774 and 772 at 20,000; on 45 hard scenarios 500 resolved 6 against 10)
SEARCH_RATE = 5_000_000  # search nodes per second, about half the rate measured, to keep a search in its time
FIRST_MIP_SHARE = 0.8  # of the time left after column generation, for the MIP over the patterns it found
# (0.2/0.8 against 0.3/0.5: the 1 s grid resolved 753 and 754 of 867 against 748 and 750, same runs)
ENUMERATION_LIMIT = 3_000  # patterns enumerated for a proof at most: the master MIP must still solve fast
# (1 s grid, same runs: 774 of 867 against 771 at 1,000 and 769 at 10,000, whose window MIPs on 32 nodes
# ran past the window; 16/64/2/0.95/0 needs a window of 2,988 patterns, whose dive finds the optimum)
ENUMERATION_SHARE = 0.25  # of the time left, for the search enumerating one node kind's window
ENUMERATION_SECONDS = 0.5  # and at most this long (the pricing's 20,000 nodes cut short windows of a few
# dozen patterns: on 8/64/1/1.05/1 the disrupt step stayed unproven at 10 s)
FILL_SHARE = 0.25  # of the budget, for the bin-completion search on a place step's ceiling
FILL_SECONDS = 0.5  # and at most this long: the compiled search does not see a Ctrl-C
FILL_RATE = 30_000_000  # its search nodes per second at first, about half the slowest rate measured (57M,
# before a table entry was charged a quarter of a node; the retry corrects the rate either way)
MASTER_BUILD_RATE = 25_000  # patterns per second the master MIP's model is built at (1,000 took 0.04 s); with
# less time than that, it is not built: at the end of a 32/256/1/1.0 window it ran 0.04 s over
QUICK_FILL_SECONDS = 0.08  # a first bin-completion search gets a quarter of this
OVERFLOW_SHARE = 0.1  # of the budget, for the tabu search placing more of a place step's pods
SMOOTHING = 0.8  # Wentges: price at this mix of the best-bound duals and the master's, to damp the oscillation
TOLERANCE = 1e-6


@dataclass
class PatternResult:
    bound: int  # no plan at the step's holds places more (place step) or disrupts less (disrupt step)
    counts: np.ndarray | None  # [class, node] of the best plan from the restricted master, or None
    iterations: int
    converged: bool
    enumerated: int = 0  # patterns enumerated to prove the bound where column generation left a gap


@dataclass
class Pattern:
    kind: int  # the node kind (index into NodeKinds.nodes) whose nodes may take it
    content: np.ndarray  # pods per class
    stays: np.ndarray  # of them running there before (zeros where disruption does not count)


class NodeKinds:
    """Nodes the step cannot tell apart: the same free capacity and count limits and, where
    disruption counts (a disrupt step, or a disrupt step held), the same running pods. A kind is
    one convexity row of the master taken by as many patterns as it has nodes, which removes the
    symmetry between identical nodes (on one-tier place steps every node is alike)."""

    def __init__(self, k: PodClasses, disruption_counts: bool):
        keys: dict[bytes, list[int]] = {}
        for n in range(k.free.shape[0]):
            key = k.free[n].tobytes() + k.count_limits[:, n].tobytes()
            keys.setdefault(key + (k.running[:, n].tobytes() if disruption_counts else b""), []).append(n)
        self.nodes = [np.array(v, np.int64) for v in keys.values()]
        self.size = np.array([len(v) for v in self.nodes], np.int64)
        self.first = np.array([v[0] for v in self.nodes], np.int64)
        self.stay_top = np.minimum(k.count_limits, k.running)[:, self.first] if disruption_counts \
            else np.zeros((k.n, len(self.nodes)), np.int64)

    def __len__(self) -> int:
        return len(self.nodes)


class ExactPricer:
    """Least-reduced-cost node contents by branch and bound over the real capacities, so the LP is
    over real patterns only; node kinds with the same capacity and items share one search. Where a
    search hits its node limit (0.13 % of 29,000 searches in a test over the
    8-32 node grid), its root bound stands in for the exact value."""

    def __init__(self, k: PodClasses, kinds: NodeKinds, workers: int):
        self.k, self.kinds, self.workers = k, kinds, workers
        self.top = k.count_limits[:, kinds.first]  # [class, kind]
        self.capacity = np.maximum(k.free[kinds.first], 0)
        self.classes = np.concatenate([np.arange(k.n), np.arange(k.n)])  # of the items: stays, then the rest
        # a class's other pods come to a node only once every one of its pods running there stays: the
        # content with one swapped for one that stays (the same requests) costs less, so searches skip it
        self.partner = np.concatenate([np.full(k.n, -1), np.arange(k.n)]).astype(np.int64)
        self.exact = True  # the last pricing's bound is exact (every search finished)
        self.node_limit = SEARCH_NODES

    def _searches(self, u: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, list[tuple[list[int], np.ndarray]]]:
        """The items' values at prices (u, w), and the searches: the node kinds that share one
        (same capacity and items) with each item's count. Class c is two items: the pods running
        there (which stay, at u+w each, offered only when w < 0) and the rest (at u each)."""
        kinds = self.kinds
        stays = np.where(w[:, None] < 0, kinds.stay_top, 0)  # [class, kind]
        groups: dict[bytes, list[int]] = {}
        for i in range(len(kinds)):
            key = self.capacity[i].tobytes() + stays[:, i].tobytes() + self.top[:, i].tobytes()
            groups.setdefault(key, []).append(i)
        searches = [(group, np.concatenate([stays[:, group[0]], self.top[:, group[0]] - stays[:, group[0]]]))
                    for group in groups.values()]
        return -np.concatenate([u + np.minimum(w, 0.0), u]), searches

    def _content(self, x: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pods per class, of them staying) of a search's solution x over `items`."""
        n = self.k.n
        content = np.zeros(n, np.int64)
        np.add.at(content, self.classes[items], x)
        kept = np.zeros(n, np.int64)
        kept[items[items < n]] = x[items < n]
        return content, kept

    def price(self, u: np.ndarray, w: np.ndarray, mu: np.ndarray) -> tuple[list[Pattern], np.ndarray]:
        """Per node kind, the best real pattern found; and per kind a lower bound on a node's least
        reduced cost (exact where the search finished)."""
        value, searches = self._searches(u, w)
        groups = [group for group, _ in searches]
        floors = np.array([max(0.0, -float(mu[group].max())) for group in groups])
        counts = np.array([count for _, count in searches])
        capacities = self.capacity[[group[0] for group in groups]]
        xs, best, upper = bounded_knapsacks(value, counts, self.k.demand[self.classes], capacities, floors,
                                            self.node_limit, TOLERANCE, self.workers, self.partner)
        self.exact = bool((upper <= best).all())
        n = self.k.n
        contents, kept = xs[:, :n] + xs[:, n:], xs[:, :n]
        found = [Pattern(i, content, stays) for group, content, stays in zip(groups, contents, kept) for i in group]
        least = np.zeros(len(self.kinds))
        for group, most in zip(groups, upper):
            least[group] = np.minimum(0.0, -most - mu[group])  # no content is worth more than `most`
        return found, least

    def within(self, u: np.ndarray, w: np.ndarray, mu: np.ndarray, limit: np.ndarray,
               most: int, budget: Budget) -> list[Pattern] | None:
        """Every pattern with reduced cost at most limit[kind] (keeping as many running pods as
        its content allows), or None when there are more than `most`, a search outgrows its share
        of the budget or the budget stops."""
        value, searches = self._searches(u, w)
        found: list[Pattern] = []
        for group, count in searches:
            if budget.should_stop():  # each search may take up to ENUMERATION_SECONDS, blind to a Ctrl-C
                return None
            items = np.flatnonzero(count > 0)
            floor = float((-mu[group] - limit[group]).min()) - TOLERANCE
            xs, complete = knapsack_contents_above(value[items], count[items], self.k.demand[self.classes[items]],
                                                   self.capacity[group[0]], floor, most - len(found),
                                                   max(self.node_limit, compiled_search_nodes(
                                                       budget, ENUMERATION_SHARE, ENUMERATION_SECONDS, SEARCH_RATE)),
                                                   partners_of(items, self.partner))
            if not complete:
                return None
            for x in xs:
                content, kept = self._content(x, items)
                if (kept < np.minimum(content, count[: self.k.n])).any():
                    continue  # the same content keeping more of its running pods costs less (the search
                    # skips these, except where pods of no requests tie with their partner in its order)
                cost = float(u @ content + w @ kept)
                found += [Pattern(i, content, kept) for i in group if cost - mu[i] <= limit[i] + TOLERANCE]
        return found


class PatternMaster:
    """The pattern LP of one place or disrupt step: one convex choice per node, class sizes, moves
    per class, the holds of earlier steps, and the step's pods placed or disruption as objective."""

    def __init__(self, goals: StepGoals, holds: list[tuple[Step, int]], step: Step):
        highspy = _highs()
        k = goals.k
        self.k = k
        self.kinds = NodeKinds(k, step.kind == "disrupt" or any(held.kind == "disrupt" for held, _ in holds))
        n_kinds, C = len(self.kinds), k.n
        self.n_kinds = n_kinds
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
        h.setOptionValue("simplex_strategy", 4)  # primal: a master with new columns stays primal feasible. On
        # the 32/256/1/0.95/7 disrupt step column generation converged in 38 iterations and 0.46 s against 66
        # and 1.07 s with HiGHS's choice (dual), its LPs taking 64 ms in all against 358 ms
        inf = highspy.kHighsInf
        size = self.kinds.size.astype(float)
        lower = np.concatenate([size, np.full(C, -inf), -k.pending.astype(float),
                                [float(v) if held.kind == "place" else -inf for held, v in holds]])
        upper = np.concatenate([size, k.size.astype(float), np.full(C, inf),
                                [inf if held.kind == "place" else float(v - running[self.in_hold[i]].sum())
                                 for i, (held, v) in enumerate(holds)]])
        self.lower, self.upper = lower, upper
        h.addRows(len(lower), lower, upper, 0, np.zeros(len(lower), np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.move_row, self.hold_row = n_kinds + C, n_kinds + 2 * C
        for c in range(C):  # moves[c] >= placed - stays - pending, counted in disrupt holds and the objective
            held = np.flatnonzero(self.in_hold[:, c] & ~self.place_hold)
            rows = [self.move_row + c, *(self.hold_row + held)]
            h.addCol(0.0 if self.place else float(self.objective[c]), 0, inf, len(rows), np.array(rows, np.int32),
                     np.ones(len(rows)))
        self.patterns: list[Pattern] = []
        self.index: dict[tuple[int, bytes, bytes], int] = {}  # of each pattern in `patterns`

    def add(self, p: Pattern) -> bool:
        """Add the pattern unless the master has it: whether it was new."""
        key = (p.kind, p.content.tobytes(), p.stays.tobytes())
        if key in self.index:
            return False
        self.index[key] = len(self.patterns)
        rows = [p.kind]
        values = [1.0]
        for c in np.flatnonzero(p.content):
            rows.append(self.n_kinds + c)
            values.append(float(p.content[c]))
        for c in np.flatnonzero(p.content - p.stays):
            rows.append(self.move_row + c)
            values.append(-float(p.content[c] - p.stays[c]))
        for i in range(len(self.place_hold)):
            v = p.content[self.in_hold[i]].sum() if self.place_hold[i] else -p.stays[self.in_hold[i]].sum()
            if v:
                rows.append(self.hold_row + i)
                values.append(float(v))
        gain = p.content if self.place else p.stays
        self.h.addCol(-float(gain[self.objective].sum()), 0, _highs().kHighsInf, len(rows),
                      np.array(rows, np.int32), np.array(values))
        self.patterns.append(p)
        return True

    def add_plan(self, counts: np.ndarray) -> np.ndarray:
        """Add the node contents of plan `counts` ([class, node]), each node keeping as many of its
        running pods as it can; return how many nodes take each of the master's patterns in that plan."""
        taken: dict[int, int] = {}
        for i, nodes in enumerate(self.kinds.nodes):
            contents, used = np.unique(counts[:, nodes].T, axis=0, return_counts=True)
            for content, n in zip(contents, used):
                p = Pattern(i, content, np.minimum(content, self.kinds.stay_top[:, i]))
                self.add(p)
                taken[self.index[(i, p.content.tobytes(), p.stays.tobytes())]] = int(n)
        uses = np.zeros(len(self.patterns), np.int64)
        uses[list(taken)] = list(taken.values())
        return uses

    def solve_lp(self) -> tuple[float, np.ndarray] | None:
        """(LP value, row duals) of the restricted master, or None."""
        h = self.h
        h.run()
        if h.getModelStatus() != _highs().HighsModelStatus.kOptimal:
            return None
        return h.getInfo().objective_function_value + self.constant, np.asarray(h.getSolution().row_dual)

    def dive(self, budget: Budget) -> np.ndarray | None:
        """Nodes taking each pattern in a plan found by diving on the LP, or None: while some pattern is
        taken by a fractional number of nodes, the one closest below its next whole number must be taken by
        at least that many, and the LP is solved again; where that leaves no LP solution, by at most the
        whole number below instead. A dive takes 0.01-0.05 s. On 32/256/4/1.0/4 it found both MIP steps' optima
        (disruption 53 at the bound), and on 32/128/1/0.95/7 a plan at 38 against the incumbent's 48,
        from which CP-SAT proved 34 in 0.53 s against 1.02 s. (Undoing earlier choices depth first
        found more plans but cost more time: 3 s window on 30 hard scenarios, 19.0 s against 17.2 s.)"""
        h, first, inf = self.h, self.k.n, _highs().kHighsInf
        changed: list[int] = []
        last: tuple[int, float] | None = None  # the pattern raised last and its LP value before
        try:
            for _ in range(2 * int(self.kinds.size.sum()) + 1):  # a raise, or an undone one, per node
                if budget.should_stop():
                    break
                h.run()
                if h.getModelStatus() != _highs().HighsModelStatus.kOptimal:
                    if last is None:
                        return None
                    j, value = last
                    h.changeColBounds(first + j, 0.0, float(math.floor(value)))
                    last = None
                    continue
                values = np.asarray(h.getSolution().col_value)[first:]
                fraction = values - np.floor(values)
                fraction[fraction > 1 - TOLERANCE] = 0.0
                if len(values) == 0 or fraction.max() < TOLERANCE:
                    return np.rint(values).astype(np.int64) if len(values) else None
                j = int(np.argmax(fraction))
                h.changeColBounds(first + j, float(math.ceil(values[j])), inf)
                changed.append(j)
                last = (j, float(values[j]))
            return None
        finally:
            for j in changed:
                h.changeColBounds(first + j, 0.0, inf)

    def prices(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(u, w, mu) at row duals y: a pattern's reduced cost is u*content + w*stays - mu[node]."""
        C = self.k.n
        mu, y_size, y_move, y_hold = (y[: self.n_kinds], y[self.n_kinds: self.n_kinds + C],
                                      y[self.move_row: self.hold_row], y[self.hold_row:])
        u = -y_size + y_move - (self.in_hold & self.place_hold[:, None]).T @ y_hold - self.place * self.objective
        w = -y_move - (not self.place) * self.objective + (self.in_hold & ~self.place_hold[:, None]).T @ y_hold
        return u, w, mu

    def dual_value(self, y: np.ndarray) -> float:
        """The dual objective at row duals y (each row's bound on the side its dual's sign binds).
        Plus every node's least reduced cost, it is the Lagrangian bound at y; at the master's own
        duals it equals the LP value."""
        active = np.where(y > 0, self.lower, self.upper)
        finite = np.isfinite(active)  # an infinite side binds only under a rounding-noise dual, taken as 0
        if (np.abs(y[~finite]) >= TOLERANCE * 0.1).any():
            return -math.inf
        return float(y[finite] @ active[finite]) + self.constant

    def best_plan(self, ctx: StageContext, seconds: float, start: np.ndarray,
                  most: int | None = None) -> tuple[np.ndarray | None, bool, float]:
        """The restricted master as an integer program over the patterns found, solved by CP-SAT
        (on these masters it finds and proves the optimum 5-8x faster than HiGHS's MIP, whose time
        went into root cuts) with `start` (nodes taking each pattern, a plan meeting every row) as
        hint: (nodes taking each pattern in the best plan found, or None; whether it is optimal over
        these patterns; its objective, infinite when none is at most `most`).

        With `most`, plans worth more are cut off. A window's MIP asks only whether a plan is worth
        at most its bound plus a granule, and the cut lets CP-SAT prune from the start instead of
        from the far-off hint: over 38 window masters of hard grid scenarios, 12.5 s against 17.6 s
        in all (8/64/1/1.05/0: 0.28 s against 1.96 s)."""
        if seconds * MASTER_BUILD_RATE < len(self.patterns):
            return None, False, math.nan  # no time even to build it
        lp, first = self.h.getLp(), self.k.n
        columns = lp.num_col_
        start = np.concatenate([start, np.zeros(len(self.patterns) - len(start), np.int64)])
        moved = sum(used * (self.patterns[j].content - self.patterns[j].stays) for j, used in enumerate(start))
        hint = np.concatenate([np.maximum(0, moved - self.k.pending), start])
        top = np.concatenate([self.k.size, self.kinds.size[[p.kind for p in self.patterns]]])
        cp = cp_model.CpModel()
        x = [cp.new_int_var(0, int(t), "") for t in top]
        for var, value in zip(x, hint):
            cp.add_hint(var, int(value))
        matrix = lp.a_matrix_
        row_of = np.asarray(matrix.index_)
        col_of = np.repeat(np.arange(columns), np.diff(np.asarray(matrix.start_)))
        coefficient = np.rint(np.asarray(matrix.value_)).astype(np.int64)
        by_row = np.argsort(row_of, kind="stable")
        bounds = np.searchsorted(row_of[by_row], np.arange(lp.num_row_ + 1))
        for r in range(lp.num_row_):
            entries = by_row[bounds[r]: bounds[r + 1]]
            if len(entries) == 0:
                continue
            total = cp_model.LinearExpr.weighted_sum([x[c] for c in col_of[entries]], coefficient[entries].tolist())
            low, high = self.lower[r], self.upper[r]
            cp.add_linear_constraint(total, int(low) if np.isfinite(low) else -(2**62),
                                     int(high) if np.isfinite(high) else 2**62)
        cost = cp_model.LinearExpr.weighted_sum(x, np.rint(np.asarray(lp.col_cost_)).astype(np.int64).tolist())
        cp.minimize(cost)
        if most is not None:
            cp.add(cost <= most - round(self.constant))
        solver = cp_model.CpSolver()
        configure_run(solver, ctx, seconds)  # not the user's parameters: they may be another backend's
        solver.parameters.cp_model_presolve = False  # on a 183-pattern master (32 nodes), presolve and probing
        solver.parameters.cp_model_probing_level = 0  # took 0.55 of the 0.58 s to its optimum; 0.04 s without
        code = solve_until_stopped(solver, cp, ctx)
        if code == cp_model.INFEASIBLE and most is not None:
            return None, True, math.inf
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, False, math.nan
        uses = np.array([solver.value(v) for v in x[first:]], np.int64)
        return uses, code == cp_model.OPTIMAL, solver.objective_value + self.constant

    def plan(self, uses: np.ndarray) -> np.ndarray:
        """[class, node] counts of a choice of patterns (how many nodes of its kind take each)."""
        counts = np.zeros((self.k.n, self.k.free.shape[0]), np.int64)
        taken = np.zeros(self.n_kinds, np.int64)
        for j in np.flatnonzero(uses > 0):
            p = self.patterns[j]
            nodes = self.kinds.nodes[p.kind][taken[p.kind]: taken[p.kind] + uses[j]]
            counts[:, nodes] = p.content[:, None]
            taken[p.kind] += uses[j]
        return counts


def compiled_search_nodes(budget: Budget, share: float, seconds: float, rate: float) -> int:
    """Search nodes a compiled search may take: `share` of the time left, at most `seconds` (it does
    not see a Ctrl-C), at `rate` nodes per second."""
    return int(min(budget.remaining() * share, seconds) * rate)


def reduced_cost(p: Pattern, u: np.ndarray, w: np.ndarray, mu: np.ndarray) -> float:
    return float(u @ p.content + w @ p.stays) - float(mu[p.kind])


def value_granule(goals: StepGoals, holds: list[tuple[Step, int]], step: Step) -> int:
    """2 for a disrupt step whose tier's place hold places every pod of its classes: nobody can
    be evicted, each move costs 2, so the disruption is even and a bound rounds up to the next
    even number (on 32 nodes at util 0.9 that closes steps with plan 2 or 4 against an LP of 1.x
    or 3.x); else 1."""
    if step.kind != "disrupt":
        return 1
    everyone = int(goals.k.size[goals.members(step)].sum())
    return 2 if any(held.kind == "place" and held.tier == step.tier and value >= everyone
                    for held, value in holds) else 1


def _fill_ceiling(goals: StepGoals, holds: list[tuple[Step, int]], members: np.ndarray, placed: int, top: int,
                  budget: Budget) -> tuple[int, np.ndarray | None]:
    """Bin completion on a place step's ceiling `top` over nodes alike: (the ceiling, lowered by one
    for each refutation, and a plan placing it that keeps every hold, or None). Stops at `placed`
    (the best plan's value) or when its share of the budget is spent.

    The search counts nodes, not seconds, and their cost varies several-fold between clusters, so the
    first search assumes the slow FILL_RATE; one that gives up is run again, deeper, at the rate it
    measured, for what is left of its share (8/64/1/1.05/6: 62 found in 6.9M nodes, where the 1 s
    window's first 3.7M took 0.04 s of its 0.12 s). The search for a ceiling one lower, over other
    left-out sets, starts from FILL_RATE again."""
    share = budget.slice(min(budget.remaining() * FILL_SHARE, FILL_SECONDS))
    rate = FILL_RATE
    search_nodes = int(share.remaining() * rate)
    while placed < top and search_nodes > 0 and not share.should_stop():
        started = time.perf_counter()
        counts, refuted, used = fill_to_ceiling(goals.k, members, top, search_nodes)
        if counts is not None and all(goals.sign(held) * (goals.value(held, counts) - value) >= 0
                                      for held, value in holds):
            return top, counts
        if refuted:
            top -= 1
            rate = FILL_RATE  # a rate measured on one ceiling's left-out sets says little about the next's
        elif counts is not None or used < search_nodes:
            break  # a plan that breaks a hold, or no claim (too many left-out sets, or nodes not alike)
        else:  # gave up: search again if the rate it measured lets it go deeper
            rate = used / max(time.perf_counter() - started, 1e-3)
            if share.remaining() * rate <= search_nodes:
                break
        search_nodes = int(share.remaining() * rate)
    return top, None


def pattern_search(goals: StepGoals, holds: list[tuple[Step, int]], step: Step, best: np.ndarray,
                   ctx: StageContext, budget: Budget) -> PatternResult:
    """Column generation for a place or disrupt step from the plan `best` (which meets every hold),
    then the restricted master MIP. The bound is the best Lagrangian bound seen (the dual objective
    at the priced duals plus every node's least reduced cost there), valid at every iteration, so
    stopping early keeps it honest."""
    master = PatternMaster(goals, holds, step)
    kinds = master.kinds
    top = goals.ceiling(step)  # a place step's own bound: every placeable pod of the step placed
    members = goals.members(step)
    climbed = None  # a place step's plan from the overflow search, when better than `best`
    if step.kind == "place":
        top = min(top, most_placed_by_totals(goals.k, members))
        placed = goals.value(step, best)
        if len(kinds) > 1 and placed < top == int(goals.k.size[members].sum()) \
                and ceiling_out_of_reach(goals.k, members, kinds.first):  # on nodes alike, bin completion decides
            top -= 1
        counts = None
        if len(kinds) == 1 and placed < top:  # refutations come fast: no climb to a ceiling they rule out
            top, counts = _fill_ceiling(goals, holds, members, placed, top, budget.slice(QUICK_FILL_SECONDS))
        if counts is None and placed < top:
            climbed = place_more(goals, holds, step, best, top, budget.slice(budget.remaining() * OVERFLOW_SHARE))
            if climbed is not None:
                best, placed = climbed, goals.value(step, climbed)
        if counts is None and len(kinds) == 1 and placed < top:
            top, counts = _fill_ceiling(goals, holds, members, placed, top, budget)
        if counts is not None or placed >= top:
            return PatternResult(top, counts if counts is not None else climbed, 0, True)
    start = master.add_plan(best)
    pricer = ExactPricer(goals.k, kinds, ctx.workers)
    sign = -1 if master.place else 1  # the master minimises sign * the step's value
    target = sign * goals.value(step, best)
    granule = value_granule(goals, holds, step)

    def round_up(v: float) -> int:  # the least value a plan can have at or above v
        return granule * math.ceil((v - TOLERANCE) / granule)
    bound, iterations, converged = -math.inf, 0, False
    centre: np.ndarray | None = None  # the duals with the best Lagrangian bound so far
    centre_least = np.zeros(len(kinds))  # and a lower bound on each kind's least reduced cost there
    mip_seconds = budget.remaining() * MIP_SHARE
    while not budget.should_stop():
        solved = master.solve_lp()
        if solved is None:
            break
        value, y = solved
        if budget.remaining() <= mip_seconds and round_up(value) < target:
            break  # keep the time for the MIP, which may find a better plan among these patterns
        iterations += 1
        at_master = master.prices(y)
        new: list[Pattern] = []
        for smoothing in (SMOOTHING, 0.0) if centre is not None else (0.0,):
            duals = smoothing * centre + (1 - smoothing) * y if smoothing else y
            priced, least = pricer.price(*master.prices(duals))
            lagrangian = master.dual_value(duals) + float(kinds.size @ least)
            if lagrangian > bound:
                bound, centre, centre_least = lagrangian, duals, least
            new = [p for p in priced if reduced_cost(p, *at_master) < -TOLERANCE and master.add(p)]
            if new:
                break  # else the smoothed duals mispriced: price at the master's own
        if not new and not pricer.exact and pricer.node_limit < budget.remaining() * SEARCH_RATE:
            pricer.node_limit = int(min(10 * pricer.node_limit, budget.remaining() * SEARCH_RATE))
            continue  # searches cut short found nothing: search deeper rather than stop short of the bound
        if not new or round_up(bound) >= target or value - bound < TOLERANCE:
            converged = (not new and pricer.exact) or value - bound < TOLERANCE
            break
    lower = round_up(bound) if bound > -math.inf else -top if master.place else 0
    counts, enumerated, uses = None, 0, start

    def widen() -> list[Pattern] | None:
        """Every pattern a plan worth `lower` may use (see below), added to the master; None when too many."""
        patterns = None if centre is None else \
            pricer.within(*master.prices(centre), centre_least + (lower - bound), ENUMERATION_LIMIT, budget)
        for p in patterns or []:
            master.add(p)
        return patterns

    # A disrupt step's window comes first: on 16/128/1/1.0/1 the MIP over column generation's patterns alone,
    # hinted from a plan far above the bound, took 2.5 s to disruption 91; over the window it found the
    # optimum, 25, in 0.35 s. (Same-run 1 s grid: 761 and 764 resolved against 760 and 760.)
    window = widen() if lower < target and not master.place else None
    while lower < target and not budget.should_stop():
        # The first MIP of a place step is over the patterns column generation found (a good plan, fast);
        # each later one also over a window of patterns that makes it a proof. Any plan's value is at least
        # the dual objective at the duals plus its columns' reduced costs: the move columns' are not negative
        # there (the duals mix the master's optimal ones) and each node's pattern's is at least its kind's
        # least. So a plan worth `lower` only uses patterns within lower - bound of their kind's least: with
        # every one of those in the master, its MIP either finds such a plan (the optimum) or proves there
        # is none (the bound rises by a granule). Plans worth more than one granule above are cut off: they
        # prove nothing, and the cut sped the proofs up (3 s window, the 30 unresolved 1 s scenarios outside
        # the 7 out-of-reach families: 13 resolved against 9, same run; the 1 s grid is unchanged).
        dived = master.dive(budget)  # often the optimum already, and else a better hint for the MIP
        if dived is not None and sign * goals.value(step, plan := master.plan(dived)) < target:
            uses, counts, target = dived, plan, sign * goals.value(step, plan)
            if lower >= target:
                break
        found, optimal, objective = master.best_plan(
            ctx, budget.remaining() * (1.0 if window is not None else FIRST_MIP_SHARE), uses,
            lower + granule if window is not None else None)
        if found is not None:
            uses, counts = found, master.plan(found)
            target = min(target, sign * goals.value(step, counts))
        if window is not None:
            if not optimal:
                break  # the MIP ran out of time: no proof
            enumerated += len(window)
            if objective > lower:
                lower += granule
            else:
                lower = target  # the MIP's plan is worth `lower`: optimal
        elif not master.place:
            break  # the window at this `lower` had too many patterns already
        if lower >= target or budget.should_stop():
            break
        window = widen()
        if window is None:
            break  # too many patterns to enumerate
    if enumerated and lower < target and not budget.should_stop():
        # The windows' MIPs, cut off above the bound, leave the plan as it was: the best plan over all the
        # patterns they brought (8/64/1/1.05/2 at 10 s: disruption 28 where the plan stayed at 58 without)
        found, _, _ = master.best_plan(ctx, budget.remaining() * FIRST_MIP_SHARE, uses)
        if found is not None and sign * goals.value(step, plan := master.plan(found)) < target:
            counts = plan
    natural = max(0, lower) if not master.place else min(top, -lower)
    return PatternResult(natural, counts if counts is not None else climbed, iterations, converged, enumerated)
