"""Pictures of orkit results (matplotlib, from the `notebooks` extra): each family's own picture of a
solution, and the solve-progress plot of any Result.

    fig = orkit.plot.picture(result)          # Gantt, memory map, node bars, link timeline ...
    fig = orkit.plot.progress(result)         # incumbent and bound over time
    orkit.plot.save(fig, "schedule.png")
"""

from __future__ import annotations

from typing import Any

from orkit.core.registry import PROBLEMS, resolve
from orkit.core.result import Result
from orkit.plot.common import PlotError, check_target, save

__all__ = ["PlotError", "check_target", "picture", "progress", "save"]


def picture(subject: Result | Any, solution: Any = None, **options: Any):
    """The family's picture of a Result's best solution, or of `solution` for a model `subject`."""
    if isinstance(subject, Result):
        model, solution = subject.model, subject.solution if solution is None else solution
        if solution is None:
            raise PlotError(f"{subject.model_name}: {subject.status.value}, no solution to draw")
    else:
        model = subject
        if solution is None:
            raise PlotError("picture(model, solution): a solution is needed to draw a model")
    entry = PROBLEMS.get(getattr(model, "problem", None))
    if entry is None or entry.picture is None:
        raise PlotError(f"no picture for {type(model).__name__}")
    return resolve(entry.picture)(model, solution, **options)


def progress(result: Result):
    """Incumbent and bound over the elapsed time of one solve, coloured by the stage that found them."""
    from orkit.plot.convergence import draw

    return draw(result)
