"""Scratchpad: the memory map, time on x and address on y, one rectangle per buffer, against the
capacity (or the peak address when minimising it)."""

from __future__ import annotations

import numpy as np

from orkit.models.scratchpad import BufferPlacement, Placement
from orkit.plot.common import colour, new_figure

MAX_LABELLED = 40


def memory_map(ax, starts, ends, offsets, sizes, capacity: int | None, colours, labels=None, marked=None) -> int:
    """Draw boxes [start, end) x [offset, offset + size) with the peak and capacity lines; boxes in
    `marked` (a boolean mask) are hatched with a red edge. Returns the peak address."""
    from matplotlib.collections import PolyCollection

    starts, ends, offsets = (np.asarray(a, dtype=np.int64) for a in (starts, ends, offsets))
    top = offsets + np.asarray(sizes, dtype=np.int64)
    boxes = [((s, o), (e, o), (e, t), (s, t)) for s, e, o, t in zip(starts, ends, offsets, top)]
    ax.add_collection(PolyCollection(boxes, facecolors=colours, edgecolors="black", linewidths=0.3, alpha=0.9))
    if marked is not None and np.any(marked):
        ax.add_collection(PolyCollection([b for b, m in zip(boxes, marked) if m], facecolors="none",
                                         edgecolors="#c0392b", hatch="///", linewidths=0.8, label="spilled tensor"))
    peak = int(top.max(initial=0))
    ax.axhline(peak, color="#555555", linestyle=":", linewidth=1, label=f"peak address {peak}")
    ceiling = peak
    if capacity is not None:
        ax.axhline(capacity, color="#c0392b", linewidth=1.2, label=f"capacity {capacity}")
        ceiling = max(ceiling, capacity)
    if labels is not None and len(labels) <= MAX_LABELLED:
        for label, s, e, o, t in zip(labels, starts, ends, offsets, top):
            ax.text((s + e) / 2, (o + t) / 2, label, ha="center", va="center", fontsize=7)
    ax.set_xlim(int(starts.min(initial=0)), int(ends.max(initial=1)))
    ax.set_ylim(0, ceiling * 1.05 or 1)
    ax.set_ylabel("address")
    ax.legend(loc="upper right", fontsize=7)
    return peak


def draw(model: BufferPlacement, solution: Placement):
    fig = new_figure(10, 5.5)
    ax = fig.subplots()
    peak = memory_map(ax, model.starts, model.ends, solution.offsets, model.sizes, model.capacity,
                      [colour(i) for i in range(model.n)], model.labels)
    ax.set_xlabel("time")
    ax.set_title(f"{model.name}: {model.n} buffers, peak address {peak}", fontsize=10)
    return fig
