"""Scratchpad buffer placement (dynamic storage allocation) with its own checker.

Each buffer lives over a half-open interval [start, end) and needs `size` contiguous addresses
at an offset that is a multiple of its alignment. Buffers whose lifetimes intersect may not share
an address. With a capacity, every buffer must end at or below it; the objective is the peak
address max(offset + size), bounded below by the largest total size alive at one time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from orkit.core.errors import ModelError
from orkit.core.model import Model
from orkit.core.result import MAX_REPORTED_VIOLATIONS, Evaluation, Sense, capped
from orkit.models.validation import int_array, per_item


@dataclass(frozen=True)
class Placement:
    """A solution: one offset per buffer."""

    offsets: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "offsets", np.asarray(self.offsets, dtype=np.int64))

    def to_dict(self) -> dict[str, Any]:
        return {"offsets": [int(x) for x in self.offsets]}


@dataclass(frozen=True, eq=False)
class BufferPlacement(Model):
    """A buffer-placement instance; validated on construction, immutable afterwards."""

    problem: ClassVar[str] = "scratchpad"
    sense: ClassVar[Sense] = Sense.MINIMIZE

    starts: np.ndarray
    ends: np.ndarray
    sizes: np.ndarray
    alignments: np.ndarray | None = None
    capacity: int | None = None
    name: str = "scratchpad"
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        starts = int_array(self.starts, "starts", 1)
        n = len(starts)
        if n == 0:
            raise ModelError("the instance has no buffers")
        labels = tuple(str(x) for x in self.labels) if self.labels else tuple(str(b) for b in range(n))
        if len(labels) != n or len(set(labels)) != n:
            raise ModelError(f"labels: need {n} unique labels, got {len(labels)} ({len(set(labels))} distinct)")
        set_(self, "labels", labels)
        columns = {"ends": self.ends, "sizes": self.sizes}
        if self.alignments is not None:
            columns["alignments"] = self.alignments
        for field_name, values in columns.items():
            set_(self, field_name, per_item(values, field_name, n, "buffers"))
        if self.alignments is None:
            set_(self, "alignments", np.ones(n, dtype=np.int64))
        self._check("ends", self.ends <= starts, "lifetime [{start}, {end}) is empty", starts)
        self._check("sizes", self.sizes <= 0, "size must be positive, found {size}", starts)
        self._check("alignments", self.alignments <= 0, "alignment must be positive, found {alignment}", starts)
        set_(self, "starts", starts)
        if self.capacity is not None:
            capacity = int(self.capacity)
            if capacity <= 0 or capacity != self.capacity:
                raise ModelError(f"capacity must be a positive integer, found {self.capacity!r}")
            set_(self, "capacity", capacity)

    def _check(self, what: str, bad: np.ndarray, template: str, starts: np.ndarray) -> None:
        if bad.any():
            b = int(np.flatnonzero(bad)[0])
            text = template.format(start=starts[b], end=self.ends[b], size=self.sizes[b],
                                   alignment=self.alignments[b])
            more = f" ({int(bad.sum()) - 1} more)" if bad.sum() > 1 else ""
            raise ModelError(f"buffer {self.labels[b]}: {text}{more}")

    @property
    def n(self) -> int:
        return len(self.starts)

    @cached_property
    def live_profile(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, total size alive from each time to the next event), over all event times."""
        times = np.concatenate([self.starts, self.ends])
        delta = np.concatenate([self.sizes, -self.sizes])
        order = np.lexsort((delta, times))  # at equal times, ends (negative) first: half-open lifetimes
        times, live = times[order], np.cumsum(delta[order])
        last = np.r_[times[1:] != times[:-1], True]
        return times[last], live[last]

    def peak_live(self) -> tuple[int, int]:
        """(largest total size alive at once, a time where it is reached)."""
        times, live = self.live_profile
        k = int(np.argmax(live))
        return int(live[k]), int(times[k])

    def overlapping_pairs(self) -> np.ndarray:
        """All pairs (a, b), a < b, whose lifetimes intersect."""
        s, e = self.starts, self.ends
        pairs = []
        for lo in range(0, self.n, 2048):  # blocks keep memory bounded on large instances
            a = np.arange(lo, min(lo + 2048, self.n))
            hit = (s[a, None] < e[None, :]) & (s[None, :] < e[a, None]) & (a[:, None] < np.arange(self.n)[None, :])
            i, j = np.nonzero(hit)
            pairs.append(np.stack([a[i], j], axis=1))
        return np.concatenate(pairs)

    def infeasibility(self) -> str | None:
        if self.capacity is None:
            return None
        too_big = np.flatnonzero(self.sizes > self.capacity)
        if len(too_big):
            b = int(too_big[0])
            return f"buffer {self.labels[b]} needs {self.sizes[b]} > capacity {self.capacity}"
        peak, when = self.peak_live()
        if peak > self.capacity:
            return f"at time {when} the live buffers need {peak} > capacity {self.capacity}"
        return None

    def bound(self) -> float | None:
        return float(self.peak_live()[0])

    def evaluate(self, solution: Placement) -> Evaluation:
        offsets = np.asarray(getattr(solution, "offsets", solution))
        if offsets.shape != (self.n,):
            return Evaluation(False, None, [f"expected {self.n} offsets, got shape {offsets.shape}"])
        if not np.issubdtype(offsets.dtype, np.integer):
            return Evaluation(False, None, ["offsets must be integers"])
        top = offsets + self.sizes
        v: list[str] = []
        L = self.labels
        for b in np.flatnonzero(offsets < 0):
            v.append(f"buffer {L[b]} at negative offset {offsets[b]}")
        if self.capacity is not None:
            for b in np.flatnonzero(top > self.capacity):
                v.append(f"buffer {L[b]} ends at address {top[b]} > capacity {self.capacity}")
        for b in np.flatnonzero(offsets % self.alignments != 0):
            v.append(f"buffer {L[b]} at offset {offsets[b]} is not a multiple of its alignment {self.alignments[b]}")
        pairs = self.overlapping_pairs()
        a, b = pairs[:, 0], pairs[:, 1]
        clash = (offsets[a] < top[b]) & (offsets[b] < top[a])
        for i, j in pairs[clash][:MAX_REPORTED_VIOLATIONS]:
            v.append(f"buffers {L[i]} and {L[j]} are alive together and overlap: addresses "
                     f"[{offsets[i]}, {top[i]}) and [{offsets[j]}, {top[j]})")
        peak = int(top.max())
        if v:
            return Evaluation(False, peak, capped(v))
        return Evaluation(True, peak, [])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "capacity": self.capacity,
            "labels": list(self.labels),
            "starts": self.starts.tolist(),
            "ends": self.ends.tolist(),
            "sizes": self.sizes.tolist(),
            "alignments": self.alignments.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BufferPlacement:
        missing = [k for k in ("starts", "ends", "sizes") if k not in data]
        if missing:
            raise ModelError(f"scratchpad data lacks {', '.join(missing)}")
        return cls(data["starts"], data["ends"], data["sizes"], data.get("alignments"), data.get("capacity"),
                   str(data.get("name", "scratchpad")), tuple(data.get("labels") or ()))

    def solution_from_dict(self, data: dict[str, Any]) -> Placement:
        if "offsets" not in data:
            raise ModelError("a scratchpad solution needs an 'offsets' list")
        try:
            return Placement(np.asarray(data["offsets"], dtype=np.int64))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"offsets must be integers ({exc})") from None

    def solution_table(self, solution: Placement):
        import pandas as pd

        return pd.DataFrame({"buffer": self.labels, "start": self.starts, "end": self.ends, "size": self.sizes,
                             "offset": solution.offsets, "top": solution.offsets + self.sizes})

    def summary(self) -> dict[str, Any]:
        peak, when = self.peak_live()
        info: dict[str, Any] = {
            "problem": self.problem,
            "name": self.name,
            "buffers": self.n,
            "capacity": self.capacity if self.capacity is not None else "none (minimise the peak address)",
            "peak live size": f"{peak} at time {when}",
        }
        if self.capacity is not None:
            info["slack at peak"] = f"{(self.capacity - peak) / self.capacity:.2%}"
        reason = self.infeasibility()
        if reason:
            info["infeasible"] = reason
        return info
