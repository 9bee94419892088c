"""Repacking the whole cluster tier by tier with a tabu search on capacity overflow.

The default scheduler and one-move repairs never reshuffle the cluster; near full utilisation the
pods only fit after many pods change node, which CP-SAT finds slowly (seconds on 32 nodes). Here,
for each priority tier from the highest, the tier's pods join the pods already settled above it,
every pod gets a node even if that overloads it, and a tabu search moves and swaps pods off
overloaded nodes until no node is over capacity. When the search stalls, the tier gives up one pod
(the one whose removal cuts the overflow most), so the tier keeps as many pods as the search can fit.
Pods of higher tiers that still sit where they run are not touched: disturbing them would cost
more, lexicographically, than anything a lower tier gains.
"""

from __future__ import annotations

import numpy as np

from orkit.core.budget import Budget
from orkit.models.pods import Cluster

TENURE = 7  # iterations a pod may not return to the node it left (plus a random 0-2)
PATIENCE = 60  # iterations without a better overflow before the tier gives up a pod
DISTURB = 1e-3  # cost of a running pod off its node, in overflow units: steers ties, never feasibility


class OverflowSearch:
    """Pods on nodes, overload allowed, with moves and swaps that reduce the total overflow
    (each resource's excess over capacity, in units of the mean node capacity)."""

    def __init__(self, model: Cluster, assignment: np.ndarray, movable: np.ndarray, rng: np.random.Generator):
        self.demand, self.cap, self.allowed = model.demand, model.capacity, model.eligible
        self.current = model.current
        self.scale = np.maximum(model.capacity.mean(axis=0), 1).astype(np.float64)
        self.a, self.movable, self.rng = assignment, movable, rng
        self.load = model.load(assignment)
        self.over = self.overflow(self.load, self.cap)
        self.tabu = np.zeros((model.n_pods, model.n_nodes), dtype=np.int64)
        self.iteration = 0

    def overflow(self, load: np.ndarray, cap: np.ndarray) -> np.ndarray:
        return (np.maximum(load - cap, 0) / self.scale).sum(axis=-1)

    @property
    def total(self) -> float:
        return float(self.over.sum())

    def _set(self, pod: int, node: int) -> None:
        old = self.a[pod]
        if old >= 0:
            self.load[old] -= self.demand[pod]
            self.over[old] = self.overflow(self.load[old], self.cap[old])
        self.a[pod] = node
        if node >= 0:
            self.load[node] += self.demand[pod]
            self.over[node] = self.overflow(self.load[node], self.cap[node])

    def insert(self, pod: int) -> None:
        """Put `pod` where it adds the least overflow (then where it leaves the least room)."""
        nodes = np.flatnonzero(self.allowed[pod])
        after = self.load[nodes] + self.demand[pod]
        added = self.overflow(after, self.cap[nodes]) - self.over[nodes]
        room = ((self.cap[nodes] - after) / self.scale).sum(axis=1)
        self._set(pod, int(nodes[np.lexsort((room, added))[0]]))

    def remove(self, pod: int) -> None:
        self._set(pod, -1)

    def disturbance(self, pods: np.ndarray, leaving: np.ndarray | int, arriving: np.ndarray) -> np.ndarray:
        """DISTURB for a running pod that leaves its own node, -DISTURB for one that goes home."""
        return DISTURB * ((self.current[pods] == leaving).astype(np.float64) - (self.current[pods] == arriving))

    def _forbid(self, pod: int, node: int) -> None:
        self.tabu[pod, node] = self.iteration + TENURE + int(self.rng.integers(3))

    def step(self) -> bool:
        """One tabu move or swap of a pod on a random overloaded node; False when none is possible."""
        self.iteration += 1
        hot = np.flatnonzero(self.over > 0)
        node = int(hot[self.rng.integers(len(hot))])
        items = np.flatnonzero((self.a == node) & self.movable)
        if len(items) == 0:
            return False
        d, load, cap, over, it = self.demand, self.load, self.cap, self.over, self.iteration
        leave = self.overflow(load[node] - d[items], cap[node]) - over[node]  # [item]
        arrive = self.overflow(load[None, :, :] + d[items][:, None, :], cap[None]) - over[None, :]  # [item, node]
        ok = self.allowed[items] & (self.tabu[items] <= it)
        ok[:, node] = False
        nodes = np.arange(len(cap))[None, :]
        move = np.where(ok, leave[:, None] + arrive + self.disturbance(items[:, None], node, nodes), np.inf)
        others = np.flatnonzero((self.a >= 0) & (self.a != node) & self.movable)
        where = self.a[others]
        diff = d[others][None, :, :] - d[items][:, None, :]  # [item, other, resource]: what `node` gains
        swap_gain = (self.overflow(load[node] + diff, cap[node]) - over[node]
                     + self.overflow(load[where][None] - diff, cap[where][None]) - over[where][None])
        ok = (self.allowed[items][:, where] & (self.tabu[items][:, where] <= it)
              & (self.allowed[others, node] & (self.tabu[others, node] <= it))[None, :])
        swap_gain += (self.disturbance(items[:, None], node, where[None, :])
                      + self.disturbance(others[None, :], where[None, :], node))
        swap = np.where(ok, swap_gain, np.inf)
        best_move = move.min(initial=np.inf)
        best_swap = swap.min(initial=np.inf)
        if not np.isfinite(min(best_move, best_swap)):
            return True
        if best_move <= best_swap:
            choices = np.argwhere(move <= best_move + 1e-12)
            i, target = choices[self.rng.integers(len(choices))]
            pod = int(items[i])
            self._set(pod, int(target))
            self._forbid(pod, node)
        else:
            choices = np.argwhere(swap <= best_swap + 1e-12)
            i, j = choices[self.rng.integers(len(choices))]
            pod, other = int(items[i]), int(others[j])
            there = int(self.a[other])
            self._set(pod, there)
            self._set(other, node)
            self._forbid(pod, node)
            self._forbid(other, there)
        return True


def repack(model: Cluster, start: np.ndarray, budget: Budget, seed: int = 0) -> np.ndarray:
    """A valid assignment that places, tier by tier from the highest, as many pods as the overflow
    search fits, starting from the valid assignment `start` (running pods start where they run).
    When `budget` runs out (or is interrupted) the search stops and drops pods until the plan is valid."""
    rng = np.random.default_rng(seed)
    a = np.where(model.protected, start, -1)  # each tier joins in turn, from where `start` has it
    for tier in model.tiers:
        level = model.priority == tier
        a[level] = start[level]
        above = model.priority > tier
        undisturbed = above & (a == model.current) & (model.current >= 0)
        movable = ~model.protected & ~undisturbed & (model.priority >= tier)
        before = a.copy()
        search = OverflowSearch(model, a, movable, rng)
        joining = np.flatnonzero(level & (a < 0) & model.fits_somewhere)
        for pod in joining[np.argsort(-(model.demand[joining] / search.scale).sum(axis=1), kind="stable")]:
            search.insert(int(pod))
        _drop_to_fit_totals(search, level & movable)
        if not _settle(search, level & movable, budget):
            a[:] = np.where(level & ~model.protected, -1, before)  # the tier then only takes room left
    _reinsert(model, a)
    return a


def _settle(search: OverflowSearch, droppable: np.ndarray, budget: Budget) -> bool:
    """Search until nothing is overloaded, giving up one droppable pod each time it stalls; at the
    end of the budget, drop pods off overloaded nodes until the assignment is valid. False when a node stays
    overloaded with nothing droppable on it (the search moved settled pods there)."""
    best, since = search.total, 0
    while search.total > 0:
        if since >= PATIENCE or budget.should_stop() or not search.step():
            if not _drop_one(search, droppable):
                return False
            best, since = search.total, 0
            continue
        if search.total < best - 1e-12:
            best, since = search.total, 0
        else:
            since += 1
    return True


def _drop_to_fit_totals(search: OverflowSearch, droppable: np.ndarray) -> None:
    """Unplace the largest droppable pods while the cluster's total request exceeds its total
    capacity in some resource: no search can fit those, and dropping the largest keeps the most."""
    total_cap = search.cap.sum(axis=0)
    while True:
        excess = search.load.sum(axis=0) > total_cap
        pods = np.flatnonzero(droppable & (search.a >= 0))
        if not excess.any() or len(pods) == 0:
            return
        size = (search.demand[pods][:, excess] / search.scale[excess]).sum(axis=1)
        search.remove(int(pods[np.argmax(size)]))


def _drop_one(search: OverflowSearch, droppable: np.ndarray) -> bool:
    """Unplace the droppable pod on an overloaded node whose removal cuts the overflow most."""
    hot = np.flatnonzero(search.over > 0)
    pods = np.flatnonzero(droppable & np.isin(search.a, hot))
    if len(pods) == 0:
        return False
    nodes = search.a[pods]
    cut = search.over[nodes] - search.overflow(search.load[nodes] - search.demand[pods], search.cap[nodes])
    search.remove(int(pods[np.argmax(cut)]))
    return True


def _reinsert(model: Cluster, a: np.ndarray) -> None:
    """Running pods back where they run when there is room, then unplaced pods wherever they fit."""
    free = model.capacity - model.load(a)
    order = np.lexsort((np.arange(model.n_pods), -model.priority))
    for pod in order:
        home = model.current[pod]
        if home >= 0 and a[pod] != home and (free[home] >= model.demand[pod]).all():
            if a[pod] >= 0:
                free[a[pod]] += model.demand[pod]
            a[pod] = home
            free[home] -= model.demand[pod]
    for pod in order:
        if a[pod] < 0 and model.fits_somewhere[pod]:
            fits = np.flatnonzero(model.placeable[pod] & (free >= model.demand[pod]).all(axis=1))
            if len(fits):
                a[pod] = fits[0]
                free[fits[0]] -= model.demand[pod]
