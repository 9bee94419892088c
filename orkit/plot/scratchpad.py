"""Scratchpad: the memory map, time on x and address on y, one rectangle per buffer, against the
capacity (or the peak address when minimising it)."""

from __future__ import annotations

import numpy as np

from orkit.models.scratchpad import BufferPlacement, Placement
from orkit.plot.common import colour, new_figure

MAX_LABELLED = 40


def draw(model: BufferPlacement, solution: Placement):
    from matplotlib.collections import PolyCollection

    offsets = np.asarray(solution.offsets, dtype=np.int64)
    top = offsets + model.sizes
    fig = new_figure(10, 5.5)
    ax = fig.subplots()
    boxes = [((s, o), (e, o), (e, t), (s, t)) for s, e, o, t in zip(model.starts, model.ends, offsets, top)]
    ax.add_collection(PolyCollection(boxes, facecolors=[colour(i) for i in range(model.n)], edgecolors="black",
                                     linewidths=0.3, alpha=0.9))
    peak = int(top.max(initial=0))
    ax.axhline(peak, color="#555555", linestyle=":", linewidth=1, label=f"peak address {peak}")
    ceiling = peak
    if model.capacity is not None:
        ax.axhline(model.capacity, color="#c0392b", linewidth=1.2, label=f"capacity {model.capacity}")
        ceiling = max(ceiling, model.capacity)
    if model.n <= MAX_LABELLED:
        for label, s, e, o, t in zip(model.labels, model.starts, model.ends, offsets, top):
            ax.text((s + e) / 2, (o + t) / 2, label, ha="center", va="center", fontsize=7)
    ax.set_xlim(int(model.starts.min(initial=0)), int(model.ends.max(initial=1)))
    ax.set_ylim(0, ceiling * 1.05 or 1)
    ax.set_xlabel("time")
    ax.set_ylabel("address")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(f"{model.name}: {model.n} buffers, peak address {peak}", fontsize=10)
    return fig
