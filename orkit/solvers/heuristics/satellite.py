"""Greedy link scheduling: windows by quality (weighted usable length, earlier rise first on
ties), each packed as its longest free, setup-aware link. The incumbent the later stages start from."""

from __future__ import annotations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status
from orkit.models.satellite import LinkScheduling
from orkit.solvers.heuristics.satellite_packing import pack

MIN_SECONDS = 0.0


def quality_order(model: LinkScheduling) -> np.ndarray:
    """Windows by weighted usable length, longest first; ties to the earlier rise."""
    a = model.arrays
    value = a["weight"] * np.minimum(a["set"] - a["rise"], a["max_duration"])
    return np.lexsort((a["rise"], -value))


def solve(model: LinkScheduling, ctx: StageContext) -> Outcome:
    packer = pack(model, quality_order(model), ctx.budget.should_stop)
    bound = model.bound()
    proven = bound is not None and packer.value >= bound
    return Outcome(packer.plan(), bound, Status.OPTIMAL if proven else Status.FEASIBLE, ctx.budget.stop_cause(),
                   f"greedy packing by window quality: {len(packer.links)} links")
