"""Solve progress: the incumbent and the bound over time, one marker colour per stage of the chain (the
markers, not stage wall times, place the stages: the chain's own work between stages is not in them)."""

from __future__ import annotations

import numpy as np

from orkit.core.result import Result, Sense
from orkit.plot.common import colour, new_figure


def draw(result: Result):
    fig = new_figure(8, 4)
    ax = fig.subplots()
    vector = any(isinstance(p.objective, tuple | list) for p in result.progress)
    events = [p for p in result.progress if p.objective is not None or p.bound is not None]
    backends = list(dict.fromkeys(p.backend for p in events))
    end = max(result.wall_time, max((p.elapsed for p in events), default=0.0), 1e-3)

    def first(value):  # a lexicographic score vector is drawn by its leading (highest-tier) component
        return value[0] if isinstance(value, tuple | list) else value

    found = [(p.elapsed, first(p.objective), p.backend) for p in events if p.objective is not None]
    if found:
        times, values, who = zip(*found)
        ax.step([*times, end], [*values, values[-1]], where="post", color="#333333", linewidth=1.2,
                label="incumbent" + (" (first component)" if vector else ""))
        for k, backend in enumerate(backends):
            mine = [(t, v) for t, v, b in found if b == backend]
            if mine:
                ax.scatter(*zip(*mine), color=colour(k, "tab10"), s=18, zorder=3, label=f"found by {backend}")
    bounds = [(p.elapsed, first(p.bound)) for p in events if p.bound is not None and np.isfinite(first(p.bound))]
    if bounds:
        times, values = zip(*bounds)
        ax.step([*times, end], [*values, values[-1]], where="post", color="#c0392b", linestyle="--",
                linewidth=1.2, label="bound" + (" (first component)" if vector else ""))
    if not found and not bounds:
        ax.text(0.5, 0.5, "no incumbent or bound was reported", transform=ax.transAxes, ha="center")
    ax.set_xlim(0, end * 1.02)
    ax.set_xlabel("seconds")
    ax.set_ylabel("objective (" + ("maximise" if result.model is not None and
                                   getattr(result.model, "sense", None) is Sense.MAXIMIZE else "minimise") + ")")
    ax.set_title(result.summary().splitlines()[0], fontsize=9)
    if found or bounds:
        ax.legend(fontsize=7, loc="best")
    return fig
