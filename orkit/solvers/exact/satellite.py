"""Station decomposition with Lagrangian prices: an upper bound and plans that approach it.

Without the rule "a satellite holds one link at a time", stations are independent, and one
antenna's best schedule is a dynamic programme over whole seconds (satellite_kernels.station_dp):
exact for the antenna, with re-pointing, set-up, tear-down, minimum and maximum durations. The
satellite rule is priced instead of imposed: each second a satellite could spend on two stations
at once (a contested segment, switch time included) carries a price that every link pays, and the
sum of the stations' best values plus the prices is an upper bound for any price vector
(Lagrangian relaxation; per-period caps and "one link per window" are relaxed as well, and a
station with k antennas counts k times its one-antenna value). Prices follow subgradient steps.

Plans come from the same programme run station after station, each reserving the satellite time
it takes so later stations cannot use it, with the prices steering who gets a contested second;
then one link per window, caps, and the greedy packer fills what is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from orkit.core.backend import Outcome, StageContext
from orkit.core.budget import Budget
from orkit.core.chain import run_stages
from orkit.core.result import Progress, Status
from orkit.models.satellite import COMPACT_MODEL_WINDOWS, Link, LinkPlan, LinkScheduling
from orkit.solvers.cpsat.satellite import compile as cpsat_compile
from orkit.solvers.exact.satellite_kernels import link_values, prefix_values, station_dp
from orkit.solvers.heuristics.satellite import quality_order
from orkit.solvers.heuristics.satellite_packing import Packer

MIN_SECONDS = 0.05
PENALTY = 1e9  # per second of satellite time another station already holds
STALL_ITERATIONS = 6  # halve the step after this many iterations without a better bound
MIN_STEP_SCALE = 1e-4
PATIENCE = 40  # stop after this many iterations without a better whole-second bound
MAX_PRICES = 50_000  # contested segments are cut into pieces of whole seconds up to this count
SHARE_WHEN_FOLLOWED = 0.4  # of the remaining budget, when CP-SAT follows
# The core search runs when the prices' plan is this close to the bound: with a wider gap the reduced
# costs keep most links (half of them on the SatNet weeks at 20 %) and CP-SAT on the whole model, the
# next stage, does as well.
CORE_GAP = 0.02


@dataclass
class Pieces:
    """The free parts of one station's windows, as kernel arrays."""

    window: np.ndarray
    rise: np.ndarray
    length: np.ndarray
    min_d: np.ndarray
    max_d: np.ndarray
    before: np.ndarray
    after: np.ndarray
    switch: np.ndarray
    weight: np.ndarray
    satellite: np.ndarray
    base: np.ndarray

    def subset(self, keep: np.ndarray) -> Pieces:
        fields = {name: getattr(self, name)[keep] for name in
                  ("window", "rise", "length", "min_d", "max_d", "before", "after", "switch", "weight", "satellite")}
        return Pieces(**fields, base=_bases(fields["length"]))


def _bases(length: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(length + 1)]).astype(np.int64)


class StationDecomposition:
    def __init__(self, model: LinkScheduling):
        self.model = model
        a = model.arrays
        self.pieces: list[Pieces] = []
        for i in range(len(model.stations)):
            rows = []
            for k in model.windows_of_station[i]:
                if not model.usable[k]:
                    continue
                w = model.windows[k]
                before, after = model.padding(int(k), i)
                for lo, hi in model.free_spans(int(k), w.rise, w.set):
                    if hi - lo >= a["min_duration"][k]:
                        rows.append((k, lo, hi - lo, a["min_duration"][k], min(a["max_duration"][k], hi - lo),
                                     before, after, model.mode_of[w.satellite].switch, a["weight"][k], w.satellite))
            cols = np.array(rows, dtype=np.int64).reshape(-1, 10).T
            self.pieces.append(Pieces(*cols, base=_bases(cols[2])))
        # the plans leave antenna arrays (windows over several stations) to the packer's fill
        single = np.array([len(w.stations) == 1 for w in model.windows], bool)
        self.single_station = [single[p.window] for p in self.pieces]
        self.fill_order = [int(k) for k in quality_order(model) if model.usable[k]]
        self._contested_segments()

    def _contested_segments(self) -> None:
        """Elementary segments of time where two or more windows of one satellite could hold it, cut
        into pieces of equal length."""
        model, a = self.model, self.model.arrays
        lo_all, hi_all, sat_all = [], [], []
        for s, ks in enumerate(model.windows_of_satellite):
            ks = ks[model.usable[ks]]
            if len(ks) < 2:
                continue
            switch = model.mode_of[s].switch
            starts, ends = a["rise"][ks], a["set"][ks] + switch
            points = np.unique(np.concatenate([starts, ends]))
            cover = np.zeros(len(points), np.int64)
            np.add.at(cover, np.searchsorted(points, starts), 1)
            np.add.at(cover, np.searchsorted(points, ends), -1)
            cover = np.cumsum(cover)[:-1]
            hot = np.flatnonzero(cover >= 2)
            lo_all.append(points[hot])
            hi_all.append(points[hot + 1])
            sat_all.append(np.full(len(hot), s))
        cat = (lambda x: np.concatenate(x).astype(np.int64)) if lo_all else (lambda x: np.zeros(0, np.int64))
        lo, hi, sat = cat(lo_all), cat(hi_all), cat(sat_all)
        # one price per `step` seconds: the finer, the tighter the bound (two stations may share a
        # segment's time but not its seconds); per second where that stays affordable
        step = max(1, -(-int((hi - lo).sum()) // MAX_PRICES))
        pieces = -(-(hi - lo) // step)
        first = np.repeat(lo, pieces) + step * (np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces))
        self.seg_lo, self.seg_sat = first, np.repeat(sat, pieces)
        self.seg_hi = np.minimum(first + step, np.repeat(hi, pieces))
        self.seg_len = (self.seg_hi - self.seg_lo).astype(np.float64)
        order = np.lexsort((self.seg_lo, self.seg_sat))
        self.seg_lo, self.seg_hi, self.seg_sat, self.seg_len = (x[order] for x in
                                                                (self.seg_lo, self.seg_hi, self.seg_sat, self.seg_len))
        self.sat_first = np.searchsorted(self.seg_sat, np.arange(len(model.satellites) + 1))
        # per station: CSR of the contested segments each piece touches
        self.piece_segments = []
        for p in self.pieces:
            firsts, counts, index = [], [], []
            for r in range(len(p.window)):
                s = p.satellite[r]
                g0, g1 = self.sat_first[s], self.sat_first[s + 1]
                lo, hi = p.rise[r], p.rise[r] + p.length[r] + p.switch[r]
                j0 = g0 + np.searchsorted(self.seg_hi[g0:g1], lo, side="right")
                j1 = g0 + np.searchsorted(self.seg_lo[g0:g1], hi, side="left")
                firsts.append(len(index))
                counts.append(max(0, j1 - j0))
                index.extend(range(j0, j1))
            self.piece_segments.append((np.array(firsts, np.int64), np.array(counts, np.int64),
                                        np.array(index, np.int64)))

    def _values(self, pieces: Pieces, prices: np.ndarray, segments, blocked) -> tuple:
        """The dynamic programme's arguments for one antenna under `prices`."""
        firsts, counts, index = segments
        b_first, b_count, b_lo, b_hi = blocked
        prefix, charge = prefix_values(pieces.rise, pieces.length, pieces.switch, pieces.weight.astype(np.float64),
                                       pieces.base, self.seg_lo[index], self.seg_hi[index], prices[index], firsts,
                                       counts, b_first, b_count, b_lo, b_hi, PENALTY)
        return (self.model.horizon, pieces.rise, pieces.length, pieces.min_d, pieces.max_d, pieces.before,
                pieces.after, pieces.base, prefix, charge)

    def _run(self, pieces: Pieces, prices: np.ndarray, segments, blocked) -> tuple[float, np.ndarray]:
        return station_dp(*self._values(pieces, prices, segments, blocked))

    def relaxed_plan(self, prices: np.ndarray) -> LinkPlan:
        """Each station's own best schedule under `prices`, the longest link per window: a hint, not a
        plan (two stations may hold one satellite at once). Near the bound, CP-SAT repairs it at once."""
        _, per_station, _ = self.relax(prices)
        best: dict[int, tuple[int, int]] = {}
        for pieces, links in zip(self.pieces, per_station):
            for k, (start, end) in _longest_per_window(pieces, links).items():
                if k not in best or end - start > best[k][1] - best[k][0]:
                    best[k] = (start, end)
        return LinkPlan(tuple(Link(k, start, end, ()) for k, (start, end) in best.items()))

    def link_bounds(self, prices: np.ndarray) -> LinkBounds:
        """Under `prices`, the bound on any plan holding each possible link start or end."""
        values, through = [], []
        for i, pieces in enumerate(self.pieces):
            args = self._values(pieces, prices, self.piece_segments[i], _no_blocks(len(pieces.window)))
            by_start, by_end = link_values(*args) if len(pieces.window) else (np.zeros(0), np.zeros(0))
            values.append(max(0.0, by_start.max(initial=0.0)))
            through.append((by_start, by_end))
        total = float(prices @ self.seg_len) + sum(s.antennas * v for s, v in zip(self.model.stations, values))
        # a plan holding a link of station i is worth at most the rest's best plus i's best through it
        return LinkBounds(self, [(by_start + total - v, by_end + total - v) for (by_start, by_end), v
                                 in zip(through, values)])

    def relax(self, prices: np.ndarray) -> tuple[float, list[np.ndarray], np.ndarray]:
        """(upper bound, each station's links, subgradient over the contested segments)."""
        total = float(prices @ self.seg_len)
        usage = np.zeros(len(self.seg_len))
        per_station = []
        for i, pieces in enumerate(self.pieces):
            if not len(pieces.window):
                per_station.append(np.zeros((0, 3), np.int64))
                continue
            value, links = self._run(pieces, prices, self.piece_segments[i], _no_blocks(len(pieces.window)))
            copies = self.model.stations[i].antennas
            total += copies * value
            per_station.append(links)
            for r, s, e in links:
                sat = pieces.satellite[r]
                g0, g1 = self.sat_first[sat], self.sat_first[sat + 1]
                hi = e + pieces.switch[r]
                overlap = np.minimum(self.seg_hi[g0:g1], hi) - np.maximum(self.seg_lo[g0:g1], s)
                usage[g0:g1] += copies * np.maximum(overlap, 0)
        return total, per_station, usage - self.seg_len

    def primal(self, prices: np.ndarray, order: list[int]) -> Packer:
        """Stations in `order`, each antenna's programme reserving the satellite time it takes."""
        model = self.model
        packer = Packer(model)
        held: list[list[tuple[int, int]]] = [[] for _ in model.satellites]
        used = np.zeros(model.n_windows, bool)
        for i in order:
            for antenna in range(model.stations[i].antennas):
                pieces = self.pieces[i]
                keep = ~used[pieces.window] & self.single_station[i]
                if not keep.any():
                    break
                sub = pieces.subset(keep)
                segments = _subset_segments(self.piece_segments[i], keep)
                blocked = _blocks(sub, held)
                _, links = self._run(sub, prices, segments, blocked)
                for k, (s, e) in _longest_per_window(sub, links).items():
                    if packer.admits(k, s, e, (antenna,)):  # reservations make it nearly always
                        packer.place(k, s, e, (antenna,))
                        held[model.windows[k].satellite].append((s, e))
                        used[k] = True
        for k in self.fill_order:
            if not used[k]:
                packer.insert(k)
        return packer

    def polish(self, packer: Packer, should_stop: Callable[[], bool]) -> Packer:
        """Best responses: each one-antenna station in turn gives up its links and takes the DP's best
        schedule around the satellite time the rest of the plan holds, kept when the plan gains;
        rounds until none gains. The prices' plans leave gains of this kind on contested pairs."""
        model = self.model
        no_prices = np.zeros(len(self.seg_len))
        own = [[k for k in self.fill_order if model.windows[k].stations == (i,)] for i in range(len(model.stations))]
        gained = True
        while gained and not should_stop():
            gained = False
            for i, pieces in enumerate(self.pieces):
                keep = self.single_station[i]
                if model.stations[i].antennas != 1 or not keep.any() or should_stop():
                    continue
                mine = {k: packer.links[k] for k in own[i] if k in packer.links}
                before = packer.value
                for k in mine:
                    packer.unplace(k)
                held: list[list[tuple[int, int]]] = [[] for _ in model.satellites]
                for k, (start, end, _) in packer.links.items():
                    held[model.windows[k].satellite].append((start, end))
                sub = pieces.subset(keep)
                _, links = self._run(sub, no_prices, _subset_segments(self.piece_segments[i], keep), _blocks(sub, held))
                for k, (start, end) in _longest_per_window(sub, links).items():
                    if packer.admits(k, start, end, (0,)):
                        packer.place(k, start, end, (0,))
                for k in own[i]:
                    if k not in packer.links:
                        packer.insert(k)
                if packer.value > before:
                    gained = True
                    continue
                for k in [k for k in own[i] if k in packer.links]:
                    packer.unplace(k)
                for k, (start, end, antennas) in mine.items():
                    packer.place(k, start, end, antennas)
        return packer


def _longest_per_window(pieces: Pieces, links) -> dict[int, tuple[int, int]]:
    """One link per window: the longest of the DP's pieces in each."""
    best: dict[int, tuple[int, int]] = {}
    for r, s, e in links:
        k = int(pieces.window[r])
        if k not in best or e - s > best[k][1] - best[k][0]:
            best[k] = (int(s), int(e))
    return best


def _no_blocks(n: int):
    return (np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


def _subset_segments(segments, keep: np.ndarray):
    firsts, counts, index = segments
    return firsts[keep], counts[keep], index


def _blocks(pieces: Pieces, held: list[list[tuple[int, int]]]):
    """CSR of the satellite time (switch included) other stations already hold, per piece."""
    firsts, counts, lo, hi = [], [], [], []
    for r in range(len(pieces.window)):
        firsts.append(len(lo))
        sw = int(pieces.switch[r])
        start, stop = pieces.rise[r] - sw, pieces.rise[r] + pieces.length[r] + sw
        n = 0
        for s, e in held[pieces.satellite[r]]:
            if s < stop and e + sw > start:
                lo.append(s)
                hi.append(e + sw)
                n += 1
        counts.append(n)
    return (np.array(firsts, np.int64), np.array(counts, np.int64), np.array(lo, np.int64), np.array(hi, np.int64))


@dataclass
class LinkBounds:
    """Lagrangian reduced costs: per station, (by_start, by_end) bounds on plans through each link
    start and end, indexed like the station's pieces."""

    decomposition: StationDecomposition
    through: list[tuple[np.ndarray, np.ndarray]]

    def core(self, target: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The starts and ends a link of each one-station window may have in a plan worth `target` or
        more. Windows over several stations are left out (unrestricted); a window with empty arrays
        cannot take part."""
        allowed: dict[int, tuple[list, list]] = {}
        for pieces, single, (by_start, by_end) in zip(self.decomposition.pieces, self.decomposition.single_station,
                                                      self.through):
            for r in np.flatnonzero(single):
                lo, hi = pieces.base[r], pieces.base[r + 1]
                starts, ends = allowed.setdefault(int(pieces.window[r]), ([], []))
                starts.append(pieces.rise[r] + np.flatnonzero(by_start[lo:hi] >= target - 1e-6))
                ends.append(pieces.rise[r] + np.flatnonzero(by_end[lo:hi] >= target - 1e-6))
        return {k: (np.concatenate(s), np.concatenate(e)) for k, (s, e) in allowed.items()}


@dataclass
class PriceSearch:
    """What the price iterations reached on one (sub-)instance."""

    best: Packer | None  # the best plan built from prices, if it beat the value it started from
    value: int  # its value, or the starting value
    bound: float  # whole-second upper bound
    iterations: int
    segments: int
    decomposition: StationDecomposition
    prices: np.ndarray  # those of the best bound

    @property
    def proven(self) -> bool:
        return self.value >= self.bound


def price_search(model: LinkScheduling, budget: Budget, seconds: float, start_value: int = 0,
                 report: Callable[[int, float], None] | None = None) -> PriceSearch:
    """Subgradient steps on the contested-segment prices for `seconds`, building a plan every few
    steps (reported as (value, bound)); stops early once a plan meets the bound or the bound stalls."""
    decomposition = StationDecomposition(model)
    prices = best_prices = np.zeros(len(decomposition.seg_len))
    best_bound = float(model.bound())
    best: Packer | None = None
    best_value = start_value
    scale, stall, iterations, since_better = 1.0, 0, 0, 0
    stations = list(range(len(model.stations)))
    deadline = budget.elapsed() + seconds
    while not budget.should_stop() and budget.elapsed() < deadline and since_better < PATIENCE:
        iterations += 1
        since_better += 1
        bound, per_station, subgradient = decomposition.relax(prices)
        if np.floor(bound + 1e-6) < np.floor(best_bound + 1e-6):
            since_better = 0
        if bound < best_bound - 1e-6:
            best_bound, best_prices, stall = bound, prices, 0
        else:
            stall += 1
            if stall >= STALL_ITERATIONS:
                scale, stall = scale / 2, 0
        if iterations == 1 or iterations % 5 == 0:
            link_counts = [len(p) for p in per_station]
            order = sorted(stations, key=lambda i: -link_counts[i])
            packer = decomposition.primal(prices, order)
            if packer.value > best_value:
                best, best_value = packer, packer.value
            if report is not None:
                report(best_value, float(np.floor(best_bound + 1e-6)))
        if best_value >= np.floor(best_bound + 1e-6) or scale < MIN_STEP_SCALE:
            break
        norm = float(subgradient @ subgradient)
        if norm <= 0:
            break  # the relaxed solution respects every satellite: it is optimal for the relaxation
        step = scale * (bound - best_value) / norm
        prices = np.maximum(0.0, prices + step * subgradient)
    if best is not None and best_value < np.floor(best_bound + 1e-6):
        best = decomposition.polish(best, budget.should_stop)
        best_value = best.value
    return PriceSearch(best, best_value, float(np.floor(best_bound + 1e-6)), iterations, len(decomposition.seg_len),
                       decomposition, best_prices)


def solve(model: LinkScheduling, ctx: StageContext) -> Outcome:
    groups = model.station_groups()
    if len(groups) > 1:
        return solve_by_groups(model, ctx, groups)
    budget = ctx.budget
    fits_cpsat = model.usable.sum() <= COMPACT_MODEL_WINDOWS
    alone = ctx.is_last or not fits_cpsat
    start_value = ctx.incumbent_objective if ctx.incumbent_objective is not None else 0
    search = price_search(model, budget, budget.remaining() * (1.0 if alone else SHARE_WHEN_FOLLOWED), start_value,
                          ctx.progress)
    plan = search.best.plan() if search.best is not None else ctx.incumbent
    value, bound = search.value, search.bound
    reason = (f"station decomposition: {search.iterations} price iterations over {search.segments} contested "
              f"segments; bound {bound:.0f}")
    narrow = value >= (1 - CORE_GAP) * bound or ctx.is_last
    if fits_cpsat and narrow and value < bound and budget.remaining() > MIN_SECONDS:
        plan, value, bound, rounds = core_search(model, search, ctx, plan, value)
        reason += f"; CP-SAT on {rounds} reduced-cost core(s): bound {bound:.0f}"
    if plan is ctx.incumbent:  # nothing new: the chain keeps its incumbent (and the bound proves it when met)
        return Outcome(None, bound, Status.UNKNOWN, budget.stop_cause(), reason)
    return Outcome(plan, bound, Status.OPTIMAL if value >= bound else Status.FEASIBLE, budget.stop_cause(), reason)


def core_search(model: LinkScheduling, search: PriceSearch, ctx: StageContext, plan: LinkPlan | None,
                value: int) -> tuple[LinkPlan | None, int, float, int]:
    """Close the gap with CP-SAT on cores: the links through which a plan worth a target T could pass
    (by the prices' reduced costs), objective capped at the bound, hinted with the stations' own
    schedules under the prices. First T = the bound: a narrow core, where a plan worth T is optimal
    and a best below T proves T - 1. Then, if the gap is still open, T = the best value + 1: the
    core of every better plan, whose optimum is the instance's. Returns (plan, value, bound, rounds)."""
    bound, target, rounds = int(search.bound), int(search.bound), 0
    hint = search.decomposition.relaxed_plan(search.prices)
    link_bounds = search.decomposition.link_bounds(search.prices)
    while value < bound and not ctx.budget.should_stop():
        rounds += 1
        floor = target - 1  # what plans outside the core are worth at most

        def report(progress: Progress, floor: int = floor, bound: int = bound) -> None:
            if progress.bound is not None:
                progress = replace(progress, bound=min(bound, max(progress.bound, floor)))
            ctx.report(progress)

        inner = replace(ctx, incumbent=hint, params={}, report=report)
        outcome = cpsat_compile(model, inner, link_bounds.core(target), upper=bound).run(inner)
        if outcome.solution is not None and model.link_time(outcome.solution) > value:
            plan, value = outcome.solution, model.link_time(outcome.solution)
        if outcome.status is not Status.OPTIMAL:
            break
        bound = max(value, floor)  # the core held every plan worth the target, and its best is known
        target, hint = value + 1, plan
    return plan, value, float(bound), rounds


def solve_by_groups(model: LinkScheduling, ctx: StageContext, groups: list[list[int]]) -> Outcome:
    """Each group of interacting stations is an instance of its own, solved by this stage and the
    stages after it in the chain; plans and bounds add up. Smaller groups go first (most are proven
    at once) and each gets the time left in proportion to its usable windows."""
    budget = ctx.budget
    incumbent = ctx.incumbent.links if ctx.incumbent is not None else ()
    parts = sorted((model.restricted(stations) for stations in groups), key=lambda part: int(part[0].usable.sum()))
    sizes = [int(sub.usable.sum()) for sub, _ in parts]
    windows_left = sum(sizes)
    stages = [(name, None) for name in ("decomposition", *ctx.following)]
    links: list[Link] = []
    bound, proven = 0.0, 0
    for (sub, index), size in zip(parts, sizes):
        local = {int(k): j for j, k in enumerate(index)}
        plan = LinkPlan(tuple(Link(local[link.window], link.start, link.end, link.antennas)
                              for link in incumbent if link.window in local))
        group_bound = float(sub.bound())
        if not budget.should_stop():
            result = run_stages(sub, stages, budget=budget.slice(budget.remaining() * size / max(1, windows_left)),
                                warm_start=plan, seed=ctx.seed, workers=ctx.workers)
            if result.solution is not None:
                plan = result.solution
            if result.bound is not None:
                group_bound = float(result.bound)
            proven += result.status is Status.OPTIMAL
        windows_left -= size
        bound += group_bound
        links += [Link(int(index[link.window]), link.start, link.end, link.antennas) for link in plan.links]
    done = proven == len(parts)
    stations = ", ".join(str(len(g)) for g in sorted(groups, key=len, reverse=True))
    chain = " + ".join(name for name, _ in stages)
    reason = (f"{len(parts)} groups of interacting stations ({stations} stations), each by {chain}: "
              f"{proven} proven; bound {bound:.0f}")
    return Outcome(LinkPlan(tuple(links)), bound, Status.OPTIMAL if done else Status.FEASIBLE,
                   budget.stop_cause(), reason)
