"""Resource-constrained project scheduling (RCPSP) and its extensions, with its own checker.

Activities have integer durations and demands on renewable resources; finish-to-start
precedences order them. Optional data (all default to "absent"): release dates, completion
deadlines, resource downtime (capacity drops to a level over [start, end)), disjunctive pairs
(must not overlap) and generalized start-to-start time lags S_j >= S_i + lag (a negative lag is a
maximum lag, as in RCPSP/max). Objective: minimise the makespan.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from orkit.core.errors import ModelError
from orkit.core.model import Model
from orkit.core.result import Evaluation, Sense, capped
from orkit.models.validation import MAX_MAGNITUDE, int_array

NO_DEADLINE = MAX_MAGNITUDE


@dataclass(frozen=True)
class Downtime:
    """Capacity of `resource` drops to `capacity` over the half-open interval [start, end)."""

    resource: int
    start: int
    end: int
    capacity: int = 0


@dataclass(frozen=True, eq=False)
class RCPSPSolution:
    """A schedule: one integer start time per activity."""

    starts: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", np.asarray(self.starts, dtype=np.int64).copy())
        self.starts.setflags(write=False)

    def to_dict(self) -> dict[str, Any]:
        return {"starts": [int(s) for s in self.starts]}


def _pairs(values: Any, name: str, width: int) -> np.ndarray:
    if values is None:
        values = []
    array = np.asarray(values, dtype=object)
    if array.size == 0:
        empty = np.zeros((0, width), dtype=np.int64)
        empty.setflags(write=False)
        return empty
    result = int_array(list(values), name, 2)
    if result.shape[1] != width:
        raise ModelError(f"{name}: every entry needs {width} numbers, got {result.shape[1]}")
    return result


@dataclass(frozen=True, eq=False)
class RCPSP(Model):
    """An RCPSP instance; validated on construction, immutable afterwards."""

    problem: ClassVar[str] = "rcpsp"
    sense: ClassVar[Sense] = Sense.MINIMIZE

    durations: np.ndarray
    demands: np.ndarray
    capacities: np.ndarray
    precedences: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    name: str = "rcpsp"
    labels: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    release_dates: np.ndarray | None = None
    deadlines: np.ndarray | None = None
    downtimes: tuple[Downtime, ...] = ()
    disjunctive: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    time_lags: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))

    # ------------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        setattr_ = object.__setattr__
        durations = int_array(self.durations, "durations", 1)
        n = len(durations)
        try:
            raw = np.asarray(self.demands, dtype=np.float64)
        except (TypeError, ValueError):
            raise ModelError("demands: expected one row of numbers per activity, all rows equally long") from None
        demands = int_array(np.zeros((n, 0)) if raw.size == 0 else raw, "demands", 2)
        capacities = int_array(self.capacities, "capacities", 1)
        setattr_(self, "durations", durations)
        setattr_(self, "demands", demands)
        setattr_(self, "capacities", capacities)
        if n == 0:
            raise ModelError("the project has no activities")
        if demands.shape != (n, len(capacities)):
            raise ModelError(
                f"demands has shape {demands.shape}; expected ({n} activities, {len(capacities)} resources)"
            )
        labels = tuple(str(x) for x in self.labels) if self.labels else tuple(str(i + 1) for i in range(n))
        if len(labels) != n:
            raise ModelError(f"{len(labels)} labels for {n} activities")
        if len(set(labels)) != n:
            raise ModelError("activity labels must be unique")
        setattr_(self, "labels", labels)
        rnames = (
            tuple(str(x) for x in self.resource_names)
            if self.resource_names
            else tuple(f"R{k + 1}" for k in range(len(capacities)))
        )
        if len(rnames) != len(capacities):
            raise ModelError(f"{len(rnames)} resource names for {len(capacities)} resources")
        setattr_(self, "resource_names", rnames)

        for i in np.flatnonzero(durations < 0):
            raise ModelError(f"activity {labels[i]}: negative duration {durations[i]}")
        for k in np.flatnonzero(capacities < 0):
            raise ModelError(f"resource {rnames[k]}: negative capacity {capacities[k]}")
        bad = np.argwhere(demands < 0)
        if len(bad):
            i, k = bad[0]
            raise ModelError(f"activity {labels[i]}: negative demand {demands[i, k]} of resource {rnames[k]}")
        over = np.argwhere(demands > capacities[None, :])
        if len(over):
            i, k = over[0]
            raise ModelError(
                f"activity {labels[i]}: demand {demands[i, k]} of resource {rnames[k]} "
                f"exceeds its capacity {capacities[k]}"
            )

        precedences = _pairs(self.precedences, "precedences", 2)
        disjunctive = _pairs(self.disjunctive, "disjunctive pairs", 2)
        time_lags = _pairs(self.time_lags, "time lags", 3)
        for what, arr in (("precedence", precedences), ("disjunctive pair", disjunctive), ("time lag", time_lags)):
            if len(arr) and (arr[:, :2].min() < 0 or arr[:, :2].max() >= n):
                row = arr[np.flatnonzero((arr[:, :2] < 0).any(1) | (arr[:, :2] >= n).any(1))[0]]
                raise ModelError(f"{what} {tuple(int(x) for x in row)} refers to an activity outside 0..{n - 1}")
            selfloop = np.flatnonzero(arr[:, 0] == arr[:, 1]) if len(arr) else []
            if len(selfloop) and what != "time lag":
                raise ModelError(f"{what} links activity {labels[arr[selfloop[0], 0]]} to itself")
        setattr_(self, "precedences", precedences)
        setattr_(self, "disjunctive", disjunctive)
        setattr_(self, "time_lags", time_lags)

        if self.release_dates is not None:
            release = int_array(self.release_dates, "release dates", 1)
            if len(release) != n:
                raise ModelError(f"{len(release)} release dates for {n} activities")
            for i in np.flatnonzero(release < 0):
                raise ModelError(f"activity {labels[i]}: negative release date {release[i]}")
            setattr_(self, "release_dates", release)
        if self.deadlines is not None:
            raw = [NO_DEADLINE if d is None else d for d in np.asarray(self.deadlines, dtype=object)]
            deadlines = int_array(raw, "deadlines", 1)
            if len(deadlines) != n:
                raise ModelError(f"{len(deadlines)} deadlines for {n} activities")
            for i in np.flatnonzero(deadlines < 0):
                raise ModelError(f"activity {labels[i]}: negative deadline {deadlines[i]}")
            setattr_(self, "deadlines", deadlines)

        downtimes = []
        for w in self.downtimes:
            w = w if isinstance(w, Downtime) else Downtime(**w)
            if not 0 <= w.resource < len(capacities):
                raise ModelError(f"downtime {w}: no resource with index {w.resource}")
            if w.start < 0 or w.end <= w.start:
                raise ModelError(
                    f"downtime on {rnames[w.resource]}: interval [{w.start}, {w.end}) is empty or negative")
            if not 0 <= w.capacity <= capacities[w.resource]:
                raise ModelError(
                    f"downtime on {rnames[w.resource]}: capacity {w.capacity} outside 0..{capacities[w.resource]}"
                )
            downtimes.append(Downtime(int(w.resource), int(w.start), int(w.end), int(w.capacity)))
        setattr_(self, "downtimes", tuple(downtimes))
        self._check_precedence_cycle()

    def _check_precedence_cycle(self) -> None:
        order = self.topological_order
        if len(order) == self.n:
            return
        # walk inside what the topological sort could not place until a node repeats: a cycle
        remaining = set(range(self.n)) - set(order)
        node = next(iter(remaining))
        path: list[int] = []
        position: dict[int, int] = {}
        while node not in position:
            position[node] = len(path)
            path.append(node)
            node = next(j for j in self.successors[node] if j in remaining)
        cycle = path[position[node]:] + [node]
        raise ModelError("precedences form a cycle: " + " -> ".join(self.labels[i] for i in cycle))

    # ------------------------------------------------------------------ structure
    @property
    def n(self) -> int:
        return len(self.durations)

    @property
    def n_resources(self) -> int:
        return len(self.capacities)

    @property
    def releases(self) -> np.ndarray:
        return self.release_dates if self.release_dates is not None else np.zeros(self.n, dtype=np.int64)

    @property
    def due(self) -> np.ndarray:
        return self.deadlines if self.deadlines is not None else np.full(self.n, NO_DEADLINE, dtype=np.int64)

    @property
    def has_max_lags(self) -> bool:
        return bool(len(self.time_lags) and (self.time_lags[:, 2] < 0).any())

    @cached_property
    def arcs(self) -> np.ndarray:
        """All temporal constraints as start-to-start arcs (i, j, lag): S_j >= S_i + lag."""
        fs = np.column_stack([self.precedences, self.durations[self.precedences[:, 0]]]) if len(
            self.precedences
        ) else np.zeros((0, 3), dtype=np.int64)
        arcs = np.vstack([fs, self.time_lags]).astype(np.int64)
        arcs.setflags(write=False)
        return arcs

    @cached_property
    def successors(self) -> list[list[int]]:
        """Direct finish-to-start successors of each activity."""
        succ: list[list[int]] = [[] for _ in range(self.n)]
        for i, j in self.precedences:
            succ[int(i)].append(int(j))
        return succ

    @cached_property
    def topological_order(self) -> list[int]:
        """Activities in precedence order (Kahn); shorter than n only when precedences are cyclic."""
        indegree = np.bincount(self.precedences[:, 1], minlength=self.n) if len(self.precedences) else np.zeros(
            self.n, dtype=np.int64)
        order = [i for i in range(self.n) if indegree[i] == 0]
        for i in order:
            for j in self.successors[i]:
                indegree[j] -= 1
                if indegree[j] == 0:
                    order.append(j)
        return order

    @cached_property
    def sinks(self) -> np.ndarray:
        """Activities without a finish-to-start successor: the makespan is the latest of their ends."""
        has_succ = np.zeros(self.n, dtype=bool)
        has_succ[self.precedences[:, 0]] = True
        return np.flatnonzero(~has_succ)

    def capacity_profile(self, horizon: int) -> np.ndarray:
        """Capacity per resource and time unit over [0, horizon), downtime applied: shape (R, H)."""
        profile = np.repeat(self.capacities[:, None], max(horizon, 0), axis=1)
        for w in self.downtimes:
            lo, hi = min(w.start, horizon), min(w.end, horizon)
            profile[w.resource, lo:hi] = np.minimum(profile[w.resource, lo:hi], w.capacity)
        return profile

    @cached_property
    def horizon_upper_bound(self) -> int:
        """A makespan within which some schedule exists if any does (downtime and lags included)."""
        lag_out = np.zeros(self.n, dtype=np.int64)
        if len(self.arcs):
            np.maximum.at(lag_out, self.arcs[:, 0], self.arcs[:, 2])
        start = int(self.releases.max())
        if self.downtimes:
            start = max(start, max(w.end for w in self.downtimes))
        return start + int(np.maximum(self.durations, lag_out).sum())

    # ------------------------------------------------------------------ temporal analysis
    def _longest_paths(self, init: np.ndarray, arcs: np.ndarray) -> tuple[np.ndarray, list[int] | None]:
        """Label-correcting longest paths from `init`; returns (values, positive cycle or None)."""
        n = self.n
        out: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for i, j, lag in arcs:
            out[i].append((int(j), int(lag)))
        dist = init.astype(np.int64).copy()
        pred = np.full(n, -1, dtype=np.int64)
        count = np.zeros(n, dtype=np.int64)
        queue = deque(range(n))
        queued = np.ones(n, dtype=bool)
        while queue:
            i = queue.popleft()
            queued[i] = False
            di = dist[i]
            for j, lag in out[i]:
                if di + lag > dist[j]:
                    dist[j] = di + lag
                    pred[j] = i
                    if not queued[j]:
                        count[j] += 1
                        if count[j] > n:
                            return dist, self._cycle_from(pred, j)
                        queue.append(j)
                        queued[j] = True
        return dist, None

    def _cycle_from(self, pred: np.ndarray, node: int) -> list[int]:
        for _ in range(self.n):
            node = int(pred[node])
        cycle = [node]
        current = int(pred[node])
        while current != node:
            cycle.append(current)
            current = int(pred[current])
        cycle.append(node)
        return cycle[::-1]

    @cached_property
    def _temporal(self) -> tuple[np.ndarray, list[int] | None]:
        return self._longest_paths(self.releases, self.arcs)

    @cached_property
    def earliest_starts(self) -> np.ndarray:
        """Earliest start of each activity from releases and all time lags (resources ignored)."""
        es, cycle = self._temporal
        es = es.copy()
        if cycle is not None:
            raise ModelError(self._describe_cycle(cycle))
        es.setflags(write=False)
        return es

    def latest_starts(self, horizon: int) -> np.ndarray:
        """Latest start of each activity so that every deadline and the makespan `horizon` hold."""
        cap = np.minimum(self.due, horizon) - self.durations
        reversed_arcs = self.arcs[:, [1, 0, 2]] if len(self.arcs) else self.arcs
        neg, _ = self._longest_paths(-cap, reversed_arcs)
        return -neg

    def _describe_cycle(self, cycle: list[int]) -> str:
        weights = {}
        for i, j, lag in self.arcs:
            key = (int(i), int(j))
            weights[key] = max(weights.get(key, -NO_DEADLINE), int(lag))
        steps, total = [], 0
        for a, b in zip(cycle, cycle[1:]):
            lag = weights[(a, b)]
            total += lag
            steps.append(f"{self.labels[a]} -[{lag:+d}]-> ")
        return (
            "time lags contradict each other: "
            + "".join(steps)
            + f"{self.labels[cycle[-1]]} (the cycle adds up to {total:+d} > 0)"
        )

    def infeasibility(self) -> str | None:
        _, cycle = self._temporal
        if cycle is not None:
            return self._describe_cycle(cycle)
        es = self.earliest_starts
        late = np.flatnonzero(es + self.durations > self.due)
        if len(late):
            i = late[0]
            return (
                f"activity {self.labels[i]} cannot finish before its deadline {self.due[i]}: "
                f"its earliest start is {es[i]} and it lasts {self.durations[i]}"
            )
        return None

    # ------------------------------------------------------------------ bounds
    def critical_path_bound(self) -> int:
        return int((self.earliest_starts + self.durations).max())

    def resource_bound(self) -> int:
        """Smallest T such that every resource's capacity over [0, T) covers its total work."""
        energy = (self.durations[:, None] * self.demands).sum(axis=0)
        if not energy.any():
            return 0
        if not self.downtimes:
            with np.errstate(divide="ignore", invalid="ignore"):
                per = np.where(energy > 0, -(-energy // np.maximum(self.capacities, 1)), 0)
            return int(per.max())
        cumulative = np.cumsum(self.capacity_profile(self.horizon_upper_bound), axis=1)
        bound = 0
        for k in np.flatnonzero(energy > 0):
            reach = np.searchsorted(cumulative[k], energy[k])  # first t with sum_{<=t} >= energy
            bound = max(bound, int(reach) + 1)
        return bound

    @cached_property
    def precedence_reach(self) -> np.ndarray:
        """reach[i, j] is True when j is a (transitive) finish-to-start successor of i."""
        reach = np.zeros((self.n, self.n), dtype=bool)
        if len(self.precedences):
            reach[self.precedences[:, 0], self.precedences[:, 1]] = True
        for i in reversed(self.topological_order):  # successors of i = direct ones and all of theirs
            direct = np.flatnonzero(reach[i])
            if len(direct):
                reach[i] |= reach[direct].any(axis=0)
        return reach

    @cached_property
    def precedence_energy_delays(self) -> np.ndarray:
        """Minimum start-to-start delays (i, j, delay) implied by resources between i and j.

        Every activity that succeeds i and precedes j runs inside [S_i + d_i, S_j); at base capacity
        (downtime only lowers it) their work on resource r needs ceil(energy_r / C_r) time. Only
        delays longer than the longest precedence path from i to j are returned: they add information.
        """
        reach = self.precedence_reach
        if not reach.any() or self.n_resources == 0:
            return np.zeros((0, 3), dtype=np.int64)
        between_time = np.zeros((self.n, self.n), dtype=np.int64)
        work = self.durations[:, None] * self.demands  # (n, R)
        as_int = reach.astype(np.int64)
        for k in np.flatnonzero((work > 0).any(axis=0) & (self.capacities > 0)):
            energy = (as_int * work[:, k][None, :]) @ as_int  # [i, j]: work on k of activities between i and j
            between_time = np.maximum(between_time, -(-energy // int(self.capacities[k])))
        delay = self.durations[:, None] + between_time
        path = self._longest_precedence_paths()
        useful = reach & (delay > path)
        i, j = np.nonzero(useful)
        return np.column_stack([i, j, delay[i, j]]).astype(np.int64)

    def _longest_precedence_paths(self) -> np.ndarray:
        """dist[i, j]: longest finish-to-start chain from the start of i to the start of j (-inf: none)."""
        dist = np.full((self.n, self.n), -NO_DEADLINE, dtype=np.int64)
        for i in reversed(self.topological_order):
            for j in self.successors[i]:
                candidate = np.maximum(dist[j], -NO_DEADLINE + 1) + self.durations[i]
                candidate[dist[j] <= -NO_DEADLINE] = -NO_DEADLINE
                dist[i] = np.maximum(dist[i], candidate)
                dist[i, j] = max(dist[i, j], int(self.durations[i]))
        return dist

    def lower_bound(self) -> int:
        """Critical path (with releases and lags), resource energy, and precedence-energy delays."""
        bound = max(self.critical_path_bound(), self.resource_bound())
        delays = self.precedence_energy_delays
        if len(delays):
            es = self.earliest_starts
            tail = self.durations  # an activity's own duration is the least that follows its start
            bound = max(bound, int((es[delays[:, 0]] + delays[:, 2] + tail[delays[:, 1]]).max()))
        return bound

    def bound(self) -> float | None:
        if self.infeasibility() is not None:
            return None
        return float(self.lower_bound())

    # ------------------------------------------------------------------ checking
    def makespan(self, solution: RCPSPSolution) -> int:
        return int((solution.starts + self.durations).max())

    def critical_activities(self, solution: RCPSPSolution) -> np.ndarray:
        """Mask of the precedence-critical activities of a schedule: those linked to an activity that ends
        at the makespan by a chain of tight temporal arcs (S_j = S_i + lag), so delaying one alone delays
        the project."""
        starts = np.asarray(solution.starts, dtype=np.int64)
        critical = starts + self.durations == self.makespan(solution)
        arcs = self.arcs
        tight = arcs[starts[arcs[:, 1]] == starts[arcs[:, 0]] + arcs[:, 2]] if len(arcs) else arcs
        predecessors: dict[int, list[int]] = {}
        for i, j, _ in tight:
            predecessors.setdefault(int(j), []).append(int(i))
        queue = deque(np.flatnonzero(critical).tolist())
        while queue:
            for i in predecessors.get(queue.popleft(), ()):
                if not critical[i]:
                    critical[i] = True
                    queue.append(i)
        return critical

    def evaluate(self, solution: RCPSPSolution) -> Evaluation:
        starts = np.asarray(getattr(solution, "starts", solution))
        if starts.shape != (self.n,):
            return Evaluation(False, None, [f"expected {self.n} start times, got shape {starts.shape}"])
        if not np.issubdtype(starts.dtype, np.integer):
            if not np.all(np.isfinite(starts)) or np.any(starts != np.round(starts)):
                return Evaluation(False, None, ["start times must be integers"])
            starts = starts.astype(np.int64)
        v: list[str] = []
        L, d = self.labels, self.durations
        ends = starts + d
        for i in np.flatnonzero(starts < 0):
            v.append(f"activity {L[i]} starts at {starts[i]} < 0")
        for i in np.flatnonzero(starts < self.releases):
            v.append(f"activity {L[i]} starts at {starts[i]} before its release date {self.releases[i]}")
        for i in np.flatnonzero(ends > self.due):
            v.append(f"activity {L[i]} ends at {ends[i]} after its deadline {self.due[i]}")
        for i, j in self.precedences:
            if starts[j] < ends[i]:
                v.append(f"precedence {L[i]} -> {L[j]}: {L[j]} starts at {starts[j]} before {L[i]} ends at {ends[i]}")
        for i, j, lag in self.time_lags:
            if starts[j] < starts[i] + lag:
                v.append(f"time lag {L[i]} -[{lag:+d}]-> {L[j]}: start {starts[j]} < {starts[i]} {lag:+d}")
        for i, j in self.disjunctive:
            if d[i] > 0 and d[j] > 0 and starts[i] < ends[j] and starts[j] < ends[i]:
                v.append(
                    f"disjunctive pair {L[i]}, {L[j]} overlap: [{starts[i]}, {ends[i]}) and [{starts[j]}, {ends[j]})"
                )
        if starts.min() >= 0:
            v.extend(self._resource_violations(starts))
        if v:
            return Evaluation(False, int(ends.max()), capped(v))
        return Evaluation(True, int(ends.max()), [])

    def resource_usage(self, starts: np.ndarray) -> np.ndarray:
        """Usage of every resource in every time unit of the schedule: shape (R, makespan)."""
        starts = np.asarray(starts, dtype=np.int64)
        horizon = int((starts + self.durations).max()) if self.n else 0
        delta = np.zeros((self.n_resources, horizon + 1), dtype=np.int64)
        active = self.durations > 0
        np.add.at(delta.T, starts[active], self.demands[active])
        np.add.at(delta.T, (starts + self.durations)[active], -self.demands[active])
        return np.cumsum(delta, axis=1)[:, :horizon]

    def _resource_violations(self, starts: np.ndarray) -> list[str]:
        usage = self.resource_usage(starts)
        over = usage > self.capacity_profile(usage.shape[1])
        messages = []
        for k in np.flatnonzero(over.any(axis=1)):
            times = np.flatnonzero(over[k])
            runs = np.split(times, np.flatnonzero(np.diff(times) > 1) + 1)
            for run in runs:
                lo, hi = int(run[0]), int(run[-1]) + 1
                cap = self.capacity_profile(hi)[k, lo:hi]
                messages.append(
                    f"resource {self.resource_names[k]} over capacity during [{lo}, {hi}): "
                    f"usage up to {usage[k, lo:hi].max()} > capacity {cap.min()}"
                )
        return messages

    # ------------------------------------------------------------------ plain data
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "labels": list(self.labels),
            "resource_names": list(self.resource_names),
            "durations": self.durations.tolist(),
            "demands": self.demands.tolist(),
            "capacities": self.capacities.tolist(),
            "precedences": self.precedences.tolist(),
        }
        if self.release_dates is not None:
            data["release_dates"] = self.release_dates.tolist()
        if self.deadlines is not None:
            data["deadlines"] = [None if x >= NO_DEADLINE else int(x) for x in self.deadlines]
        if self.downtimes:
            data["downtimes"] = [w.__dict__.copy() for w in self.downtimes]
        if len(self.disjunctive):
            data["disjunctive"] = self.disjunctive.tolist()
        if len(self.time_lags):
            data["time_lags"] = self.time_lags.tolist()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RCPSP:
        known = {
            "name", "labels", "resource_names", "durations", "demands", "capacities", "precedences",
            "release_dates", "deadlines", "downtimes", "disjunctive", "time_lags",
        }
        unknown = set(data) - known
        if unknown:
            raise ModelError(f"unknown RCPSP fields: {', '.join(sorted(unknown))}")
        missing = {"durations", "demands", "capacities"} - set(data)
        if missing:
            raise ModelError(f"missing RCPSP fields: {', '.join(sorted(missing))}")
        kwargs = dict(data)
        try:
            kwargs["downtimes"] = tuple(Downtime(**w) for w in data.get("downtimes", ()))
        except TypeError as exc:
            raise ModelError(f"downtimes: each needs resource, start, end[, capacity] ({exc})") from None
        return cls(**kwargs)

    def solution_from_dict(self, data: dict[str, Any]) -> RCPSPSolution:
        if "starts" not in data:
            raise ModelError("an RCPSP solution needs a 'starts' list")
        starts = data["starts"]
        if isinstance(starts, dict):
            index = {label: i for i, label in enumerate(self.labels)}
            unknown = [k for k in starts if str(k) not in index]
            if unknown:
                raise ModelError(f"solution names unknown activities: {unknown[:5]}")
            if len(starts) != self.n:
                raise ModelError(f"solution gives {len(starts)} start times for {self.n} activities")
            ordered = [0] * self.n
            for k, value in starts.items():
                ordered[index[str(k)]] = value
            starts = ordered
        try:
            return RCPSPSolution(np.asarray(starts, dtype=np.int64))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"solution starts must be integers ({exc})") from None

    def solution_table(self, solution: RCPSPSolution):
        import pandas as pd

        starts = solution.starts
        table = pd.DataFrame(
            {"activity": self.labels, "start": starts, "end": starts + self.durations, "duration": self.durations}
        )
        for k, rname in enumerate(self.resource_names):
            table[rname] = self.demands[:, k]
        return table.sort_values(["start", "end"], kind="stable").reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "problem": self.problem,
            "name": self.name,
            "activities": self.n,
            "resources": self.n_resources,
            "capacities": dict(zip(self.resource_names, self.capacities.tolist())),
            "precedences": len(self.precedences),
            "total duration": int(self.durations.sum()),
        }
        extensions = {
            "release dates": int((self.releases > 0).sum()),
            "deadlines": int((self.due < NO_DEADLINE).sum()),
            "downtime windows": len(self.downtimes),
            "disjunctive pairs": len(self.disjunctive),
            "time lags": len(self.time_lags),
        }
        info.update({k: v for k, v in extensions.items() if v})
        reason = self.infeasibility()
        if reason:
            info["infeasible"] = reason
        else:
            info["critical path bound"] = self.critical_path_bound()
            info["resource bound"] = self.resource_bound()
        return info
