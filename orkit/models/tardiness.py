"""Single-machine sequencing (1|r_j|Σ w_j T_j and relatives) with its own checker.

Jobs have integer processing times, due dates, weights (default 1) and optional release dates.
A solution is a sequence; each job starts as soon as the machine is free and the job released
(for the regular objectives offered here, such semi-active schedules contain an optimum).
Objectives, all weighted by w: total tardiness Σ w_j max(0, C_j − d_j) (the default), total
completion time Σ w_j C_j, and number of tardy jobs Σ w_j [C_j > d_j].
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np

from orkit.core.errors import ModelError
from orkit.core.model import Model
from orkit.core.result import Evaluation, Sense
from orkit.models.validation import int_array, per_item

# Keeps Σp · max w far inside int64 and the time-indexed methods' horizons meaningful.
MAX_VALUE = 10**9


class Criterion(StrEnum):
    TARDINESS = "tardiness"  # Σ w_j T_j
    COMPLETION = "completion"  # Σ w_j C_j
    TARDY_JOBS = "tardy_jobs"  # Σ w_j U_j

    @property
    def code(self) -> int:
        """Integer code used by the compiled kernels."""
        return list(Criterion).index(self)


def job_costs(objective: Criterion, completions: np.ndarray, due: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-job cost of completing at the given times (vectorised, the one definition of the objective)."""
    if objective is Criterion.TARDINESS:
        return weights * np.maximum(completions - due, 0)
    if objective is Criterion.COMPLETION:
        return weights * completions
    return weights * (completions > due)


@dataclass(frozen=True)
class Sequence:
    """A solution: the jobs (0-based indices) in processing order."""

    order: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", np.asarray(self.order, dtype=np.int64))

    def to_dict(self) -> dict[str, Any]:
        return {"sequence": [int(j) for j in self.order]}


@dataclass(frozen=True, eq=False)
class SingleMachine(Model):
    """A single-machine instance; validated on construction, immutable afterwards."""

    problem: ClassVar[str] = "tardiness"
    sense: ClassVar[Sense] = Sense.MINIMIZE

    processing_times: np.ndarray
    due_dates: np.ndarray
    weights: np.ndarray | None = None
    release_dates: np.ndarray | None = None
    objective: Criterion = Criterion.TARDINESS
    name: str = "tardiness"
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        p = int_array(self.processing_times, "processing times", 1, MAX_VALUE)
        n = len(p)
        if n == 0:
            raise ModelError("the instance has no jobs")
        labels = tuple(str(x) for x in self.labels) if self.labels else tuple(str(j + 1) for j in range(n))
        if len(labels) != n:
            raise ModelError(f"labels: {len(labels)} given for {n} jobs")
        if len(set(labels)) != n:
            raise ModelError("labels: job labels must be unique")
        set_(self, "labels", labels)
        bad = np.flatnonzero(p <= 0)
        if len(bad):
            j = int(bad[0])
            raise ModelError(f"job {labels[j]}: processing time must be positive, found {p[j]}"
                             + (f" ({len(bad) - 1} more such jobs)" if len(bad) > 1 else ""))
        set_(self, "processing_times", p)
        set_(self, "due_dates", self._column(self.due_dates, "due dates", n, allow_negative=True))
        weights = np.ones(n, dtype=np.int64) if self.weights is None else self._column(self.weights, "weights", n)
        weights.setflags(write=False)
        set_(self, "weights", weights)
        if self.release_dates is not None:
            set_(self, "release_dates", self._column(self.release_dates, "release dates", n))
        try:
            set_(self, "objective", Criterion(self.objective))
        except ValueError:
            valid = ", ".join(o.value for o in Criterion)
            raise ModelError(f"unknown objective {self.objective!r}; valid: {valid}") from None

    @staticmethod
    def _column(values: Any, name: str, n: int, allow_negative: bool = False) -> np.ndarray:
        array = per_item(values, name, n, "jobs", MAX_VALUE)
        if not allow_negative and (array < 0).any():
            j = int(np.flatnonzero(array < 0)[0])
            raise ModelError(f"{name}: job {j + 1} has the negative value {array[j]}")
        return array

    # ------------------------------------------------------------------ derived data
    @property
    def n(self) -> int:
        return len(self.processing_times)

    @property
    def releases(self) -> np.ndarray:
        return self.release_dates if self.release_dates is not None else np.zeros(self.n, dtype=np.int64)

    @property
    def has_releases(self) -> bool:
        return self.release_dates is not None and bool((self.release_dates > 0).any())

    @property
    def is_weighted(self) -> bool:
        return bool((self.weights != 1).any())

    @property
    def horizon(self) -> int:
        """Completion time of the last job in any semi-active schedule is at most this."""
        return int(self.releases.max() + self.processing_times.sum())

    def ends(self, jobs: np.ndarray) -> np.ndarray:
        """Completion times of `jobs` (a sequence, possibly partial) processed in that order from 0."""
        jobs = np.asarray(jobs, dtype=np.int64)
        p = self.processing_times[jobs]
        if not self.has_releases:
            return np.cumsum(p)
        r = self.releases[jobs]
        ends = np.empty(len(jobs), dtype=np.int64)
        t = 0
        for k in range(len(jobs)):
            t = max(t, int(r[k])) + int(p[k])
            ends[k] = t
        return ends

    def completions(self, order: np.ndarray) -> np.ndarray:
        """Completion time of each job (indexed by job) when processed in `order` without needless idle."""
        completion = np.empty(self.n, dtype=np.int64)
        completion[order] = self.ends(order)
        return completion

    def partial_cost(self, jobs: np.ndarray) -> int:
        """Objective of a partial sequence started at time 0."""
        jobs = np.asarray(jobs, dtype=np.int64)
        return int(job_costs(self.objective, self.ends(jobs), self.due_dates[jobs], self.weights[jobs]).sum())

    def cost(self, order: np.ndarray) -> int:
        """Objective value of a sequence assumed valid (fast path for heuristics and tests)."""
        return self.partial_cost(order)

    # ------------------------------------------------------------------ checker
    def evaluate(self, solution: Sequence) -> Evaluation:
        order = np.asarray(getattr(solution, "order", solution))
        if order.ndim != 1 or len(order) != self.n:
            return Evaluation(False, None, [f"expected a sequence of {self.n} jobs, got shape {order.shape}"])
        if not np.issubdtype(order.dtype, np.integer):
            return Evaluation(False, None, ["a sequence must list job indices (integers)"])
        violations = []
        outside = order[(order < 0) | (order >= self.n)]
        if len(outside):
            violations.append(f"job indices out of range 0..{self.n - 1}: {outside[:5].tolist()}")
        else:
            counts = np.bincount(order, minlength=self.n)
            for j in np.flatnonzero(counts != 1)[:10]:
                violations.append(f"job {self.labels[j]} appears {counts[j]} times")
        if violations:
            return Evaluation(False, None, violations)
        return Evaluation(True, self.cost(order), [])

    def bound(self) -> float | None:
        """A cheap lower bound: 0 for tardiness measures; for Σ w C, Smith's rule is exact."""
        if self.objective is Criterion.COMPLETION and not self.has_releases:
            return float(self.cost(self.wspt_order()))
        if self.objective is Criterion.COMPLETION:
            return float((self.weights * (self.releases + self.processing_times)).sum())
        return 0.0

    def wspt_order(self) -> np.ndarray:
        """Smith's ratio rule (p/w ascending, ties by index): optimal for Σ w C without release dates."""
        ratio = self.processing_times / np.maximum(self.weights, 1e-9)
        return np.lexsort((np.arange(self.n), ratio))

    # ------------------------------------------------------------------ plain data
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "objective": self.objective.value,
            "labels": list(self.labels),
            "processing_times": self.processing_times.tolist(),
            "due_dates": self.due_dates.tolist(),
            "weights": self.weights.tolist(),
        }
        if self.release_dates is not None:
            data["release_dates"] = self.release_dates.tolist()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SingleMachine:
        missing = [k for k in ("processing_times", "due_dates") if k not in data]
        if missing:
            raise ModelError(f"tardiness data lacks {', '.join(missing)}")
        return cls(
            processing_times=data["processing_times"],
            due_dates=data["due_dates"],
            weights=data.get("weights"),
            release_dates=data.get("release_dates"),
            objective=data.get("objective", Criterion.TARDINESS),
            name=str(data.get("name", "tardiness")),
            labels=tuple(data.get("labels") or ()),
        )

    def solution_from_dict(self, data: dict[str, Any]) -> Sequence:
        if "sequence" not in data:
            raise ModelError("a tardiness solution needs a 'sequence' list of job indices")
        raw = data["sequence"]
        if raw and all(isinstance(x, str) for x in raw):
            index = {label: j for j, label in enumerate(self.labels)}
            unknown = [x for x in raw if x not in index]
            if unknown:
                raise ModelError(f"solution names unknown jobs: {unknown[:5]}")
            raw = [index[x] for x in raw]
        try:
            return Sequence(np.asarray(raw, dtype=np.int64))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"a sequence must list job indices ({exc})") from None

    def solution_table(self, solution: Sequence):
        import pandas as pd

        order = solution.order
        completion = self.completions(order)[order]
        p, d, w = self.processing_times[order], self.due_dates[order], self.weights[order]
        return pd.DataFrame({
            "position": np.arange(1, self.n + 1),
            "job": [self.labels[j] for j in order],
            "start": completion - p,
            "end": completion,
            "p": p,
            "due": d,
            "weight": w,
            "tardiness": np.maximum(completion - d, 0),
            "cost": job_costs(self.objective, completion, d, w),
        })

    def summary(self) -> dict[str, Any]:
        p, d = self.processing_times, self.due_dates
        total = int(p.sum())
        info: dict[str, Any] = {
            "problem": self.problem,
            "name": self.name,
            "jobs": self.n,
            "objective": ("weighted " if self.is_weighted else "") + self.objective.value.replace("_", " "),
            "total processing time": total,
            # Potts & Van Wassenhove's parameters, as estimated from the data
            "tardiness factor (est.)": round(1 - float(d.mean()) / total, 3),
            "due date range (est.)": round(float(d.max() - d.min()) / total, 3),
        }
        if self.has_releases:
            info["release dates"] = int((self.releases > 0).sum())
        return info
