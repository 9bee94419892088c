"""What each lexicographic (or weighted) step of a pod solve optimises over pod-class counts, its
trivial bounds, and the score vector its proven steps bound. Both exact backends and the pattern
search read a step through these, so they agree on what a step's value is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orkit.models.pods import Cluster, PodObjective
from orkit.solvers.pods_classes import PodClasses, class_disruption


@dataclass
class Step:
    tier: int  # index into model.tiers (-1: the single weighted step)
    kind: str  # "place", "disrupt" or "weighted"


class StepGoals:
    """What each lexicographic step optimises, as a number for class counts, and its trivial bounds."""

    def __init__(self, model: Cluster, k: PodClasses):
        self.model, self.k = model, k
        self.placeable = model.fits_somewhere
        self.fixed_placed = np.array([int((model.priority[k.fixed] >= t).sum()) for t in model.tiers])
        self.rank = model.tier_rank[[int(m[0]) for m in k.members]]
        self.scale = 2 * model.n_pods + 1

    @staticmethod
    def sign(step: Step) -> int:
        """+1 where a larger value is better (placing, the weighted score), -1 for disruption."""
        return -1 if step.kind == "disrupt" else 1

    def members(self, step: Step) -> np.ndarray:
        return np.flatnonzero(self.k.priority >= self.model.tiers[step.tier])

    def ceiling(self, step: Step) -> int:
        """Pods at or above the tier that fit some node, less those held in place (outside the classes)."""
        tier = self.model.tiers[step.tier]
        return int((self.placeable & (self.model.priority >= tier)).sum()) - int(self.fixed_placed[step.tier])

    def value(self, step: Step, counts: np.ndarray) -> int:
        """The expression's value for class counts (least-disruptive realisation)."""
        placed, disruption, _ = class_disruption(self.k, counts)
        if step.kind == "weighted":
            return int((self.rank * placed).sum()) * self.scale - int(disruption.sum())
        parts = placed if step.kind == "place" else disruption
        return int(parts[self.members(step)].sum())

    def settled(self, step: Step, counts: np.ndarray, disruption_floor: int) -> bool:
        if step.kind == "place":
            return self.value(step, counts) >= self.ceiling(step)
        if step.kind == "disrupt":
            return self.value(step, counts) <= disruption_floor
        return False


def score_bound(goals: StepGoals, bounds: list[tuple[Step, int]]) -> tuple[int, ...] | None:
    """The lexicographic score vector no plan beats: the steps' known bounds in their places
    (pods held in place count as placed and undisturbed), every later component at its trivial
    bound (every placeable pod placed, nobody disturbed). None for the weighted objective, whose
    steps give no bound here."""
    model = goals.model
    if model.objective is not PodObjective.LEXICOGRAPHIC:
        return None
    vector = list(model.bound())
    for step, value in bounds:
        if step.kind == "place":
            vector[2 * step.tier] = value + int(goals.fixed_placed[step.tier])
        else:
            vector[2 * step.tier + 1] = -value
    return tuple(vector)
