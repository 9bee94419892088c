"""Result types shared by every problem family: two status axes, stage records, progress."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """What we know about the answer."""

    OPTIMAL = "OPTIMAL"  # a verified solution and a proof that none is better
    FEASIBLE = "FEASIBLE"  # a verified solution, no proof
    INFEASIBLE = "INFEASIBLE"  # proof that no solution exists
    UNKNOWN = "UNKNOWN"  # nothing found, nothing proved


class Stop(StrEnum):
    """Why the search ended."""

    COMPLETED = "COMPLETED"
    TIME_LIMIT = "TIME_LIMIT"
    INTERRUPTED = "INTERRUPTED"
    ERROR = "ERROR"


class Sense(StrEnum):
    MINIMIZE = "MINIMIZE"
    MAXIMIZE = "MAXIMIZE"


Objective = float | int | tuple


@dataclass(frozen=True)
class Evaluation:
    """The verdict of a model's independent checker on one solution."""

    feasible: bool
    objective: Objective | None
    violations: list[str] = field(default_factory=list)


MAX_REPORTED_VIOLATIONS = 25


def capped(violations: list[str]) -> list[str]:
    """The first MAX_REPORTED_VIOLATIONS violations and a count of the rest: a checker's report stays readable."""
    if len(violations) <= MAX_REPORTED_VIOLATIONS:
        return violations
    return violations[:MAX_REPORTED_VIOLATIONS] + [f"... and {len(violations) - MAX_REPORTED_VIOLATIONS} more"]


@dataclass(frozen=True)
class Progress:
    """One progress event: a new incumbent or bound at some elapsed time."""

    elapsed: float
    objective: Objective | None
    bound: float | None
    backend: str


@dataclass
class StageRecord:
    """What one stage of the chain did, including why it was skipped or failed."""

    backend: str
    status: Status
    stop: Stop | None
    objective: Objective | None = None
    bound: float | None = None
    wall_time: float = 0.0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "status": self.status.value,
            "stop": self.stop.value if self.stop else None,
            "objective": _jsonable(self.objective),
            "bound": _jsonable(self.bound),
            "wall_time": round(self.wall_time, 4),
            "reason": self.reason,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def gap(objective: Objective | None, bound: float | None) -> float | None:
    """|objective - bound| / max(|objective|, 1); None without both or for vector objectives."""
    if objective is None or bound is None or isinstance(objective, tuple):
        return None
    if math.isinf(bound):
        return None
    return abs(objective - bound) / max(abs(objective), 1)


@dataclass
class Result:
    """The answer of `orkit.solve`: the best verified solution, the best bound, and honest status."""

    model_name: str
    problem: str
    status: Status
    stop: Stop
    objective: Objective | None
    bound: float | None
    solution: Any
    backend: str | None
    stages: list[StageRecord]
    progress: list[Progress]
    wall_time: float
    seed: int
    versions: dict[str, str]
    reason: str = ""
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def gap(self) -> float | None:
        return gap(self.objective, self.bound)

    @property
    def has_solution(self) -> bool:
        return self.solution is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "problem": self.problem,
            "status": self.status.value,
            "stop": self.stop.value,
            "objective": _jsonable(self.objective),
            "bound": _jsonable(self.bound),
            "gap": self.gap,
            "backend": self.backend,
            "wall_time": round(self.wall_time, 4),
            "seed": self.seed,
            "reason": self.reason,
            "versions": self.versions,
            "stages": [s.to_dict() for s in self.stages],
            "progress": [
                {"elapsed": round(p.elapsed, 4), "objective": _jsonable(p.objective),
                 "bound": _jsonable(p.bound), "backend": p.backend}
                for p in self.progress
            ],
            "solution": self.solution.to_dict() if self.solution is not None else None,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_frame(self):
        """The solution as a table (one row per activity/job/pod/...); empty without a solution."""
        import pandas as pd

        if self.solution is None or self.model is None:
            return pd.DataFrame()
        return self.model.solution_table(self.solution)

    def stages_frame(self):
        """One row per stage of the chain: what ran, what it found, how long, and why."""
        import pandas as pd

        return pd.DataFrame([s.to_dict() for s in self.stages])

    def summary(self) -> str:
        parts = [f"{self.model_name}: {self.status.value} ({self.stop.value})"]
        if self.objective is not None:
            parts.append(f"objective {_jsonable(self.objective)}")
        if self.bound is not None:
            parts.append(f"bound {_jsonable(self.bound)}")
        if self.gap is not None:
            parts.append(f"gap {100 * self.gap:.2f}%")
        if self.backend:
            parts.append(f"by {self.backend}")
        parts.append(f"{self.wall_time:.2f}s")
        text = ", ".join(parts)
        if self.reason:
            text += f"\n  reason: {self.reason}"
        return text
