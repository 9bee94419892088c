"""Satellite–ground-station link scheduling: which satellite talks to which antenna, and when.

Times are integer seconds from the instance's epoch, over the horizon [0, horizon). A visibility
window (satellite, stations, rise, set) may carry at most one link, a sub-interval [start, end) of
the window at least the satellite's minimum duration long, on one antenna of each of the window's
stations (several stations only for antenna arrays, as in NASA's DSN). The rules, all data:

- a satellite holds one link at a time; its operation mode asks `switch` seconds between the end
  of one link and the start of the next, and may cap the number of links and the link time per
  period (the horizon, the satellite's orbit, or a number of seconds; a link counts in the period
  where it starts);
- an antenna is occupied from `start - satellite.setup` to `end + satellite.teardown` (DSN
  set-up and tear-down; zero for most satellites) and needs the station's `setup` (re-pointing)
  seconds between two occupations; a station's downtime blocks all its antennas, which then need
  re-pointing again before the next link.

The objective is the weighted total link time, sum of weight x (end - start), to be maximised.
Because every antenna rule extends an occupation by a fixed amount, antennas of one station are
interchangeable: a set of links fits a station's k antennas exactly when at most k extended
occupations overlap at any time (interval graphs are perfect), which the solvers exploit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from orkit.core.errors import ModelError
from orkit.core.model import Model
from orkit.core.result import Evaluation, Sense, capped
from orkit.models.validation import unique_names

MAX_SECONDS = 10**10  # about 300 years: anything larger is a unit mistake
# Above this many usable windows the CP-SAT and MIP models are skipped (measured: CP-SAT makes no
# branch in 30 s on 63,000 windows) and the station decomposition takes the whole budget.
COMPACT_MODEL_WINDOWS = 5000


@dataclass(frozen=True)
class Station:
    """A ground station: a site with interchangeable antennas."""

    name: str
    latitude: float = 0.0  # degrees
    longitude: float = 0.0  # degrees
    altitude: float = 0.0  # metres
    antennas: int = 1
    setup: int = 0  # seconds of re-pointing between two occupations of one antenna
    downtime: tuple[tuple[int, int], ...] = ()  # [from, to) with every antenna unavailable


@dataclass(frozen=True)
class Mode:
    """A satellite operation mode: how its links may follow one another."""

    name: str
    switch: int = 0  # seconds between the end of one link and the start of the next
    max_links: int | None = None  # per period
    max_time: int | None = None  # seconds of link time per period
    period: str | int = "horizon"  # "horizon", "orbit" (the satellite's orbital period) or seconds


@dataclass(frozen=True)
class Satellite:
    name: str
    mode: str = "single-feed"
    weight: int = 1  # priority: each second of link counts `weight` times
    min_duration: int | None = None  # overrides the instance's minimum link duration
    max_duration: int | None = None  # longest single link (a request's asked duration)
    setup: int = 0  # seconds the antenna is occupied before the link
    teardown: int = 0  # ... and after it
    orbit_period: int | None = None  # seconds; needed by modes whose period is "orbit"


@dataclass(frozen=True)
class Window:
    """A visibility window of one satellite over one station (or one antenna array)."""

    satellite: int
    stations: tuple[int, ...]
    rise: int
    set: int


@dataclass(frozen=True)
class Link:
    window: int
    start: int
    end: int
    antennas: tuple[int, ...]  # one antenna index per station of the window


@dataclass(frozen=True)
class LinkPlan:
    """A solution: the links, in any order."""

    links: tuple[Link, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"links": [[k.window, k.start, k.end, list(k.antennas)] for k in self.links]}


@dataclass(frozen=True, eq=False)
class LinkScheduling(Model):
    """A link-scheduling instance; validated on construction, immutable afterwards."""

    problem: ClassVar[str] = "satellite"
    sense: ClassVar[Sense] = Sense.MAXIMIZE

    stations: tuple[Station, ...]
    satellites: tuple[Satellite, ...]
    windows: tuple[Window, ...]
    horizon: int
    modes: tuple[Mode, ...] = (Mode("single-feed"),)
    min_duration: int = 1
    name: str = "satellite"
    epoch: str = ""  # ISO time of t = 0, for readers
    meta: dict[str, Any] = field(default_factory=dict)  # how the instance was made (generator, seed)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "stations", tuple(self.stations))
        set_(self, "satellites", tuple(self.satellites))
        set_(self, "windows", tuple(self.windows))
        set_(self, "modes", tuple(self.modes))
        set_(self, "horizon", _seconds(self.horizon, "horizon", positive=True))
        set_(self, "min_duration", _seconds(self.min_duration, "min_duration", positive=True))
        unique_names([s.name for s in self.stations], "station")
        unique_names([s.name for s in self.satellites], "satellite")
        unique_names([m.name for m in self.modes], "mode")
        if not self.stations or not self.satellites:
            raise ModelError("the instance needs at least one station and one satellite")
        for s in self.stations:
            if not isinstance(s.antennas, int) or s.antennas < 1:
                raise ModelError(f"station {s.name}: antennas must be a positive integer, found {s.antennas!r}")
            _seconds(s.setup, f"station {s.name}: setup")
            if not (-90 <= s.latitude <= 90 and -180 <= s.longitude <= 360):
                raise ModelError(f"station {s.name}: latitude/longitude ({s.latitude}, {s.longitude}) out of range")
            for lo, hi in s.downtime:
                if _seconds(lo, f"station {s.name}: downtime", negative=True) >= _seconds(
                        hi, f"station {s.name}: downtime", negative=True):
                    raise ModelError(f"station {s.name}: downtime [{lo}, {hi}) is empty")
        modes = {m.name: m for m in self.modes}
        for m in self.modes:
            _seconds(m.switch, f"mode {m.name}: switch")
            for cap in ("max_links", "max_time"):
                value = getattr(m, cap)
                if value is not None:
                    _seconds(value, f"mode {m.name}: {cap}")
            if not (m.period in ("horizon", "orbit") or (isinstance(m.period, int) and m.period > 0)):
                raise ModelError(f"mode {m.name}: period must be 'horizon', 'orbit' or positive seconds, "
                                 f"found {m.period!r}")
        for s in self.satellites:
            if s.mode not in modes:
                raise ModelError(f"satellite {s.name}: unknown mode {s.mode!r}; known: {', '.join(modes)}")
            if not isinstance(s.weight, int) or s.weight < 1:
                raise ModelError(f"satellite {s.name}: weight must be a positive integer, found {s.weight!r}")
            for what in ("min_duration", "max_duration", "setup", "teardown", "orbit_period"):
                value = getattr(s, what)
                if value is not None:
                    _seconds(value, f"satellite {s.name}: {what}", positive=what in ("min_duration", "orbit_period"))
            if modes[s.mode].period == "orbit" and not s.orbit_period:
                raise ModelError(f"satellite {s.name}: mode {s.mode} counts per orbit but orbit_period is missing")
        n_sat, n_st = len(self.satellites), len(self.stations)
        for k, w in enumerate(self.windows):
            if not (isinstance(w.satellite, int) and 0 <= w.satellite < n_sat):
                raise ModelError(f"window {k}: satellite index {w.satellite!r} out of range 0..{n_sat - 1}")
            if not w.stations or len(set(w.stations)) != len(w.stations) or not all(
                    isinstance(i, int) and 0 <= i < n_st for i in w.stations):
                raise ModelError(f"window {k}: station indices {w.stations!r} must be distinct, in 0..{n_st - 1}")
            rise = _seconds(w.rise, f"window {k}: rise", negative=True)
            if rise >= _seconds(w.set, f"window {k}: set", negative=True):
                raise ModelError(f"window {k}: rise {w.rise} is not before set {w.set}")
            if rise < 0 or w.set > self.horizon:
                raise ModelError(f"window {k}: [{w.rise}, {w.set}) lies outside the horizon [0, {self.horizon})")

    # ---- derived data -------------------------------------------------------------------------

    @property
    def n_windows(self) -> int:
        return len(self.windows)

    @cached_property
    def mode_of(self) -> tuple[Mode, ...]:
        """The operation mode of each satellite."""
        modes = {m.name: m for m in self.modes}
        return tuple(modes[s.mode] for s in self.satellites)

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """Per-window numpy columns: satellite, rise, set, min and max link duration, weight."""
        sat = np.array([w.satellite for w in self.windows], dtype=np.int64)
        rise = np.array([w.rise for w in self.windows], dtype=np.int64)
        set_ = np.array([w.set for w in self.windows], dtype=np.int64)
        min_d = np.array([s.min_duration or self.min_duration for s in self.satellites], dtype=np.int64)
        max_d = np.array([s.max_duration or self.horizon for s in self.satellites], dtype=np.int64)
        weight = np.array([s.weight for s in self.satellites], dtype=np.int64)
        return {"satellite": sat, "rise": rise, "set": set_, "min_duration": min_d[sat],
                "max_duration": np.minimum(max_d[sat], set_ - rise), "weight": weight[sat]}

    @cached_property
    def usable(self) -> np.ndarray:
        """Windows long enough for a link of the satellite's minimum duration, outside downtime."""
        a = self.arrays
        ok = a["max_duration"] >= a["min_duration"]
        for k in np.flatnonzero(ok):
            w = self.windows[k]
            ok[k] = any(hi - lo >= a["min_duration"][k] for lo, hi in self.free_spans(k, w.rise, w.set))
        return ok

    def free_spans(self, window: int, lo: int, hi: int) -> list[tuple[int, int]]:
        """Sub-intervals of [lo, hi) where a link of `window` keeps every station's antennas out of
        downtime (occupation [start - setup, end + teardown) ends before a downtime, or starts at
        least the station's setup after it)."""
        spans = [(lo, hi)]
        for i in self.windows[window].stations:
            station = self.stations[i]
            before, after = self.padding(window, i)
            for d0, d1 in station.downtime:
                # a link [s, e) clashes when s - before < d1 + re-pointing and e + after - re-pointing > d0
                block_lo, block_hi = d0 - after + station.setup, d1 + station.setup + before
                cut = []
                for a, b in spans:
                    if block_hi <= a or block_lo >= b:
                        cut.append((a, b))
                        continue
                    if block_lo > a:
                        cut.append((a, block_lo))
                    if block_hi < b:
                        cut.append((block_hi, b))
                spans = cut
        return spans

    def period_of(self, satellite: int) -> int:
        """Length of the periods a satellite's caps count in."""
        period = self.mode_of[satellite].period
        if period == "horizon":
            return self.horizon
        if period == "orbit":
            return int(self.satellites[satellite].orbit_period)
        return int(period)

    @cached_property
    def windows_of_satellite(self) -> list[np.ndarray]:
        by: list[list[int]] = [[] for _ in self.satellites]
        for k, w in enumerate(self.windows):
            by[w.satellite].append(k)
        return [np.array(v, dtype=np.int64) for v in by]

    @cached_property
    def windows_of_station(self) -> list[np.ndarray]:
        by: list[list[int]] = [[] for _ in self.stations]
        for k, w in enumerate(self.windows):
            for i in w.stations:
                by[i].append(k)
        return [np.array(v, dtype=np.int64) for v in by]

    def padding(self, window: int, station: int) -> tuple[int, int]:
        """(before, after): an antenna of `station` is held from `start - before` to `end + after` by a
        link of `window` (the satellite's set-up; its tear-down plus the station's re-pointing)."""
        sat = self.satellites[self.windows[window].satellite]
        return sat.setup, sat.teardown + self.stations[station].setup

    def occupation(self, window: int, station: int, start: int, end: int) -> tuple[int, int]:
        """[from, to) an antenna of `station` is held by a link, re-pointing after it included."""
        before, after = self.padding(window, station)
        return start - before, end + after

    # ---- meaning ------------------------------------------------------------------------------

    def link_time(self, plan: LinkPlan) -> int:
        a = self.arrays
        return int(sum(int(a["weight"][k.window]) * (k.end - k.start) for k in plan.links))

    def evaluate(self, solution: LinkPlan) -> Evaluation:
        links = getattr(solution, "links", None)
        if links is None:
            return Evaluation(False, None, ["a satellite solution is a LinkPlan of links"])
        v: list[str] = []
        a = self.arrays
        seen: set[int] = set()
        by_sat: dict[int, list[Link]] = defaultdict(list)
        by_antenna: dict[tuple[int, int], list[tuple[int, int, Link]]] = defaultdict(list)
        for link in links:
            k = link.window
            if not isinstance(k, (int, np.integer)) or not 0 <= k < self.n_windows:
                v.append(f"link on unknown window {k!r}")
                continue
            w = self.windows[k]
            what = f"link {link.start}-{link.end} of {self.satellites[w.satellite].name} (window {k})"
            if k in seen:
                v.append(f"window {k} carries more than one link")
            seen.add(k)
            if not (w.rise <= link.start and link.end <= w.set):
                v.append(f"{what} leaves its window [{w.rise}, {w.set})")
            duration = link.end - link.start
            if duration < a["min_duration"][k]:
                v.append(f"{what} is shorter than the minimum {a['min_duration'][k]} s")
            if duration > a["max_duration"][k]:
                v.append(f"{what} is longer than the maximum {a['max_duration'][k]} s")
            if len(link.antennas) != len(w.stations):
                v.append(f"{what} names {len(link.antennas)} antennas for {len(w.stations)} stations")
                continue
            by_sat[w.satellite].append(link)
            for i, antenna in zip(w.stations, link.antennas):
                station = self.stations[i]
                if not 0 <= antenna < station.antennas:
                    v.append(f"{what}: station {station.name} has no antenna {antenna}")
                    continue
                lo, hi = self.occupation(k, i, link.start, link.end)
                by_antenna[i, antenna].append((lo, hi, link))
                for d0, d1 in station.downtime:
                    # the occupation must end by the downtime, or start after it plus re-pointing
                    if lo < d1 + station.setup and hi - station.setup > d0:
                        v.append(f"{what} uses station {station.name} during its downtime [{d0}, {d1}) "
                                 f"(or before re-pointing after it)")
        for s, items in by_sat.items():
            sat, mode = self.satellites[s], self.mode_of[s]
            items.sort(key=lambda x: x.start)
            for prev, nxt in zip(items, items[1:]):
                if nxt.start < prev.end + mode.switch:
                    v.append(f"satellite {sat.name}: link at {nxt.start} starts before {prev.end} + switch "
                             f"{mode.switch} s")
            if mode.max_links is not None or mode.max_time is not None:
                period = self.period_of(s)
                count: dict[int, int] = defaultdict(int)
                total: dict[int, int] = defaultdict(int)
                for link in items:
                    count[link.start // period] += 1
                    total[link.start // period] += link.end - link.start
                for p in sorted(count):
                    if mode.max_links is not None and count[p] > mode.max_links:
                        v.append(f"satellite {sat.name}: {count[p]} links in period {p} > cap {mode.max_links}")
                    if mode.max_time is not None and total[p] > mode.max_time:
                        v.append(f"satellite {sat.name}: {total[p]} s of links in period {p} > cap {mode.max_time}")
        for (i, antenna), items in by_antenna.items():
            items.sort(key=lambda x: x[0])
            for (_, hi, prev), (lo, _, nxt) in zip(items, items[1:]):
                if lo < hi:
                    v.append(f"station {self.stations[i].name} antenna {antenna}: links of windows "
                             f"{prev.window} and {nxt.window} overlap (re-pointing {self.stations[i].setup} s "
                             f"included)")
        objective = self.link_time(LinkPlan(tuple(k for k in links if 0 <= k.window < self.n_windows)))
        if v:
            return Evaluation(False, objective, capped(v))
        return Evaluation(True, objective, [])

    def bound(self) -> float | None:
        """Each satellite links at most over the union of its usable windows (and within its caps)."""
        a = self.arrays
        total = 0
        for s, ks in enumerate(self.windows_of_satellite):
            ks = ks[self.usable[ks]]
            if not len(ks):
                continue
            covered = _union_length(a["rise"][ks], a["set"][ks])
            mode = self.mode_of[s]
            periods = -(-self.horizon // self.period_of(s))
            if mode.max_time is not None:
                covered = min(covered, mode.max_time * periods)
            if mode.max_links is not None:
                longest = int(a["max_duration"][ks].max())
                covered = min(covered, mode.max_links * periods * longest)
            total += self.satellites[s].weight * covered
        return float(total)

    def station_groups(self) -> list[list[int]]:
        """Stations that share a rule, as groups solvable apart: two stations are joined by a
        satellite they could both hold within its switch time, a window over both (an array), or a
        satellite with caps seen by both. Only usable windows count; stations without any are left out."""
        parent = list(range(len(self.stations)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def join(stations) -> None:
            first = find(stations[0])
            for i in stations[1:]:
                parent[find(i)] = first

        a = self.arrays
        for s, ks in enumerate(self.windows_of_satellite):
            ks = ks[self.usable[ks]]
            if not len(ks):
                continue
            mode = self.mode_of[s]
            if mode.max_links is not None or mode.max_time is not None:
                join([i for k in ks for i in self.windows[k].stations])
                continue
            ks = ks[np.argsort(a["rise"][ks], kind="stable")]
            reach = -1  # latest set + switch among the windows so far; a later rise before it overlaps
            previous = None
            for k in ks:
                join(self.windows[k].stations)
                if previous is not None and a["rise"][k] < reach:
                    join([self.windows[previous].stations[0], self.windows[k].stations[0]])
                if a["set"][k] + mode.switch > reach:
                    reach, previous = a["set"][k] + mode.switch, k
        groups: dict[int, list[int]] = {}
        for i in sorted({i for k in np.flatnonzero(self.usable) for i in self.windows[k].stations}):
            groups.setdefault(find(i), []).append(i)
        return list(groups.values())

    def restricted(self, stations: list[int]) -> tuple[LinkScheduling, np.ndarray]:
        """The instance as `stations` see it (their windows and the satellites those carry), with each
        kept window's index here. Exact for a whole group of `station_groups`."""
        keep = set(stations)
        windows = np.array([k for k, w in enumerate(self.windows) if keep.issuperset(w.stations)], dtype=np.int64)
        satellites = sorted({self.windows[k].satellite for k in windows})
        sat_index = {s: j for j, s in enumerate(satellites)}
        st_index = {i: j for j, i in enumerate(stations)}
        sub = LinkScheduling(
            stations=tuple(self.stations[i] for i in stations),
            satellites=tuple(self.satellites[s] for s in satellites),
            windows=tuple(Window(sat_index[self.windows[k].satellite],
                                 tuple(st_index[i] for i in self.windows[k].stations),
                                 self.windows[k].rise, self.windows[k].set) for k in windows),
            horizon=self.horizon, modes=self.modes, min_duration=self.min_duration,
            name=f"{self.name} [{', '.join(self.stations[i].name for i in stations)}]",
            epoch=self.epoch)
        return sub, windows

    def assign_antennas(self, links: list[tuple[int, int, int]]) -> LinkPlan:
        """A plan from (window, start, end) triples: each station's antennas given greedily in order of
        occupation start (optimal for interval graphs). Links that find no antenna keep -1, which
        `evaluate` rejects, so an over-full station never passes silently."""
        chosen: list[dict[int, int]] = [{} for _ in links]
        by_station: dict[int, list] = defaultdict(list)
        for j, (k, s, e) in enumerate(links):
            for i in self.windows[k].stations:
                by_station[i].append((self.occupation(k, i, s, e), j))
        for i, mine in by_station.items():
            free_at = [-(2**62)] * self.stations[i].antennas
            for (lo, hi), j in sorted(mine):
                antenna = next((a for a in range(len(free_at)) if free_at[a] <= lo), -1)
                if antenna >= 0:
                    free_at[antenna] = hi
                chosen[j][i] = antenna
        plan = [Link(int(k), int(s), int(e), tuple(chosen[j][i] for i in self.windows[k].stations))
                for j, (k, s, e) in enumerate(links)]
        return LinkPlan(tuple(plan))

    # ---- plain data ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "epoch": self.epoch,
            "horizon": self.horizon,
            "min_duration": self.min_duration,
            "meta": self.meta,
            "modes": [_drop_defaults(m.__dict__, {"switch": 0, "max_links": None, "max_time": None,
                                                  "period": "horizon"}) for m in self.modes],
            "stations": [_drop_defaults({**s.__dict__, "downtime": [list(d) for d in s.downtime]},
                                        {"altitude": 0.0, "antennas": 1, "setup": 0, "downtime": []})
                         for s in self.stations],
            "satellites": [_drop_defaults(s.__dict__, {"mode": "single-feed", "weight": 1, "min_duration": None,
                                                       "max_duration": None, "setup": 0, "teardown": 0,
                                                       "orbit_period": None}) for s in self.satellites],
            "windows": [[w.satellite, list(w.stations) if len(w.stations) > 1 else w.stations[0], w.rise, w.set]
                        for w in self.windows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkScheduling:
        missing = [k for k in ("stations", "satellites", "windows", "horizon") if k not in data]
        if missing:
            raise ModelError(f"satellite data lacks {', '.join(missing)}")
        stations = tuple(_record(Station, d, f"stations[{k}]", downtime=lambda x: tuple(tuple(p) for p in x))
                         for k, d in enumerate(data["stations"]))
        satellites = tuple(_record(Satellite, d, f"satellites[{k}]") for k, d in enumerate(data["satellites"]))
        modes = tuple(_record(Mode, d, f"modes[{k}]") for k, d in enumerate(data.get("modes") or
                                                                                 [{"name": "single-feed"}]))
        windows = []
        for k, row in enumerate(data["windows"]):
            if not isinstance(row, list) or len(row) != 4:
                raise ModelError(f"windows[{k}]: expected [satellite, station(s), rise, set], found {row!r}")
            sat, st, rise, set_ = row
            windows.append(Window(sat, tuple(st) if isinstance(st, list) else (st,), rise, set_))
        return cls(stations, satellites, tuple(windows), data["horizon"], modes, data.get("min_duration", 1),
                   str(data.get("name", "satellite")), str(data.get("epoch", "")), dict(data.get("meta") or {}))

    def solution_from_dict(self, data: dict[str, Any]) -> LinkPlan:
        rows = data.get("links")
        if not isinstance(rows, list):
            raise ModelError("a satellite solution needs a 'links' list of [window, start, end, antennas]")
        links = []
        for k, row in enumerate(rows):
            try:
                window, start, end, antennas = row
                links.append(Link(int(window), int(start), int(end), tuple(int(a) for a in antennas)))
            except (TypeError, ValueError):
                raise ModelError(f"links[{k}]: expected [window, start, end, [antenna, ...]], found {row!r}") from None
        return LinkPlan(tuple(links))

    def solution_table(self, solution: LinkPlan):
        import pandas as pd

        rows = []
        for link in sorted(solution.links, key=lambda x: (x.start, x.window)):
            w = self.windows[link.window]
            rows.append({"satellite": self.satellites[w.satellite].name,
                         "station": "+".join(self.stations[i].name for i in w.stations),
                         "antenna": "+".join(str(a) for a in link.antennas), "window": link.window,
                         "rise": w.rise, "set": w.set, "start": link.start, "end": link.end,
                         "duration": link.end - link.start})
        return pd.DataFrame(rows, columns=["satellite", "station", "antenna", "window", "rise", "set", "start",
                                           "end", "duration"])

    def summary(self) -> dict[str, Any]:
        a = self.arrays
        return {
            "problem": self.problem,
            "name": self.name,
            "satellites": len(self.satellites),
            "stations": f"{len(self.stations)} ({sum(s.antennas for s in self.stations)} antennas)",
            "windows": f"{self.n_windows} ({int(self.usable.sum())} usable), mean length "
                       f"{float((a['set'] - a['rise']).mean()) if self.n_windows else 0:.0f} s",
            "horizon": f"{self.horizon} s" + (f" from {self.epoch}" if self.epoch else ""),
            "modes": ", ".join(m.name for m in self.modes),
            "upper bound": self.bound(),
        }


def _seconds(value: Any, what: str, positive: bool = False, negative: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ModelError(f"{what}: expected whole seconds, found {value!r}")
    value = int(value)
    lowest = -MAX_SECONDS if negative else 1 if positive else 0
    if not lowest <= value <= MAX_SECONDS:
        raise ModelError(f"{what}: {value} is out of range")
    return value


def _union_length(lo: np.ndarray, hi: np.ndarray) -> int:
    order = np.argsort(lo, kind="stable")
    total, reach = 0, None
    for a, b in zip(lo[order], hi[order]):
        if reach is None or a >= reach:
            total += b - a
            reach = b
        elif b > reach:
            total += b - reach
            reach = b
    return int(total)


def _drop_defaults(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in defaults or v != defaults[k]}


def _record(cls, data: Any, where: str, **convert):
    if not isinstance(data, dict):
        raise ModelError(f"{where}: expected an object, found {type(data).__name__}")
    known = set(cls.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise ModelError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    if "name" not in data:
        raise ModelError(f"{where}: lacks a name")
    try:
        return cls(**{k: convert[k](v) if k in convert else v for k, v in data.items()})
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{where}: {exc}") from None
