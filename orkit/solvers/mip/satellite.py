"""Link scheduling as a window-selection MIP on HiGHS (or CBC): used[k], start[k], end[k] per usable
window, and for every pair of windows that could clash (same satellite, or same one-antenna
station) an order Boolean with big-M separation rows; downtimes are ordered against the same way.
Maximises weighted link time (minimises its negative). The big-M relaxation is weak, so this
backend is for small instances and for checking the others; stations with several antennas are
left to the cpsat and decomposition backends, which model them exactly.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.result import Status, Stop
from orkit.models.satellite import COMPACT_MODEL_WINDOWS, LinkScheduling
from orkit.solvers.mip.common import CompiledMIP, LinearBuilder, size_guard

MIN_SECONDS = 0.05
SHARE_WHEN_FOLLOWED = 0.3  # of the remaining budget when CP-SAT follows (small cases: proof in well under a second)
# With CP-SAT after it, the MIP is skipped above this many usable windows: its big-M relaxation gives
# nothing there (measured: 2 branch-and-bound nodes in 25 s on 1,657 windows, no gain on a 412-window group).
WINDOWS_WHEN_FOLLOWED = 300


class Unsupported(Exception):
    """The instance uses a rule this formulation does not model; the message says which."""


def _separations(model: LinkScheduling):
    """(k, l, gap_k_then_l, gap_l_then_k): pairs that clash unless one ends, plus a gap, before the other."""
    a = model.arrays
    pairs = []
    for s, ks in enumerate(model.windows_of_satellite):
        ks = [int(k) for k in ks if model.usable[k]]
        switch = model.mode_of[s].switch
        for k, l in combinations(ks, 2):
            if a["rise"][k] < a["set"][l] + switch and a["rise"][l] < a["set"][k] + switch:
                pairs.append((k, l, switch, switch))
    for i in range(len(model.stations)):
        ks = [int(k) for k in model.windows_of_station[i] if model.usable[k]]
        for k, l in combinations(ks, 2):
            (before_k, after_k), (before_l, after_l) = model.padding(k, i), model.padding(l, i)
            gap_kl, gap_lk = after_k + before_l, after_l + before_k
            if a["rise"][k] < a["set"][l] + gap_lk and a["rise"][l] < a["set"][k] + gap_kl:
                pairs.append((k, l, gap_kl, gap_lk))
    return pairs


def compile(model: LinkScheduling, ctx: StageContext) -> CompiledMIP:
    if any(s.antennas > 1 for s in model.stations):
        raise Unsupported("stations with several antennas (use cpsat or decomposition)")
    if any(m.max_links is not None or m.max_time is not None for m in model.modes) and any(
            model.period_of(s) < model.horizon for s in range(len(model.satellites))):
        raise Unsupported("caps per orbit or per period shorter than the horizon (use cpsat)")
    a = model.arrays
    windows = [int(k) for k in range(model.n_windows) if model.usable[k]]
    limit = int(ctx.params.pop("max_windows", COMPACT_MODEL_WINDOWS))
    if len(windows) > limit:
        raise Unsupported(f"{len(windows)} usable windows, above mip.max_windows={limit}")
    pairs = _separations(model)
    blocks = [(k, i, d0, d1) for k in windows for i in model.windows[k].stations
              for d0, d1 in model.stations[i].downtime]
    rows = 3 * len(windows) + 2 * len(pairs) + 2 * len(blocks)
    skip = size_guard(rows, 3 * len(windows) + len(pairs) + len(blocks), 4 * rows, ctx.params)
    if skip:
        raise Unsupported(skip)
    b = LinearBuilder()
    used = b.add_columns(len(windows))
    start = b.add_columns(len(windows), 0, model.horizon, integer=False)
    end = b.add_columns(len(windows), 0, model.horizon, integer=False)
    col = {k: j for j, k in enumerate(windows)}
    weight = a["weight"][windows].astype(np.float64)
    b.cost[1][:] = weight  # minimise -sum w (end - start)
    b.cost[2][:] = -weight
    for j, k in enumerate(windows):
        w = model.windows[k]
        lo, hi = int(a["min_duration"][k]), int(a["max_duration"][k])
        b.add_row([start[j]], [1], lower=w.rise)
        b.add_row([end[j]], [1], upper=w.set)
        # min * used <= end - start <= max * used
        b.add_row([end[j], start[j], used[j]], [1, -1, -lo], lower=0)
        b.add_row([end[j], start[j], used[j]], [1, -1, -hi], upper=0)
    big = float(model.horizon + max([0] + [p[2] + p[3] for p in pairs]) + 1)
    orders, follows = [], []
    for k, l, gap_kl, gap_lk in pairs:
        order = b.add_columns(1)[0]  # 1: k first
        orders.append(order)
        jk, jl = col[k], col[l]
        # k first: end_k + gap_kl <= start_l  (relaxed unless both are used and order = 1)
        b.add_row([end[jk], start[jl], order, used[jk], used[jl]], [1, -1, big, big, big],
                  upper=3 * big - gap_kl)
        b.add_row([end[jl], start[jk], order, used[jk], used[jl]], [1, -1, -big, big, big],
                  upper=2 * big - gap_lk)
    for k, i, d0, d1 in blocks:
        j = col[k]
        before, after = model.padding(k, i)
        repoint = model.stations[i].setup
        follow = b.add_columns(1)[0]  # 1: the link follows the downtime
        follows.append(follow)
        # ahead: end + after - re-pointing <= d0 ; behind: start - before >= d1 + re-pointing
        b.add_row([end[j], follow, used[j]], [1, -big, big], upper=d0 - after + repoint + big)
        b.add_row([start[j], follow, used[j]], [-1, big, big], upper=-(d1 + repoint + before) + 2 * big)
    lp = b.build(integral_objective=True)
    warm = None
    if ctx.incumbent is not None:
        warm = np.zeros(lp.n_cols)
        links = {link.window: link for link in ctx.incumbent.links}
        for j, k in enumerate(windows):
            link = links.get(k)
            warm[used[j]] = 1.0 if link else 0.0
            warm[start[j]] = link.start if link else model.windows[k].rise
            warm[end[j]] = link.end if link else model.windows[k].rise
        for order, (k, l, _, _) in zip(orders, pairs):
            lk, ll = links.get(k), links.get(l)
            warm[order] = 1.0 if (lk and ll and lk.start <= ll.start) or (lk and not ll) else 0.0
        for follow, (k, _, d0, _) in zip(follows, blocks):
            link = links.get(k)
            warm[follow] = 1.0 if link and link.start >= d0 else 0.0

    def decode(x: np.ndarray):
        chosen = [(k, int(round(x[start[j]])), int(round(x[end[j]]))) for j, k in enumerate(windows)
                  if x[used[j]] > 0.5]
        return model.assign_antennas(chosen)

    return CompiledMIP(lp, {"used": used, "start": start, "end": end}, decode, warm, False,
                       [f"{len(windows)} windows, {len(pairs)} ordered pairs"])


def solve(model: LinkScheduling, ctx: StageContext) -> Outcome:
    usable = int(model.usable.sum())
    if "cpsat" in ctx.following and usable > WINDOWS_WHEN_FOLLOWED:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED,
                       f"skipped: {usable} usable windows, above {WINDOWS_WHEN_FOLLOWED} with CP-SAT to follow")
    try:
        compiled = compile(model, ctx)
    except Unsupported as exc:
        return Outcome(None, None, Status.UNKNOWN, Stop.COMPLETED, f"skipped: {exc}")
    if not ctx.is_last and (ctx.params.get("solver", "highs") == "highs"):
        ctx.params.setdefault("time_limit", max(MIN_SECONDS, SHARE_WHEN_FOLLOWED * ctx.budget.remaining()))
    outcome = compiled.run(ctx)
    if outcome.bound is not None:  # the MIP minimises the negated link time
        outcome.bound = -outcome.bound
    return outcome
