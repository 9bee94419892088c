"""DNN memory planning: operator order, tensor placement in a scratchpad, and spills (COSMA-style).

A graph of operators and tensors runs one operator per step. While an operator runs, its inputs
and outputs must be resident in the scratchpad. A tensor lives from its producer's step to its
last consumer's step; on chip it occupies one address range per *residency segment* (a run of
steps at a fixed offset). A tensor with more than one segment was spilled: written to host memory
once (its size in bytes) and read back once per later segment (its size each time). Those are the
non-compulsory off-chip bytes the objective counts; loading the graph inputs and storing the graph
outputs are compulsory and not counted. With no capacity, spills are not allowed and the objective
is the peak address (the peak-footprint variant). A fixed `order` turns the operator order into data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from orkit.core.errors import ModelError
from orkit.core.model import Model
from orkit.core.result import Evaluation, Sense, capped
from orkit.models.scratchpad import BufferPlacement, Placement
from orkit.models.validation import int_array


@dataclass(frozen=True)
class MemoryPlan:
    """A solution: the operator order and every residency segment (tensor, first step, last step
    inclusive, offset), steps being positions in `order`."""

    order: np.ndarray
    tensor: np.ndarray
    first: np.ndarray
    last: np.ndarray
    offset: np.ndarray

    def __post_init__(self) -> None:
        for name in ("order", "tensor", "first", "last", "offset"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.int64).ravel())

    def to_dict(self) -> dict[str, Any]:
        return {"order": self.order.tolist(),
                "segments": [[int(t), int(a), int(b), int(o)]
                             for t, a, b, o in zip(self.tensor, self.first, self.last, self.offset)]}


@dataclass(frozen=True, eq=False)
class DnnMemory(Model):
    """A DNN graph with a scratchpad size; validated on construction, immutable afterwards."""

    problem: ClassVar[str] = "dnn"
    sense: ClassVar[Sense] = Sense.MINIMIZE

    op_inputs: tuple[tuple[int, ...], ...]
    op_outputs: tuple[tuple[int, ...], ...]
    sizes: np.ndarray  # bytes per tensor
    capacity: int | None = None
    order: tuple[int, ...] | None = None  # fixed operator order (the fixed-order variant)
    name: str = "dnn"
    op_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        sizes = int_array(self.sizes, "sizes", 1, max_abs=2**50)
        if len(sizes) == 0:
            raise ModelError("the graph has no tensors")
        if (sizes <= 0).any():
            t = int(np.flatnonzero(sizes <= 0)[0])
            raise ModelError(f"tensor {t}: size must be positive, found {sizes[t]}")
        set_(self, "sizes", sizes)
        m = len(self.op_inputs)
        if m == 0 or len(self.op_outputs) != m:
            raise ModelError(f"need one input and one output list per operator ({m} and {len(self.op_outputs)})")
        set_(self, "op_inputs", tuple(tuple(int(t) for t in ts) for ts in self.op_inputs))
        set_(self, "op_outputs", tuple(tuple(int(t) for t in ts) for ts in self.op_outputs))
        names = tuple(str(x) for x in self.op_names) if self.op_names else tuple(f"op{o}" for o in range(m))
        if len(names) != m:
            raise ModelError(f"op_names: need {m} names, got {len(names)}")
        set_(self, "op_names", names)
        producer = np.full(len(sizes), -1, dtype=np.int64)
        for o in range(m):
            for t in self.op_outputs[o] + self.op_inputs[o]:
                if not 0 <= t < len(sizes):
                    raise ModelError(f"operator {names[o]}: unknown tensor {t} (there are {len(sizes)})")
            if len(set(self.op_inputs[o])) != len(self.op_inputs[o]) or not self.op_outputs[o]:
                raise ModelError(f"operator {names[o]}: needs at least one output and distinct inputs")
            if set(self.op_inputs[o]) & set(self.op_outputs[o]):
                raise ModelError(f"operator {names[o]}: a tensor is both its input and its output")
            for t in self.op_outputs[o]:
                if producer[t] >= 0:
                    raise ModelError(f"tensor {t} is produced by both {names[producer[t]]} and {names[o]}")
                producer[t] = o
        if (producer < 0).any():
            raise ModelError(f"tensor {int(np.flatnonzero(producer < 0)[0])} is produced by no operator "
                             "(graph inputs are the outputs of an input operator)")
        set_(self, "_producer", producer)
        set_(self, "_topological", self._kahn_order())
        if self.capacity is not None:
            capacity = int(self.capacity)
            if capacity <= 0 or capacity != self.capacity:
                raise ModelError(f"capacity must be a positive integer, found {self.capacity!r}")
            set_(self, "capacity", capacity)
        if self.order is not None:
            order = tuple(int(o) for o in self.order)
            problem = self.order_problem(np.asarray(order))
            if problem:
                raise ModelError(f"fixed order: {problem}")
            set_(self, "order", order)

    def _kahn_order(self) -> np.ndarray:
        """A topological order, the listed order where it is one (ties by listing); cycles are errors."""
        import heapq

        indegree = np.array([len(ins) for ins in self.op_inputs])
        ready = [o for o in range(self.m) if indegree[o] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            o = heapq.heappop(ready)
            order.append(o)
            for t in self.op_outputs[o]:
                for c in self.consumers[t]:
                    indegree[c] -= 1
                    if indegree[c] == 0:
                        heapq.heappush(ready, int(c))
        if len(order) < self.m:
            stuck = next(o for o in range(self.m) if o not in set(order))
            raise ModelError(f"the graph has a cycle through operator {self.op_names[stuck]}")
        return np.array(order, dtype=np.int64)

    # --- structure -------------------------------------------------------------------------

    @property
    def m(self) -> int:
        return len(self.op_inputs)

    @property
    def n(self) -> int:
        return len(self.sizes)

    @property
    def producer(self) -> np.ndarray:
        return self._producer  # type: ignore[attr-defined]

    @cached_property
    def consumers(self) -> tuple[np.ndarray, ...]:
        users: list[list[int]] = [[] for _ in range(self.n)]
        for o, ins in enumerate(self.op_inputs):
            for t in ins:
                users[t].append(o)
        return tuple(np.array(u, dtype=np.int64) for u in users)

    @property
    def listed_order(self) -> np.ndarray:
        """The fixed order if there is one, else the file's order made topological."""
        return np.asarray(self.order, dtype=np.int64) if self.order is not None else self._topological  # type: ignore

    @cached_property
    def operator_bytes(self) -> np.ndarray:
        """Inputs + outputs of each operator: what must be resident while it runs."""
        return np.array([self.sizes[list(ins)].sum() + self.sizes[list(outs)].sum()
                         for ins, outs in zip(self.op_inputs, self.op_outputs)], dtype=np.int64)

    @property
    def largest_operator(self) -> tuple[int, int]:
        """(M_R, the operator reaching it): below M_R no plan exists without tiling."""
        o = int(np.argmax(self.operator_bytes))
        return int(self.operator_bytes[o]), o

    @cached_property
    def compulsory_bytes(self) -> int:
        """Graph inputs loaded and graph outputs stored: moved by every plan, not counted."""
        inputs = sum(int(self.sizes[list(self.op_outputs[o])].sum()) for o in range(self.m) if not self.op_inputs[o])
        outputs = sum(int(self.sizes[t]) for t in range(self.n) if len(self.consumers[t]) == 0)
        return inputs + outputs

    @staticmethod
    def steps(order: np.ndarray) -> np.ndarray:
        """The step at which each operator runs in `order` (the inverse permutation)."""
        step = np.empty(len(order), dtype=np.int64)
        step[order] = np.arange(len(order))
        return step

    def use_steps(self, order: np.ndarray) -> list[np.ndarray]:
        """Per tensor, the sorted distinct steps of `order` that need it resident (producer and consumers)."""
        step = self.steps(order)
        return [np.unique(np.r_[step[self.producer[t]], step[self.consumers[t]]]) for t in range(self.n)]

    def live_bytes(self, order: np.ndarray) -> np.ndarray:
        """Bytes alive at each step of `order` when nothing is spilled (producer to last use)."""
        return self._alive(order, through_last_use=True)

    def bytes_across(self, order: np.ndarray) -> np.ndarray:
        """Bytes that must stay alive (or be spilled) across each boundary of `order`: entry i is
        between steps i and i + 1 (made at or before i, used after it)."""
        return self._alive(order, through_last_use=False)

    def _alive(self, order: np.ndarray, through_last_use: bool) -> np.ndarray:
        delta = np.zeros(self.m + 1, dtype=np.int64)
        for t, steps in enumerate(self.use_steps(order)):
            delta[steps[0]] += self.sizes[t]
            delta[steps[-1] + through_last_use] -= self.sizes[t]
        return np.cumsum(delta[:-1])

    def with_capacity(self, capacity: int | None) -> DnnMemory:
        from dataclasses import replace

        return replace(self, capacity=capacity)

    # --- meaning ---------------------------------------------------------------------------

    def order_problem(self, order: np.ndarray) -> str | None:
        """Why `order` is not a topological order of all operators, or None."""
        if order.shape != (self.m,) or not np.array_equal(np.sort(order), np.arange(self.m)):
            return f"an order must list each of the {self.m} operators once"
        position = self.steps(order)
        for o in range(self.m):
            for t in self.op_inputs[o]:
                if position[self.producer[t]] > position[o]:
                    maker = int(self.producer[t])
                    return (f"operator {self.op_names[o]} (step {position[o]}) runs before "
                            f"{self.op_names[maker]} (step {position[maker]}) produces its input {t}")
        return None

    def infeasibility(self) -> str | None:
        if self.capacity is None:
            return None
        need, o = self.largest_operator
        if need > self.capacity:
            return (f"operator {self.op_names[o]} needs its inputs and outputs resident at once: "
                    f"{need} bytes > capacity {self.capacity}")
        return None

    def bound(self) -> float | None:
        return 0.0 if self.capacity is not None else float(self.largest_operator[0])

    def offchip_bytes(self, segments_per_tensor: np.ndarray) -> int:
        """Non-compulsory bytes: one write and one read per extra segment for every spilled tensor."""
        extra = np.maximum(segments_per_tensor - 1, 0)
        return int((self.sizes * (extra + (extra > 0))).sum())

    def transfers(self, plan: MemoryPlan) -> np.ndarray:
        """Non-compulsory bytes moved at each step boundary 0..m of a plan: a spilled tensor's write
        where its first segment ends, a read where each later segment starts (sums to offchip_bytes)."""
        count = np.bincount(plan.tensor, minlength=self.n)
        moved = np.zeros(self.m + 1, dtype=np.int64)
        previous = -1
        for k in np.lexsort((plan.first, plan.tensor)):
            t = int(plan.tensor[k])
            if t == previous:
                moved[plan.first[k]] += self.sizes[t]
            elif count[t] > 1:
                moved[plan.last[k] + 1] += self.sizes[t]
            previous = t
        return moved

    def evaluate(self, solution: MemoryPlan) -> Evaluation:
        try:
            plan = solution if isinstance(solution, MemoryPlan) else MemoryPlan(**solution)
        except (TypeError, ValueError) as exc:
            return Evaluation(False, None, [f"not a memory plan: {exc}"])
        order = plan.order
        problem = self.order_problem(order)
        if problem:
            return Evaluation(False, None, [problem])
        if self.order is not None and not np.array_equal(order, self.order):
            return Evaluation(False, None, ["the order differs from the model's fixed order"])
        k = len(plan.tensor)
        if not (len(plan.first) == len(plan.last) == len(plan.offset) == k):
            return Evaluation(False, None, ["segment arrays differ in length"])
        v: list[str] = []
        if k == 0 or (plan.tensor < 0).any() or (plan.tensor >= self.n).any():
            return Evaluation(False, None, [f"segments must name tensors 0..{self.n - 1}"])
        uses = self.use_steps(order)
        by_tensor = np.lexsort((plan.first, plan.tensor))
        bounds = np.searchsorted(plan.tensor[by_tensor], np.arange(self.n + 1))
        count = np.diff(bounds)
        for t in range(self.n):
            rows = by_tensor[bounds[t]:bounds[t + 1]]
            v.extend(self._segment_problems(t, plan.first[rows], plan.last[rows], uses[t]))
        if self.capacity is None and (count > 1).any():
            v.append(f"tensor {int(np.flatnonzero(count > 1)[0])} is spilled, but without a capacity "
                     "nothing may be spilled")
        if v:
            return Evaluation(False, None, capped(v))
        labels = tuple(f"tensor {t} segment {i}" for i, t in enumerate(plan.tensor))
        memory = BufferPlacement(plan.first, plan.last + 1, self.sizes[plan.tensor], capacity=self.capacity,
                                 labels=labels)
        placed = memory.evaluate(Placement(plan.offset))
        if not placed.feasible:
            return Evaluation(False, None, placed.violations)
        objective = self.offchip_bytes(count) if self.capacity is not None else placed.objective
        return Evaluation(True, objective, [])

    def _segment_problems(self, t: int, first: np.ndarray, last: np.ndarray, uses: np.ndarray) -> list[str]:
        if len(first) == 0:
            return [f"tensor {t} has no residency segment"]
        if first[0] != uses[0]:
            return [f"tensor {t}: its first segment starts at step {first[0]}, not at its producer's step {uses[0]}"]
        if (last < first).any() or (first[1:] <= last[:-1]).any():
            return [f"tensor {t}: segments must be non-empty and disjoint"]
        if last[-1] > uses[-1]:
            return [f"tensor {t}: resident at step {last[-1]} after its last use at step {uses[-1]}"]
        covering = np.searchsorted(first, uses, side="right") - 1
        missing = uses[last[covering] < uses]
        if len(missing):
            return [f"tensor {t} is not resident at step {missing[0]}, where it is used"]
        return []

    # --- plain data --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "capacity": self.capacity,
            "order": list(self.order) if self.order is not None else None,
            "op_names": list(self.op_names),
            "op_inputs": [list(x) for x in self.op_inputs],
            "op_outputs": [list(x) for x in self.op_outputs],
            "sizes": self.sizes.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DnnMemory:
        missing = [k for k in ("op_inputs", "op_outputs", "sizes") if k not in data]
        if missing:
            raise ModelError(f"dnn data lacks {', '.join(missing)}")
        try:
            return cls(tuple(data["op_inputs"]), tuple(data["op_outputs"]), data["sizes"], data.get("capacity"),
                       data.get("order"), str(data.get("name", "dnn")), tuple(data.get("op_names") or ()))
        except TypeError as exc:
            raise ModelError(f"dnn data: {exc}") from None

    def solution_from_dict(self, data: dict[str, Any]) -> MemoryPlan:
        try:
            segments = np.asarray(data["segments"], dtype=np.int64).reshape(-1, 4)
            return MemoryPlan(data["order"], segments[:, 0], segments[:, 1], segments[:, 2], segments[:, 3])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"a dnn plan needs 'order' and 'segments' [[tensor, first, last, offset], ...] ({exc})") \
                from None

    def solution_table(self, solution: MemoryPlan):
        import pandas as pd

        count = np.bincount(solution.tensor, minlength=self.n)
        return pd.DataFrame({
            "tensor": solution.tensor, "producer": [self.op_names[self.producer[t]] for t in solution.tensor],
            "size": self.sizes[solution.tensor], "first step": solution.first, "last step": solution.last,
            "offset": solution.offset, "spilled": count[solution.tensor] > 1,
        }).sort_values(["first step", "offset"], kind="stable").reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        need, o = self.largest_operator
        live = self.live_bytes(self.listed_order)
        info: dict[str, Any] = {
            "problem": self.problem,
            "name": self.name,
            "operators": self.m,
            "tensors": self.n,
            "tensor bytes": int(self.sizes.sum()),
            "M_R (largest operator)": f"{need} ({self.op_names[o]})",
            "peak live bytes, listed order": int(live.max()),
            "capacity": self.capacity if self.capacity is not None else "none (minimise the peak address)",
            "order": "fixed" if self.order is not None else "free",
            "compulsory off-chip bytes": self.compulsory_bytes,
        }
        reason = self.infeasibility()
        if reason:
            info["infeasible"] = reason
        return info
