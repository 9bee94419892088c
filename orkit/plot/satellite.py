"""Satellite links: one row per ground-station antenna, the station's visibility windows in the
background, links coloured by satellite, downtime hatched."""

from __future__ import annotations

import numpy as np

from orkit.models.satellite import LinkPlan, LinkScheduling
from orkit.plot.common import bars, colour, new_figure

WINDOW, DOWNTIME = "#e6e6e6", "#f2b6b6"
MAX_ROWS = 60


def draw(model: LinkScheduling, solution: LinkPlan, stations: list[int] | None = None):
    """`stations` picks which stations to show (default: the busiest ones, up to 60 antenna rows)."""
    if stations is None:
        stations = _busiest(model, solution)
    row_of: dict[tuple[int, int], int] = {}
    for i in stations:
        for a in range(model.stations[i].antennas):
            row_of[(i, a)] = len(row_of)
    scale, unit = (3600.0, "hours") if model.horizon > 3 * 3600 else (60.0, "minutes")
    fig = new_figure(11, min(max(2.5, 0.3 * len(row_of) + 1.2), 14))
    ax = fig.subplots()

    background: list[tuple[int, int, int]] = []  # (row, rise, set) behind every antenna of the station
    shown = set(stations)
    for w in model.windows:
        for i in w.stations:
            for a in range(model.stations[i].antennas if i in shown else 0):
                background.append((row_of[(i, a)], w.rise, w.set))
    if background:
        rows, rise, set_ = np.array(background).T
        bars(ax, rows, rise / scale, (set_ - rise) / scale, height=0.9, facecolors=WINDOW, edgecolors="none")
    downtime = [(row_of[(i, a)], lo, hi) for i in stations for lo, hi in model.stations[i].downtime
                for a in range(model.stations[i].antennas)]
    if downtime:
        rows, lo, hi = np.array(downtime).T
        bars(ax, rows, lo / scale, (hi - lo) / scale, height=0.9, facecolors="none", edgecolors=DOWNTIME,
             hatch="////", linewidths=0)

    link_rows, starts, lengths, colours = [], [], [], []
    for link in solution.links:
        w = model.windows[link.window]
        for i, a in zip(w.stations, link.antennas):
            if (i, a) in row_of:
                link_rows.append(row_of[(i, a)])
                starts.append(link.start / scale)
                lengths.append((link.end - link.start) / scale)
                colours.append(colour(w.satellite))
    if link_rows:
        bars(ax, link_rows, starts, lengths, height=0.6, facecolors=colours, edgecolors="black", linewidths=0.3)

    ticks = sorted(row_of.items(), key=lambda item: item[1])
    ax.set_yticks([r for _, r in ticks],
                  [model.stations[i].name + (f" #{a}" if model.stations[i].antennas > 1 else "")
                   for (i, a), _ in ticks], fontsize=7)
    ax.set_ylim(len(row_of) - 0.5, -0.5)
    ax.set_xlim(0, model.horizon / scale)
    ax.set_xlabel(f"{unit} from {model.epoch}" if model.epoch else unit)
    evaluation = model.evaluate(solution)
    shown = f" ({len(stations)} of {len(model.stations)} stations)" if len(stations) < len(model.stations) else ""
    ax.set_title(f"{model.name}: {len(solution.links)} links, weighted link time {evaluation.objective}{shown}; "
                 "grey = visibility", fontsize=10)
    return fig


def _busiest(model: LinkScheduling, solution: LinkPlan) -> list[int]:
    """Stations by linked time, busiest first, until the antenna rows would exceed MAX_ROWS."""
    linked = np.zeros(len(model.stations))
    for link in solution.links:
        for i in model.windows[link.window].stations:
            linked[i] += link.end - link.start
    chosen, rows = [], 0
    for i in np.argsort(-linked, kind="stable"):
        if rows + model.stations[i].antennas > MAX_ROWS and chosen:
            break
        chosen.append(int(i))
        rows += model.stations[i].antennas
    return sorted(chosen)
