"""DNN memory planning heuristics: operator orders, and a step-by-step replay that places tensors
and spills when the scratchpad is full.

- `memory_aware_order`: a topological order built greedily, running next the ready operator that
  leaves the fewest bytes alive (ties: the file's order). Only for the free-order variant.
- `replay(model, order, policy)`: runs the operators in order; each needs its inputs and outputs
  resident. A tensor is placed best-fit into a free hole; when none fits, resident tensors not
  needed by the running operator are evicted. Policy "furthest" evicts by furthest next use until a
  hole fits (Belady's rule with best-fit placement: the baseline the field uses). Policy "window"
  chooses the address window whose evictions cost the fewest off-chip bytes (a tensor already
  written to host costs one read, a fresh one a write and a read), furthest next use breaking ties.
- Without spills (no capacity, or everything fits), the no-spill lifetimes are a buffer-placement
  instance, and the scratchpad family's canonical search places them.

The stage tries the listed (and, if free, the memory-aware) order under both policies and keeps
the cheapest verified plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status
from orkit.models.dnn import DnnMemory, MemoryPlan
from orkit.models.scratchpad import BufferPlacement

POLICIES = ("window", "furthest")


def memory_aware_order(model: DnnMemory) -> np.ndarray:
    """Greedy topological order: next, the ready operator after which the fewest bytes stay alive."""
    remaining_uses = np.array([len(c) for c in model.consumers], dtype=np.int64)
    waiting = np.array([len(set(ins)) for ins in model.op_inputs], dtype=np.int64)
    ready = {o for o in range(model.m) if waiting[o] == 0}
    order = []
    while ready:
        def growth(o: int) -> tuple[int, int]:
            freed = sum(int(model.sizes[t]) for t in model.op_inputs[o] if remaining_uses[t] == 1)
            made = sum(int(model.sizes[t]) for t in model.op_outputs[o] if len(model.consumers[t]))
            return made - freed, o

        o = min(ready, key=growth)
        ready.remove(o)
        order.append(o)
        for t in model.op_inputs[o]:
            remaining_uses[t] -= 1
        for t in model.op_outputs[o]:
            for c in model.consumers[t]:
                waiting[c] -= 1
                if waiting[c] == 0:
                    ready.add(int(c))
    return np.array(order, dtype=np.int64)


def candidate_orders(model: DnnMemory) -> list[np.ndarray]:
    """The orders the heuristics try: the fixed one, else the listed and the memory-aware ones."""
    if model.order is not None:
        return [model.listed_order]
    orders = [model.listed_order, memory_aware_order(model)]
    return [orders[0]] + ([orders[1]] if not np.array_equal(*orders) else [])


@dataclass
class _Replay:
    """The scratchpad's state during a replay: resident tensors with offsets, open segments."""

    model: DnnMemory
    uses: list[np.ndarray]
    capacity: int
    policy: str
    offset: dict[int, int] = field(default_factory=dict)  # resident tensor -> offset
    since: dict[int, int] = field(default_factory=dict)  # resident tensor -> first step of its segment
    on_host: set[int] = field(default_factory=set)
    segments: list[tuple[int, int, int, int]] = field(default_factory=list)

    def next_use(self, t: int, step: int) -> int:
        u = self.uses[t]
        k = int(np.searchsorted(u, step, side="right"))
        return int(u[k]) if k < len(u) else 1 << 60

    def close(self, t: int, last: int) -> None:
        self.segments.append((t, self.since.pop(t), last, self.offset.pop(t)))

    def holes(self) -> list[tuple[int, int]]:
        spans = sorted((o, o + int(self.model.sizes[t])) for t, o in self.offset.items())
        out, cursor = [], 0
        for lo, hi in spans:
            if lo > cursor:
                out.append((cursor, lo))
            cursor = max(cursor, hi)
        if self.capacity > cursor:
            out.append((cursor, self.capacity))
        return out

    def best_fit(self, size: int) -> int | None:
        fitting = [(hi - lo, lo) for lo, hi in self.holes() if hi - lo >= size]
        return min(fitting)[1] if fitting else None

    def place(self, t: int, step: int, needed: set[int]) -> bool:
        size = int(self.model.sizes[t])
        where = self.best_fit(size)
        while where is None:
            victims = self.choose_victims(size, step, needed)
            if victims is None:
                return False
            for v in victims:
                self.evict(v, step)
            where = self.best_fit(size)
        self.offset[t], self.since[t] = where, step
        return True

    def make_resident(self, step: int, needed: set[int]) -> bool:
        """Place every needed tensor that is not resident. When the operator's own tensors leave
        no hole big enough, its resident inputs are moved (evicted and fetched back at a new
        address); failing that, the scratchpad is emptied of everything else first."""
        for attempt in range(3):
            if attempt == 1:
                for t in [t for t in needed if t in self.offset and self.since[t] < step]:
                    self.evict(t, step)
            elif attempt == 2:
                for t in [t for t in self.offset if self.since[t] < step]:
                    self.evict(t, step)
                self.offset.clear()  # what is left was placed this step, in a fragmenting spot: undo
                self.since.clear()
            missing = sorted((t for t in needed if t not in self.offset), key=lambda t: -int(self.model.sizes[t]))
            if all(self.place(t, step, needed) for t in missing):
                return True
        return False

    def evict(self, t: int, step: int) -> None:
        self.on_host.add(t)
        self.close(t, step - 1)

    def choose_victims(self, size: int, step: int, needed: set[int]) -> list[int] | None:
        movable = [t for t in self.offset if t not in needed]
        if not movable:
            return None
        if self.policy == "furthest":
            return [max(movable, key=lambda t: (self.next_use(t, step), t))]
        sizes = self.model.sizes
        starts = {0} | {self.offset[t] + int(sizes[t]) for t in self.offset}
        starts |= {self.offset[t] - size for t in self.offset} | {self.capacity - size}
        best = None
        for s in sorted(x for x in starts if 0 <= x <= self.capacity - size):
            blockers = [t for t, o in self.offset.items() if o < s + size and s < o + int(sizes[t])]
            if any(t in needed for t in blockers):
                continue
            cost = sum(int(sizes[t]) * (1 if t in self.on_host else 2) for t in blockers)
            soon = min((self.next_use(t, step) for t in blockers), default=1 << 60)
            key = (cost, -soon, s)
            if best is None or key < best[0]:
                best = (key, blockers)
        return best[1] if best is not None else None


def replay(model: DnnMemory, order: np.ndarray, policy: str = "window") -> MemoryPlan | None:
    """Run the operators in `order` with the given eviction policy; None when an operator cannot
    get its inputs and outputs resident (its own tensors fragment the memory)."""
    uses = model.use_steps(order)
    capacity = model.capacity if model.capacity is not None else 1 << 62
    state = _Replay(model, uses, capacity, policy)
    for step, o in enumerate(order):
        needed = set(model.op_inputs[o]) | set(model.op_outputs[o])
        if not state.make_resident(step, needed):
            return None
        for t in needed:
            if uses[t][-1] == step:
                state.close(t, step)
    tensor, first, last, offset = (np.array(c, dtype=np.int64) for c in zip(*state.segments))
    return MemoryPlan(order, tensor, first, last, offset)


def no_spill_instance(model: DnnMemory, order: np.ndarray, capacity: int | None) -> BufferPlacement:
    """The buffer-placement instance of `order` without spills: each tensor from producer to last use."""
    uses = model.use_steps(order)
    starts = np.array([u[0] for u in uses])
    ends = np.array([u[-1] + 1 for u in uses])
    return BufferPlacement(starts, ends, model.sizes, capacity=capacity, name=model.name)


def plan_without_spills(order: np.ndarray, placement: BufferPlacement, offsets: np.ndarray) -> MemoryPlan:
    return MemoryPlan(order, np.arange(placement.n), placement.starts, placement.ends - 1, offsets)


def placed_without_spills(model: DnnMemory, order: np.ndarray) -> MemoryPlan | None:
    """The best canonical placement (scratchpad heuristics) of the no-spill lifetimes of `order`,
    or None when the live bytes or the placement exceed the capacity."""
    from orkit.solvers.heuristics.scratchpad import classic_orders, neighbours, place_in_order

    if model.capacity is not None and model.live_bytes(order).max() > model.capacity:
        return None
    placement = no_spill_instance(model, order, None)
    adjacent = neighbours(placement)
    candidates = [place_in_order(placement, o, adjacent) for o in classic_orders(placement).values()]
    offsets = min(candidates, key=lambda x: int((x + placement.sizes).max()))
    if model.capacity is not None and (offsets + placement.sizes).max() > model.capacity:
        return None
    return plan_without_spills(order, placement, offsets)


def solve(model: DnnMemory, ctx: StageContext) -> Outcome:
    best, best_cost, tried = None, None, []

    def consider(plan: MemoryPlan | None, how: str) -> None:
        nonlocal best, best_cost
        if plan is None:
            tried.append(f"{how}: none")
            return
        verdict = model.evaluate(plan)
        if verdict.feasible and (best_cost is None or verdict.objective < best_cost):
            best, best_cost = plan, verdict.objective
            ctx.progress(best_cost, model.bound())
        tried.append(f"{how}: {verdict.objective}")

    for k, order in enumerate(candidate_orders(model)):
        if ctx.budget.should_stop():
            break
        consider(placed_without_spills(model, order), f"order {k} without spills")
        if model.capacity is not None:
            for policy in POLICIES:
                consider(replay(model, order, policy), f"order {k}/{policy}")
    if best is None:
        return Outcome(None, None, Status.UNKNOWN, ctx.budget.stop_cause(), "; ".join(tried))
    status = Status.OPTIMAL if best_cost == model.bound() else Status.FEASIBLE
    return Outcome(best, None, status, ctx.budget.stop_cause(), "; ".join(tried))
