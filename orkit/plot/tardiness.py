"""Single machine: the sequence as a Gantt row with each job's due date, tardy jobs in red with their
tardiness drawn past the due date."""

from __future__ import annotations

import numpy as np

from orkit.models.tardiness import Sequence, SingleMachine
from orkit.plot.common import bars, new_figure

ON_TIME, TARDY, LATE_PART = "#4c72b0", "#c0392b", "#f5b7b1"
MAX_LABELLED_ROWS = 60


def draw(model: SingleMachine, solution: Sequence):
    table = model.solution_table(solution)
    n = len(table)
    fig = new_figure(10, min(max(2.5, 0.22 * n + 1), 12))
    ax = fig.subplots()
    rows = np.arange(n)
    tardy = table["tardiness"].to_numpy() > 0
    late = np.flatnonzero(tardy)  # the stretch between due date and completion, behind the bar's end
    bars(ax, late, table["due"].to_numpy()[late], table["tardiness"].to_numpy()[late], height=0.25,
         facecolors=LATE_PART, edgecolors="none")
    bars(ax, rows, table["start"], table["p"], height=0.7,
         facecolors=np.where(tardy, TARDY, ON_TIME), edgecolors="white", linewidths=0.5)
    ax.scatter(table["due"], rows, marker="|", s=120, color="black", label="due date", zorder=3)
    if model.has_releases:
        releases = model.releases[solution.order]
        ax.scatter(releases, rows, marker=">", s=20, color="#555555", label="release date", zorder=3)
    ax.set_ylim(n - 0.5, -0.5)
    if n <= MAX_LABELLED_ROWS:
        ax.set_yticks(rows, table["job"], fontsize=7)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{n} jobs in sequence order")
    ax.set_xlabel("time")
    ax.legend(loc="lower left", fontsize=7)
    total = int(table["cost"].sum())
    weighted = "weighted " if (model.weights != 1).any() else ""
    ax.set_title(f"{model.name}: {weighted}{model.objective.value} {total}, {int(tardy.sum())} of {n} jobs tardy (red)",
                 fontsize=10)
    return fig
