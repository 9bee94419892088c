"""Link scheduling on CP-SAT: one optional interval per usable window with variable start and end.

Per satellite, a no-overlap over [start, end + switch); per station, a cumulative of capacity
`antennas` (a no-overlap for one antenna) over the occupations [start - setup, end + teardown +
re-pointing), with downtimes as fixed blocks. Interval graphs are perfect, so the cumulative is
exact and antennas are assigned afterwards. Caps per period count a window in the period of its
start (a Boolean per period when the start may fall in several). Maximises weighted link time,
hinted with the incumbent.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.satellite import COMPACT_MODEL_WINDOWS, LinkScheduling
from orkit.solvers.cpsat.common import CompiledCPSAT

MIN_SECONDS = 0.05


def compile(model: LinkScheduling, ctx: StageContext, core: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
            upper: int | None = None) -> CompiledCPSAT:
    """The model above; `core` limits some windows' links to given starts and ends (none: the window
    stays empty) and `upper` caps the objective (a bound proven elsewhere, so reaching it ends the search)."""
    a = model.arrays
    core = core or {}
    cp = cp_model.CpModel()
    cp.name = model.name
    windows = [int(k) for k in range(model.n_windows)
               if model.usable[k] and (k not in core or all(len(x) for x in core[k]))]
    present, start, end, dur = {}, {}, {}, {}
    by_satellite: dict[int, list] = {}
    by_station: dict[int, list] = {}
    period_terms: dict[tuple[int, int], list[tuple]] = {}
    for k in windows:
        w = model.windows[k]
        mode = model.mode_of[w.satellite]
        shortest, longest = int(a["min_duration"][k]), int(a["max_duration"][k])
        b = cp.new_bool_var(f"use_{k}")
        if k in core:  # absent windows keep the canonical start, and an end the duration allows
            starts, ends = core[k]
            s = cp.new_int_var_from_domain(cp_model.Domain.FromValues([w.rise, *starts.tolist()]), f"start_{k}")
            e = cp.new_int_var_from_domain(cp_model.Domain.FromValues(ends.tolist()), f"end_{k}")
        else:
            s = cp.new_int_var(w.rise, w.set - shortest, f"start_{k}")
            e = cp.new_int_var(w.rise + shortest, w.set, f"end_{k}")
        d = cp.new_int_var(0, longest, f"dur_{k}")
        cp.add(d >= shortest).only_enforce_if(b)
        cp.add(d == 0).only_enforce_if(~b)
        cp.add(s == w.rise).only_enforce_if(~b)  # absent windows: one canonical value
        present[k], start[k], end[k], dur[k] = b, s, e, d
        by_satellite.setdefault(w.satellite, []).append(
            cp.new_optional_interval_var(s, d + mode.switch, e + mode.switch, b, f"sat_{k}"))
        for i in w.stations:
            before, after = model.padding(k, i)
            by_station.setdefault(i, []).append(cp.new_optional_interval_var(
                s - before, d + before + after, e + after, b, f"ant_{k}_{i}"))
        if mode.max_links is not None or mode.max_time is not None:
            period = model.period_of(w.satellite)
            first, last = w.rise // period, (w.set - shortest) // period
            if first == last:
                period_terms.setdefault((w.satellite, first), []).append((b, d))
                continue
            choices = []
            for p in range(first, last + 1):
                z = cp.new_bool_var(f"in_{k}_{p}")
                dz = cp.new_int_var(0, longest, f"dur_{k}_{p}")
                cp.add(s >= p * period).only_enforce_if(z)
                cp.add(s <= (p + 1) * period - 1).only_enforce_if(z)
                cp.add(dz == d).only_enforce_if(z)
                cp.add(dz == 0).only_enforce_if(~z)
                choices.append(z)
                period_terms.setdefault((w.satellite, p), []).append((z, dz))
            cp.add(sum(choices) == b)
    for intervals in by_satellite.values():
        if len(intervals) > 1:
            cp.add_no_overlap(intervals)
    for i, intervals in by_station.items():
        station = model.stations[i]
        blocks = [cp.new_fixed_size_interval_var(d0 + station.setup, d1 - d0, f"down_{i}_{d0}")
                  for d0, d1 in station.downtime]
        if station.antennas == 1:
            if len(intervals) + len(blocks) > 1:
                cp.add_no_overlap(intervals + blocks)
        elif len(intervals) > station.antennas:
            cp.add_cumulative(intervals + blocks, [1] * len(intervals) + [station.antennas] * len(blocks),
                              station.antennas)
    for (s_, _), terms in period_terms.items():
        mode = model.mode_of[s_]
        if mode.max_links is not None and len(terms) > mode.max_links:
            cp.add(sum(b for b, _ in terms) <= mode.max_links)
        if mode.max_time is not None:
            cp.add(sum(d for _, d in terms) <= mode.max_time)
    objective = sum(int(a["weight"][k]) * dur[k] for k in windows)
    if upper is not None:
        cp.add(objective <= upper)
    cp.maximize(objective)
    if ctx.incumbent is not None:
        used = {link.window: link for link in ctx.incumbent.links}
        for k in windows:
            link = used.get(k)
            cp.add_hint(present[k], link is not None)
            cp.add_hint(start[k], link.start if link else model.windows[k].rise)
            cp.add_hint(end[k], link.end if link else model.windows[k].rise + int(a["min_duration"][k]))
            cp.add_hint(dur[k], link.end - link.start if link else 0)

    def decode(solver: cp_model.CpSolver):
        chosen = [(k, solver.value(start[k]), solver.value(end[k])) for k in windows if solver.value(present[k])]
        return model.assign_antennas(chosen)

    return CompiledCPSAT(cp, {"present": present, "start": start, "end": end, "duration": dur}, decode,
                         lambda v: round(v), False, [f"{len(windows)} optional link intervals"])


def solve(model: LinkScheduling, ctx: StageContext) -> Outcome:
    limit = int(ctx.params.pop("max_windows", COMPACT_MODEL_WINDOWS))
    if model.usable.sum() > limit:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED,
                       f"skipped: {int(model.usable.sum())} usable windows, above cpsat.max_windows={limit}")
    return compile(model, ctx).run(ctx)
