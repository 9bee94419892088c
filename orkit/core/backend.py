"""The contract between the chain and a backend module (heuristic, cpsat, mip, ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orkit.core.budget import Budget
from orkit.core.result import Objective, Progress, Status, Stop


@dataclass
class StageContext:
    """Everything a backend gets from the chain for one run."""

    budget: Budget
    incumbent: Any = None  # best verified solution so far (use as hint / horizon)
    incumbent_objective: Objective | None = None
    seed: int = 0
    workers: int = 1
    params: dict[str, Any] = field(default_factory=dict)  # raw backend parameters
    report: Callable[[Progress], None] = lambda p: None
    backend: str = ""
    following: tuple[str, ...] = ()  # names of the stages after this one (they want the budget)

    @property
    def is_last(self) -> bool:
        return not self.following

    def progress(self, objective: Objective | None, bound: float | None) -> None:
        self.report(Progress(self.budget.elapsed(), objective, bound, self.backend))


@dataclass
class Outcome:
    """What a backend returns. `status` is the backend's own claim; the chain verifies it.

    OPTIMAL claims the returned solution is optimal; INFEASIBLE claims no solution exists
    (only valid when the backend did not restrict the search to beat the incumbent).
    """

    solution: Any
    bound: float | None
    status: Status
    stop: Stop
    reason: str = ""
