"""What every problem model offers the pipeline; each family implements it in orkit/models."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from orkit.core.result import Evaluation, Objective, Sense


class Model(ABC):
    """A validated, immutable problem instance that knows its own meaning.

    Subclasses are frozen dataclasses. `evaluate` is the single independent checker: the
    pipeline trusts no backend and verifies every solution with it.
    """

    problem: ClassVar[str]
    sense: ClassVar[Sense]
    name: str

    @abstractmethod
    def evaluate(self, solution: Any) -> Evaluation:
        """Check every rule of the problem and recompute the objective."""

    @abstractmethod
    def bound(self) -> float | None:
        """A cheap valid bound on the optimum (lower for minimisation, upper for maximisation)."""

    def infeasibility(self) -> str | None:
        """A cheap proof that no solution exists, as a sentence naming the cause; else None."""
        return None

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """Lossless plain-data form (the orkit JSON `data` field)."""

    @classmethod
    @abstractmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        """Inverse of `to_dict`; raises ModelError on inconsistent data."""

    @abstractmethod
    def solution_from_dict(self, data: dict[str, Any]) -> Any:
        """Read a solution of this model from its plain-data form."""

    @abstractmethod
    def solution_table(self, solution: Any):
        """The solution as a pandas DataFrame, one row per item."""

    @abstractmethod
    def summary(self) -> dict[str, Any]:
        """Sizes and bounds of the instance, for `orkit info`."""

    def is_better(self, a: Objective, b: Objective | None) -> bool:
        """True when objective `a` strictly beats `b` (None = no solution) in this model's sense."""
        if b is None:
            return True
        return a < b if self.sense is Sense.MINIMIZE else a > b
