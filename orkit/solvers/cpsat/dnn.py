"""DNN memory planning on CP-SAT, in two models.

- `joint_model` (fixed order): per tensor, with its use steps u_0 < ... < u_k (producer first), an
  optional residency segment for every pair a <= b of use indices, covering steps u_a..u_b at an
  offset of its own; each use is covered by exactly one chosen segment; chosen segments never
  overlap in time x address (one no-overlap on addresses per step) and, at every step, their sizes sum to at most the
  capacity (the linear form gives the bound). Cost: a read per segment after the first, a write if
  there is one. Holding a tensor only from use to use loses nothing: memory is freest that way.
  Exact for its order.
- `order_relaxation` (free order): operator positions as variables (all different, producers
  before consumers); each tensor is either kept from producer to last consumer (one interval of
  variable length) or priced as spilled, 2 x size, and resident only at its use steps; one
  cumulative over time at the capacity. Addresses are ignored and every partial spill is priced at
  its minimum, so its optimum is a lower bound over every order — and its order is a good one.

The stage: with a free order, the relaxation runs first (a third of the budget) for the bound and
an order; on a graph of more than DECOMPOSE_ABOVE operators it shares that time with the
decomposition of dnn_decompose, which orders chunks of the graph one by one. Then the joint model
runs on each candidate order (relaxation's, decomposition's, incumbent's, listed, memory-aware)
until one meets the bound. Without a capacity (peak-footprint variant) the relaxations minimise
the peak live bytes instead and the scratchpad family's canonical search places the no-spill
lifetimes of each order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.dnn import DnnMemory, MemoryPlan
from orkit.solvers.cpsat.common import CompiledCPSAT
from orkit.solvers.cpsat.dnn_decompose import CHUNK_SIZES, chunked_order

MIN_SECONDS = 0.2
RELAXATION_SHARE = 1 / 3
DECOMPOSE_ABOVE = 5 * CHUNK_SIZES[0]  # operators; larger graphs also get an order by decomposition


@dataclass(frozen=True)
class Segment:
    tensor: int
    a: int  # index of the first use covered
    b: int  # index of the last use covered
    first: int  # step of use a
    last: int  # step of use b


def segments_of(model: DnnMemory, order: np.ndarray) -> tuple[list[np.ndarray], list[Segment]]:
    uses = model.use_steps(order)
    segments = [Segment(t, a, b, int(u[a]), int(u[b]))
                for t, u in enumerate(uses) for a in range(len(u)) for b in range(a, len(u))]
    return uses, segments


def joint_model(model: DnnMemory, order: np.ndarray, hint: MemoryPlan | None = None) -> CompiledCPSAT:
    """The exact fixed-order model (needs a capacity)."""
    capacity = int(model.capacity)
    uses, segments = segments_of(model, order)
    cp = cp_model.CpModel()
    cp.name = f"{model.name}-joint"
    chosen, offsets, ys = [], [], []
    by_tensor: list[list[int]] = [[] for _ in range(model.n)]
    for k, s in enumerate(segments):
        size = int(model.sizes[s.tensor])
        y = cp.new_int_var(0, capacity - size, f"off_{s.tensor}_{s.a}_{s.b}")
        if len(uses[s.tensor]) == 1:  # used only where produced: one segment, always there
            x = 1
            ys.append(cp.new_fixed_size_interval_var(y, size, f"addr_{k}"))
        else:
            x = cp.new_bool_var(f"seg_{s.tensor}_{s.a}_{s.b}")
            ys.append(cp.new_optional_fixed_size_interval_var(y, size, x, f"addr_{k}"))
        chosen.append(x)
        offsets.append(y)
        by_tensor[s.tensor].append(k)
    cost = []
    for t, ks in enumerate(by_tensor):
        size = int(model.sizes[t])
        for i in range(len(uses[t]) if len(uses[t]) > 1 else 0):
            cp.add_exactly_one(chosen[k] for k in ks if segments[k].a <= i <= segments[k].b)
        if len(uses[t]) > 1:
            cost += [size * chosen[k] for k in ks if segments[k].a > 0]
            whole = next(k for k in ks if segments[k].a == 0 and segments[k].b == len(uses[t]) - 1)
            cost.append(size * (1 - chosen[whole]))
    # The time extents are fixed, so "no overlap in time x address" is "at every step, the chosen
    # segments there are disjoint in address": one 1-D no-overlap per distinct set of segments
    # covering a step (far cheaper for CP-SAT than a no-overlap-2D over thousands of boxes).
    covering: list[list[int]] = [[] for _ in range(model.m)]
    for k, s in enumerate(segments):
        for step in range(s.first, s.last + 1):
            covering[step].append(k)
    for ks in {tuple(ks) for ks in covering}:
        if len(ks) > 1:
            cp.add_no_overlap([ys[k] for k in ks])
        if sum(int(model.sizes[segments[k].tensor]) for k in ks) > capacity:
            cp.add(sum(int(model.sizes[segments[k].tensor]) * chosen[k] for k in ks) <= capacity)
    cp.minimize(sum(cost))
    if hint is not None and np.array_equal(hint.order, order):
        _hint_joint(cp, hint, uses, segments, chosen, offsets)

    def decode(solver: cp_model.CpSolver) -> MemoryPlan:
        picked = [k for k in range(len(segments)) if isinstance(chosen[k], int) or solver.boolean_value(chosen[k])]
        return MemoryPlan(order, [segments[k].tensor for k in picked], [segments[k].first for k in picked],
                          [segments[k].last for k in picked], [solver.value(offsets[k]) for k in picked])

    return CompiledCPSAT(cp, {"chosen": chosen, "offsets": offsets, "segments": segments}, decode,
                         lambda v: round(v), False,
                         [f"joint fixed-order model, {len(segments)} candidate segments"])


def _hint_joint(cp, hint: MemoryPlan, uses, segments, chosen, offsets) -> None:
    """Map the plan's segments onto use-index pairs (trimmed to the uses they cover)."""
    index = {(s.tensor, s.a, s.b): k for k, s in enumerate(segments)}
    on = {}
    for t, first, last, offset in zip(hint.tensor, hint.first, hint.last, hint.offset):
        u = uses[t]
        a, b = int(np.searchsorted(u, first)), int(np.searchsorted(u, last, side="right")) - 1
        if a <= b and (int(t), a, b) in index:
            on[index[(int(t), a, b)]] = int(offset)
    for k in range(len(segments)):
        if not isinstance(chosen[k], int):
            cp.add_hint(chosen[k], 1 if k in on else 0)
        if k in on:
            cp.add_hint(offsets[k], on[k])


@dataclass
class RelaxationResult:
    order: np.ndarray | None
    bound: float | None
    proven: bool


def order_relaxation(model: DnnMemory, ctx: StageContext, hint_order: np.ndarray | None,
                     ops: np.ndarray | None = None) -> RelaxationResult:
    """Solve the free-order relaxation (see the module text): its bound holds for every order.

    With `ops`, a run of consecutive operators of some topological order (a chunk), only their
    order is free: tensors made before the chunk are there from its first step, tensors used after
    it stay to its last, and one that merely passes through is kept or priced as spilled; the
    hint order says which operators run before the chunk. The chunk's optimum bounds nothing
    globally; it orders the chunk (see dnn_decompose)."""
    ops = np.arange(model.m) if ops is None else np.asarray(ops, dtype=np.int64)
    m = len(ops)
    local = np.full(model.m, -1, dtype=np.int64)  # operator -> index in the chunk
    local[ops] = np.arange(m)
    before = np.zeros(model.m, dtype=bool)  # operators that run before the chunk
    if m < model.m:
        at = np.argsort(hint_order)
        before = at < at[ops].min()
    cp = cp_model.CpModel()
    pos = [cp.new_int_var(0, m - 1, f"pos_{o}") for o in ops]
    cp.add_all_different(pos)
    for i, o in enumerate(ops):
        for t in model.op_inputs[o]:
            p = local[model.producer[t]]
            if p >= 0:
                cp.add(pos[p] < pos[i])
    intervals, demands, cost = [], [], []
    optional = []  # (keep, end, size, producer's index in the chunk or -1, users' indices, used later)
    fixed_outputs = []  # (producer's index, size)
    peak = None if model.capacity is not None else cp.new_int_var(model.largest_operator[0],
                                                                  int(model.sizes.sum()), "peak")
    for t in range(model.n):
        size = int(model.sizes[t])
        p = local[model.producer[t]]
        user_ix = [local[c] for c in model.consumers[t] if local[c] >= 0]
        users = [pos[i] for i in user_ix]
        later = any(local[c] < 0 and not before[c] for c in model.consumers[t])
        if p < 0 and not (before[model.producer[t]] and (users or later)):
            continue  # made after the chunk, or dead before it
        start = pos[p] if p >= 0 else 0
        if p >= 0 and not users and not later:  # a graph output: resident where made
            intervals.append(cp.new_fixed_size_interval_var(start, 1, f"out_{t}"))
            demands.append(size)
            fixed_outputs.append((p, size))
            continue
        ends = [u + 1 for u in users] + ([m] if later else [])
        end = cp.new_int_var(0, m, f"end_{t}")
        cp.add_max_equality(end, ends)
        length = cp.new_int_var(1, m, f"len_{t}")
        if model.capacity is None:
            intervals.append(cp.new_interval_var(start, length, end, f"keep_{t}"))
            demands.append(size)
            continue
        keep = cp.new_bool_var(f"keep_{t}")
        intervals.append(cp.new_optional_interval_var(start, length, end, keep, f"keep_{t}"))
        demands.append(size)
        for u in ([pos[p]] if p >= 0 else []) + users:
            intervals.append(cp.new_optional_fixed_size_interval_var(u, 1, ~keep, f"use_{t}"))
            demands.append(size)
        cost.append(2 * size * (1 - keep))
        optional.append((keep, end, size, p, user_ix, later))
    if peak is None:
        cp.add_cumulative(intervals, demands, int(model.capacity))
        cp.minimize(sum(cost))
    else:
        cp.add_cumulative(intervals, demands, peak)
        cp.minimize(peak)
    if hint_order is not None:
        step = np.zeros(m, dtype=np.int64)  # chunk index -> step in the hinted order
        for i, o in enumerate(o for o in hint_order if local[o] >= 0):
            cp.add_hint(pos[local[o]], i)
            step[local[o]] = i
        if model.capacity is not None:
            _hint_keeps(cp, step, optional, fixed_outputs, int(model.capacity))
    compiled = CompiledCPSAT(cp, {"pos": pos},
                             lambda s: ops[np.argsort([s.value(p) for p in pos], kind="stable")],
                             lambda v: round(v))
    outcome = compiled.run(ctx)
    order = outcome.solution
    if order is not None and m == model.m and model.order_problem(order):
        order = None
    return RelaxationResult(order, outcome.bound, outcome.status is Status.OPTIMAL)


def _hint_keeps(cp: cp_model.CpModel, step: np.ndarray, optional: list, fixed_outputs: list,
                capacity: int) -> None:
    """Complete the order hint with keep decisions that fit: all spilled fits (each step holds one
    operator's tensors), then tensors are kept greedily, most bytes saved per step held first.
    Hinting positions alone left CP-SAT without any solution on some NASNet chunks."""
    m = len(step)
    profile = np.zeros(m + 1, dtype=np.int64)
    for p, size in fixed_outputs:
        profile[step[p]] += size
    spans = []
    for _keep, _end, size, p, users, later in optional:
        points = ([step[p]] if p >= 0 else []) + [step[u] for u in users]
        for x in points:
            profile[x] += size
        first = step[p] if p >= 0 else 0
        last = max([x + 1 for x in points] + ([m] if later else []) + [first + 1])
        spans.append((first, last, points))
    by_density = sorted(range(len(optional)), key=lambda i: -optional[i][2] / (spans[i][1] - spans[i][0]))
    for i in by_density:
        keep, end, size, *_ = optional[i]
        first, last, points = spans[i]
        extra = np.full(last - first, size, dtype=np.int64)
        extra[np.asarray(points, dtype=np.int64) - first] = 0
        held = bool((profile[first:last] + extra).max() <= capacity)
        if held:
            profile[first:last] += extra
        cp.add_hint(keep, held)
        cp.add_hint(end, last)


def _peak_plan(model: DnnMemory, order: np.ndarray, ctx: StageContext) -> MemoryPlan | None:
    from orkit.solvers.exact import scratchpad as exact
    from orkit.solvers.heuristics.dnn import no_spill_instance, plan_without_spills

    placement = no_spill_instance(model, order, None)
    outcome = exact.solve(placement, replace(ctx, incumbent=None, incumbent_objective=None, params={}))
    if outcome.solution is None:
        return None
    return plan_without_spills(order, placement, outcome.solution.offsets)


def solve(model: DnnMemory, ctx: StageContext) -> Outcome:
    incumbent = ctx.incumbent
    order = model.listed_order if incumbent is None else incumbent.order
    bound, notes, orders = model.bound(), [], []
    if model.order is None:
        # without a capacity, placing an order is quick: the orders get most of the time; a large
        # graph splits that time between the whole-graph relaxation (the bound) and decomposition
        fraction = RELAXATION_SHARE if model.capacity is not None else 0.8
        large = model.m > DECOMPOSE_ABOVE
        seconds = ctx.budget.remaining() * fraction / (2 if large else 1)
        relaxed = order_relaxation(model, replace(ctx, budget=ctx.budget.slice(seconds), params={}), order)
        if relaxed.bound is not None:
            bound = max(bound, float(relaxed.bound))
        notes.append(f"order relaxation: bound {relaxed.bound}{' (proven)' if relaxed.proven else ''}")
        orders += [] if relaxed.order is None else [relaxed.order]
        if large and not ctx.budget.should_stop():
            chunked, note = chunked_order(model, order, replace(ctx, budget=ctx.budget.slice(seconds)), CHUNK_SIZES[0])
            orders.append(chunked)
            notes.append(note)
    if ctx.budget.interrupted:
        return Outcome(None, bound, Status.UNKNOWN, ctx.budget.stop_cause(), "; ".join(notes))
    if model.capacity is None:
        return _peak_plans(model, orders or [order], bound, notes, ctx)
    if model.order is not None:
        outcome = _joint(model, order, incumbent, ctx)
        if outcome.bound is not None:
            bound = max(bound, outcome.bound)
        return Outcome(outcome.solution, bound, outcome.status, outcome.stop, "; ".join([outcome.reason, *notes]))
    outcome = _free_order(model, _distinct([*orders, *candidate_orders_of(model, incumbent)]), bound, notes, ctx)
    if model.m > DECOMPOSE_ABOVE:
        outcome = _decomposition_passes(model, outcome, ctx)
    return outcome


def _decomposition_passes(model: DnnMemory, outcome: Outcome, ctx: StageContext) -> Outcome:
    """While time remains and no proof: re-order the chunks of the best plan's order, with chunk
    sizes that move the cuts, and keep the joint model's plan when it moves fewer bytes; stop
    after a round of sizes without a gain."""
    best = outcome.solution
    if best is None or outcome.status is not Status.FEASIBLE:
        return outcome
    best_cost, passes, stale = model.evaluate(best).objective, 0, 0
    while stale < len(CHUNK_SIZES) and not ctx.budget.should_stop() and ctx.budget.remaining() > MIN_SECONDS:
        size = CHUNK_SIZES[(passes + 1) % len(CHUNK_SIZES)]  # the first pass already used CHUNK_SIZES[0]
        passes += 1
        order, _ = chunked_order(model, best.order, replace(ctx, budget=ctx.budget.slice(ctx.budget.remaining() / 2)),
                                 size)
        found = _joint(model, order, None, ctx).solution
        cost = None if found is None else model.evaluate(found).objective
        if cost is not None and cost < best_cost:
            best, best_cost, stale = found, cost, 0
        else:
            stale += 1
    status = Status.OPTIMAL if best_cost <= outcome.bound else Status.FEASIBLE
    return Outcome(best, outcome.bound, status, _stop(ctx),
                   f"{outcome.reason}; {passes} more decomposition passes: {best_cost:,} bytes")


def _peak_plans(model: DnnMemory, orders: list[np.ndarray], bound: float, notes: list[str],
                ctx: StageContext) -> Outcome:
    """Place the no-spill lifetimes of each order in turn, sharing the time; keep the lowest peak."""
    best, best_peak = None, None
    for k, order in enumerate(orders):
        if ctx.budget.should_stop() or (best_peak is not None and best_peak <= bound):
            break
        share = replace(ctx, budget=ctx.budget.slice(ctx.budget.remaining() / (len(orders) - k)))
        plan = _peak_plan(model, order, share)
        peak = None if plan is None else model.evaluate(plan).objective
        if peak is not None and (best_peak is None or peak < best_peak):
            best, best_peak = plan, peak
    if best is None:
        return Outcome(None, bound, Status.UNKNOWN, _stop(ctx), "; ".join(notes))
    status = Status.OPTIMAL if best_peak <= bound else Status.FEASIBLE
    return Outcome(best, bound, status, _stop(ctx), "; ".join(notes + ["no-spill placement"]))


def _stop(ctx: StageContext) -> Stop:
    """The loops over orders end early when too little time is left to start another solve: that
    is the time limit, not a completed stage."""
    if not ctx.budget.interrupted and ctx.budget.remaining() < MIN_SECONDS:
        return Stop.TIME_LIMIT
    return ctx.budget.stop_cause()


def candidate_orders_of(model: DnnMemory, incumbent: MemoryPlan | None) -> list[np.ndarray]:
    from orkit.solvers.heuristics.dnn import candidate_orders

    return ([incumbent.order] if incumbent is not None else []) + candidate_orders(model)


def _distinct(orders: list[np.ndarray]) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for order in orders:
        if not any(np.array_equal(order, seen) for seen in out):
            out.append(order)
    return out


def _joint(model: DnnMemory, order: np.ndarray, incumbent: MemoryPlan | None, ctx: StageContext) -> Outcome:
    hint = incumbent
    if hint is None or not np.array_equal(hint.order, order):
        from orkit.solvers.heuristics.dnn import replay

        hint = replay(model, order, "window")
    return joint_model(model, order, hint).run(ctx)


def _free_order(model: DnnMemory, orders: list[np.ndarray], bound: float, notes: list[str],
                ctx: StageContext) -> Outcome:
    """The joint model on each candidate order in turn (the relaxation's first), sharing the time,
    until one meets the relaxation bound; each is exact for its own order only."""
    best, best_cost, reasons = None, None, []
    for k, order in enumerate(orders):
        proven = best_cost is not None and best_cost <= bound
        if proven or ctx.budget.should_stop() or ctx.budget.remaining() < MIN_SECONDS:
            break
        share = replace(ctx, budget=ctx.budget.slice(ctx.budget.remaining() / (len(orders) - k)),
                        incumbent=best)
        outcome = _joint(model, order, ctx.incumbent, share)
        reasons.append(f"order {k}: {outcome.reason}")
        if outcome.solution is not None:
            cost = model.evaluate(outcome.solution).objective
            if cost is not None and (best_cost is None or cost < best_cost):
                best, best_cost = outcome.solution, cost
    if best is None:
        return Outcome(None, bound, Status.UNKNOWN, _stop(ctx), "; ".join(reasons + notes))
    status = Status.OPTIMAL if best_cost <= bound else Status.FEASIBLE
    return Outcome(best, bound, status, _stop(ctx), "; ".join(reasons + notes))
