"""Schedule generation schemes for RCPSP: serial and parallel, with forward-backward improvement.

The kernels work on a prepared `SGSInstance` (arcs as start-to-start lags, a capacity profile over
time), so the same code schedules the project forward and its mirror image backward.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from orkit.models.rcpsp import NO_DEADLINE, RCPSP


@dataclass
class SGSInstance:
    """Arrays a schedule generation scheme needs; built once per model (or per mirror)."""

    durations: np.ndarray
    demands: np.ndarray
    profile: np.ndarray  # (R, H) capacity per time unit
    in_arcs: list[list[tuple[int, int]]]  # j -> [(i, lag)]: S_j >= S_i + lag
    out_arcs: list[list[tuple[int, int]]]  # i -> [(j, lag)]
    release: np.ndarray
    latest_start: np.ndarray  # from deadlines; NO_DEADLINE when absent
    partners: list[list[int]]  # disjunctive partners
    order_preds: list[list[int]]  # predecessors an activity list must respect
    uses: list[np.ndarray]  # resources each activity demands
    mirror: SGSInstance | None = None  # the time-reversed project, built on first use

    @property
    def n(self) -> int:
        return len(self.durations)

    @property
    def horizon(self) -> int:
        return self.profile.shape[1]


def _build(durations, demands, profile, arcs, release, latest_start, disjunctive) -> SGSInstance:
    n = len(durations)
    in_arcs: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    out_arcs: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    order_preds: list[list[int]] = [[] for _ in range(n)]
    for i, j, lag in arcs:
        i, j, lag = int(i), int(j), int(lag)
        in_arcs[j].append((i, lag))
        out_arcs[i].append((j, lag))
    partners: list[list[int]] = [[] for _ in range(n)]
    for i, j in disjunctive:
        partners[int(i)].append(int(j))
        partners[int(j)].append(int(i))
    uses = [np.flatnonzero(demands[j] > 0) for j in range(n)]
    return SGSInstance(np.asarray(durations), np.asarray(demands), profile, in_arcs, out_arcs,
                       np.asarray(release), np.asarray(latest_start), partners, order_preds, uses)


def forward_instance(model: RCPSP, horizon: int | None = None) -> SGSInstance:
    horizon = horizon or model.horizon_upper_bound
    inst = _build(model.durations, model.demands, model.capacity_profile(horizon + 1), model.arcs,
                  model.releases, np.where(model.due >= NO_DEADLINE, NO_DEADLINE, model.due - model.durations),
                  model.disjunctive)
    # an activity list must respect precedences and positive lags (acyclic unless infeasible)
    for i, j in model.precedences:
        inst.order_preds[int(j)].append(int(i))
    for i, j, lag in model.time_lags:
        if lag > 0:
            inst.order_preds[int(j)].append(int(i))
    return inst


def mirrored_arcs(model: RCPSP) -> np.ndarray:
    """The model's start-to-start arcs in reversed time (start' = makespan - end): (j, i, lag + d_j - d_i)."""
    d, arcs = model.durations, model.arcs
    if not len(arcs):
        return arcs
    return np.column_stack([arcs[:, 1], arcs[:, 0], arcs[:, 2] + d[arcs[:, 1]] - d[arcs[:, 0]]])


def mirrored_profile(model: RCPSP, profile: np.ndarray, makespan: int) -> np.ndarray:
    """Capacity over reversed time at `makespan`; full capacity beyond it (before time 0)."""
    tail = np.repeat(model.capacities[:, None], profile.shape[1], axis=1)
    return np.ascontiguousarray(np.concatenate([profile[:, :makespan][:, ::-1], tail], axis=1))


def mirror_instance(model: RCPSP, forward: SGSInstance, makespan: int) -> SGSInstance:
    """The project reversed in time at `makespan`: finishing late there means starting early here.

    The arcs of the mirror are built once per forward instance; only the profile changes.
    """
    skeleton = forward.mirror
    if skeleton is None:
        skeleton = _build(model.durations, model.demands, forward.profile, mirrored_arcs(model),
                          np.zeros(model.n, dtype=np.int64),
                          np.full(model.n, NO_DEADLINE, dtype=np.int64), model.disjunctive)
        for j, preds in enumerate(forward.order_preds):
            for i in preds:
                skeleton.order_preds[i].append(j)
        forward.mirror = skeleton
    if not model.downtimes:
        return skeleton  # a constant profile is its own mirror image
    return replace(skeleton, profile=mirrored_profile(model, forward.profile, makespan))


def _first_fit(avail: np.ndarray, uses: np.ndarray, need: np.ndarray, dj: int, lo: int, hi: int,
               blocked: list[tuple[int, int]]) -> int:
    """Earliest t in [lo, hi] where [t, t + dj) has the capacity and hits no blocked interval.

    Tests a window of candidate starts at once (a sliding sum over the shortage mask) and widens the
    window only when it holds no feasible start: a few numpy calls per activity instead of one per try.
    """
    width = max(4 * dj, 32)
    while lo <= hi:
        last = min(hi, lo + width)
        segment = avail[uses, lo:last + dj]
        short = (segment < need).any(axis=0) if len(uses) else np.zeros(last + dj - lo, dtype=bool)
        for b_start, b_end in blocked:  # a partner's time units are as unusable as missing capacity
            short[max(b_start - lo, 0):max(b_end - lo, 0)] = True
        windows = np.concatenate(([0], np.cumsum(short)))
        clear = windows[dj:] - windows[:-dj] == 0
        found = np.flatnonzero(clear[: last - lo + 1])
        if len(found):
            return lo + int(found[0])
        lo = last + 1
        width *= 2
    return -1


def serial_sgs(inst: SGSInstance, order: list[int] | np.ndarray) -> np.ndarray | None:
    """Schedule activities one by one in `order`, each at its earliest feasible start.

    Returns start times, or None when some activity has no feasible start (deadlines or
    maximum lags can make a list infeasible; the caller tries another list).
    """
    d, q, horizon = inst.durations, inst.demands, inst.horizon
    avail = inst.profile.copy()
    starts = np.full(inst.n, -1, dtype=np.int64)
    for j in order:
        dj = int(d[j])
        lo = int(inst.release[j])
        hi = min(int(inst.latest_start[j]), horizon - dj)
        for i, lag in inst.in_arcs[j]:
            if starts[i] >= 0 and starts[i] + lag > lo:
                lo = int(starts[i] + lag)
        for k, lag in inst.out_arcs[j]:
            if starts[k] >= 0 and starts[k] - lag < hi:
                hi = int(starts[k] - lag)
        uses = inst.uses[j]
        t = lo
        if dj > 0 and lo <= hi:
            blocked = [(int(starts[p]), int(starts[p] + d[p])) for p in inst.partners[j] if starts[p] >= 0 and d[p]]
            if len(uses) or blocked:
                t = _first_fit(avail, uses, q[j, uses][:, None], dj, lo, hi, blocked)
        if t > hi or t < 0:
            return None
        starts[j] = t
        if dj > 0 and len(uses):
            avail[uses, t:t + dj] -= q[j, uses][:, None]
    return starts


def parallel_sgs(inst: SGSInstance, priority: np.ndarray) -> np.ndarray | None:
    """Time-incrementing scheme: at each decision time start every eligible activity that fits,
    best priority (lowest value) first. Only for instances without maximum time lags."""
    d, q, n = inst.durations, inst.demands, inst.n
    avail = inst.profile.copy()
    starts = np.full(n, -1, dtype=np.int64)
    remaining_preds = np.array([len(inst.in_arcs[j]) for j in range(n)])
    ready_time = inst.release.astype(np.int64).copy()  # earliest start once all preds are scheduled
    candidates = sorted(range(n), key=lambda j: (priority[j], j))
    pending = set(range(n))
    breakpoints = sorted({int(t) for t in np.flatnonzero(np.diff(inst.profile, axis=1).any(axis=0)) + 1})
    t = 0
    while pending:
        for j in candidates:
            if j not in pending or remaining_preds[j] or ready_time[j] > t:
                continue
            dj = int(d[j])
            if t > inst.latest_start[j] or t + dj > inst.horizon:
                return None
            uses = inst.uses[j]
            if dj > 0 and len(uses) and (avail[uses, t:t + dj] < q[j, uses][:, None]).any():
                continue
            if dj > 0 and any(
                starts[p] >= 0 and d[p] > 0 and starts[p] < t + dj and t < starts[p] + d[p] for p in inst.partners[j]
            ):
                continue
            starts[j] = t
            pending.discard(j)
            if dj > 0 and len(uses):
                avail[uses, t:t + dj] -= q[j, uses][:, None]
            for k, lag in inst.out_arcs[j]:
                remaining_preds[k] -= 1
                ready_time[k] = max(ready_time[k], t + lag)
        if not pending:
            break
        events = [int(starts[j] + d[j]) for j in range(n) if starts[j] >= 0 and starts[j] + d[j] > t]
        events += [int(ready_time[j]) for j in pending if ready_time[j] > t]
        events += [b for b in breakpoints if b > t][:1]
        if not events:
            return None
        t = min(events)
    return starts


def activity_list(inst: SGSInstance, priority: np.ndarray, rng: np.random.Generator | None = None,
                  bias: float = 2.0) -> list[int]:
    """A precedence-feasible list: repeatedly take the best eligible activity.

    With `rng`, regret-biased random sampling: an eligible activity is drawn with probability
    proportional to (regret + 1) ** bias, regret measured against the worst eligible priority.
    """
    n = inst.n
    missing = np.array([len(p) for p in inst.order_preds])
    succ: list[list[int]] = [[] for _ in range(n)]
    for j, preds in enumerate(inst.order_preds):
        for i in preds:
            succ[i].append(j)
    eligible = [j for j in range(n) if missing[j] == 0]
    order = []
    while eligible:
        if rng is None:
            pick = min(range(len(eligible)), key=lambda k: (priority[eligible[k]], eligible[k]))
        else:
            values = priority[eligible].astype(float)
            weights = (values.max() - values + 1.0) ** bias
            pick = int(rng.choice(len(eligible), p=weights / weights.sum()))
        j = eligible.pop(pick)
        order.append(j)
        for k in succ[j]:
            missing[k] -= 1
            if missing[k] == 0:
                eligible.append(k)
    return order


def topological_rank(inst: SGSInstance) -> np.ndarray:
    rank = np.zeros(inst.n, dtype=np.int64)
    for position, j in enumerate(activity_list(inst, np.zeros(inst.n))):
        rank[j] = position
    return rank


def forward_backward(model: RCPSP, inst: SGSInstance, starts: np.ndarray, rank: np.ndarray,
                     max_passes: int = 4) -> np.ndarray:
    """Forward-backward improvement (justification): right-justify, then left-justify, repeat."""
    best = starts
    best_makespan = int((starts + model.durations).max())
    for _ in range(max_passes):
        ends = best + model.durations
        mirror = mirror_instance(model, inst, best_makespan)
        back_order = sorted(range(model.n), key=lambda j: (-ends[j], -rank[j]))
        back = serial_sgs(mirror, back_order)
        if back is None:
            break
        forward_starts = -(back + model.durations)  # relative start times, order only matters
        order = sorted(range(model.n), key=lambda j: (forward_starts[j], rank[j]))
        candidate = serial_sgs(inst, order)
        if candidate is None:
            break
        makespan = int((candidate + model.durations).max())
        if makespan >= best_makespan:
            break
        best, best_makespan = candidate, makespan
    return best
