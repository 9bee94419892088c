"""DNN memory plan: the scratchpad's memory map over the operator steps (one box per residency
segment, coloured by tensor, spilled tensors hatched in red), above the off-chip bytes each step
moves (spill writes and fetches)."""

from __future__ import annotations

import numpy as np

from orkit.models.dnn import DnnMemory, MemoryPlan
from orkit.plot.common import colour, new_figure
from orkit.plot.scratchpad import memory_map


def draw(model: DnnMemory, solution: MemoryPlan):
    fig = new_figure(11, 6.5)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    count = np.bincount(solution.tensor, minlength=model.n)
    spilled = count[solution.tensor] > 1
    labels = [str(t) for t in solution.tensor]
    memory_map(top, solution.first, solution.last + 1, solution.offset, model.sizes[solution.tensor],
               model.capacity, [colour(int(t)) for t in solution.tensor], labels, spilled)
    moved = model.transfers(solution)
    bottom.bar(np.arange(model.m + 1) + 0.5, moved, width=1.0, color="#c0392b")
    bottom.set_ylabel("off-chip bytes")
    bottom.set_xlabel("operator step")
    total = model.offchip_bytes(count)
    what = f"{total:,} non-compulsory off-chip bytes" if model.capacity is not None else "no spills"
    top.set_title(f"{model.name}: {model.m} operators, {int((count > 1).sum())} tensors spilled, {what}",
                  fontsize=10)
    return fig
