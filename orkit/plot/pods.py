"""Pod packing: per-node stacked CPU and memory bars before and after the plan, each pod a segment
coloured by priority tier, with moved, evicted and newly placed pods hatched and outlined."""

from __future__ import annotations

import numpy as np

from orkit.models.pods import Cluster, Plan
from orkit.plot.common import colour, new_figure

HATCH = {"move": "//", "evict": "xx", "place": "..", "stay": ""}
CHANGE_COLOURS = {"move": "#d95f02", "evict": "#e7298a", "place": "#1b9e77", "stay": "#9e9e9e"}
MAX_NODES = 80


def draw(model: Cluster, solution: Plan):
    assignment = model.assignment_of(solution)
    action = model.actions(assignment)
    shown_resources = [k for k, r in enumerate(model.resources) if r in ("cpu", "memory")] or [0]
    nodes = np.arange(min(model.n_nodes, MAX_NODES))
    fig = new_figure(max(6, 0.28 * len(nodes) * len(shown_resources) + 3), 6.5)
    axes = fig.subplots(2, len(shown_resources), sharey=True, squeeze=False)
    tier_of = {int(t): k for k, t in enumerate(model.tiers)}
    for column, k in enumerate(shown_resources):
        capacity = np.maximum(model.capacity[:, k], 1)
        for row, (title, where) in enumerate((("before", model.current), ("after", assignment))):
            ax = axes[row, column]
            # "before" marks the pods the plan will move or evict; "after" the pods it moved or placed
            marked = {"move", "evict"} if row == 0 else {"move", "place"}
            _stack(ax, model, k, where, capacity, nodes, action, marked, tier_of)
            ax.axhline(1.0, color="black", linewidth=0.8)
            ax.set_title(f"{model.resources[k]} {title}", fontsize=9)
            ax.set_xticks(nodes, [model.nodes[i].name for i in nodes], rotation=90, fontsize=6)
        axes[0, column].set_ylabel("share of allocatable")
        axes[1, column].set_ylabel("share of allocatable")
    counts = {a: int((action == a).sum()) for a in ("place", "move", "evict", "pending")}
    extra = f" (first {MAX_NODES} of {model.n_nodes} nodes)" if model.n_nodes > MAX_NODES else ""
    fig.suptitle(f"{model.name}: {counts['place']} placed, {counts['move']} moved, {counts['evict']} evicted, "
                 f"{counts['pending']} still pending{extra}", fontsize=10)
    _legend(fig, model, tier_of)
    return fig


def _stack(ax, model: Cluster, k: int, where: np.ndarray, capacity: np.ndarray, nodes: np.ndarray,
           action: np.ndarray, marked: set[str], tier_of: dict[int, int]) -> None:
    on = np.flatnonzero((where >= 0) & (where < len(nodes)))
    on = on[np.lexsort((-model.priority[on], where[on]))]  # per node, highest priority at the bottom
    share = model.demand[on, k] / capacity[where[on]]
    bottom = np.zeros(len(on))
    for node in np.unique(where[on]):
        mask = where[on] == node
        bottom[mask] = np.concatenate([[0.0], np.cumsum(share[mask])[:-1]])
    for kind in ("stay", "move", "evict", "place"):
        mask = action[on] == kind
        if not mask.any():
            continue
        pods = on[mask]
        emphasised = kind in marked
        ax.bar(where[pods], share[mask], bottom=bottom[mask], width=0.8,
               color=[colour(tier_of[int(model.priority[p])], "tab10") for p in pods],
               edgecolor=CHANGE_COLOURS[kind] if emphasised else "white", linewidth=1.2 if emphasised else 0.4,
               hatch=HATCH[kind] if emphasised else "")


def _legend(fig, model: Cluster, tier_of: dict[int, int]) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=colour(k, "tab10"), label=f"priority {t}") for t, k in tier_of.items()]
    handles += [Patch(facecolor="white", edgecolor=CHANGE_COLOURS[a], hatch=HATCH[a], label=a)
                for a in ("move", "evict", "place")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 8), fontsize=7)
