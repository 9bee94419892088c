"""RCPSP: a Gantt chart with the precedence-critical activities marked, over one resource profile per
resource against its capacity (downtime shaded)."""

from __future__ import annotations

import numpy as np

from orkit.models.rcpsp import RCPSP, RCPSPSolution
from orkit.plot.common import bars, new_figure

CRITICAL, OTHER, CAPACITY, DOWNTIME = "#c0392b", "#4c72b0", "#222222", "#f2b6b6"
MAX_LABELLED_ROWS = 60


def draw(model: RCPSP, solution: RCPSPSolution):
    starts = np.asarray(solution.starts, dtype=np.int64)
    makespan = model.makespan(solution)
    shown = np.flatnonzero(model.durations > 0)  # PSPLIB's dummy source and sink take no time
    shown = shown[np.lexsort((shown, starts[shown]))]  # earliest first, from the top
    critical = model.critical_activities(solution)
    n_res = model.n_resources
    gantt_height = min(max(2.5, 0.22 * len(shown)), 12)
    fig = new_figure(10, gantt_height + 1.6 * n_res)
    axes = fig.subplots(1 + n_res, 1, sharex=True, height_ratios=[gantt_height] + [1.6] * n_res, squeeze=False)[:, 0]

    gantt = axes[0]
    rows = np.arange(len(shown))
    bars(gantt, rows, starts[shown], model.durations[shown], height=0.7,
         facecolors=[CRITICAL if critical[i] else OTHER for i in shown], edgecolors="white", linewidths=0.5)
    gantt.set_ylim(len(shown) - 0.5, -0.5)
    if len(shown) <= MAX_LABELLED_ROWS:
        gantt.set_yticks(rows, [model.labels[i] for i in shown], fontsize=7)
    else:
        gantt.set_yticks([])
        gantt.set_ylabel(f"{len(shown)} activities")
    gantt.axvline(makespan, color=CAPACITY, linewidth=1, linestyle="--")
    gantt.set_title(f"{model.name}: makespan {makespan}, {int(critical[shown].sum())} precedence-critical "
                    "activities (red)", fontsize=10)

    capacity = model.capacity_profile(makespan)
    usage = model.resource_usage(starts)
    time = np.arange(makespan + 1)
    for k, ax in enumerate(axes[1:]):
        used = np.append(usage[k], usage[k][-1:]) if makespan else np.zeros(1)
        cap = np.append(capacity[k], capacity[k][-1:]) if makespan else np.zeros(1)
        ax.fill_between(time, used, step="post", color=OTHER, alpha=0.6, linewidth=0)
        ax.step(time, cap, where="post", color=CAPACITY, linewidth=1.2, label="capacity")
        down = cap < model.capacities[k]
        if down.any():
            ax.fill_between(time, cap, model.capacities[k], where=down, step="post", color=DOWNTIME,
                            label="downtime", linewidth=0)
            ax.legend(loc="upper right", fontsize=7)
        ax.set_ylim(0, max(int(model.capacities[k]), int(usage[k].max(initial=0))) * 1.15 + 0.5)
        ax.set_ylabel(model.resource_names[k], fontsize=8)
    axes[-1].set_xlabel("time")
    axes[-1].set_xlim(0, max(makespan, 1))
    return fig
