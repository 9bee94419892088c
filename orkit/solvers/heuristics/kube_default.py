"""An emulation of the default Kubernetes scheduler: the baseline orkit has to beat.

Pods are taken from a queue by priority (higher first), then arrival. Filter: the node admits the
pod and its free capacity covers the requests (NodeResourcesFit). Score, weight 1 each:
LeastAllocated (mean free share of CPU and memory after placement, x100) plus BalancedAllocation
((1 - std of the CPU and memory request shares) x100); ties go to the node that sorts first by
name. A pod that fits nowhere may preempt: on one node, evict pods of strictly lower priority
(never protected ones), re-admitting ("reprieving") the most important victims that still leave
room; nodes compare by lowest highest-victim priority, then smallest victim priority sum, then
fewest victims. Evicted pods join the queue again. Scores are floats here where kube-scheduler
truncates to integers, so near-ties may break differently.
"""

from __future__ import annotations

import heapq

import numpy as np

from orkit.models.pods import Cluster

SCORED_RESOURCES = ("cpu", "memory")


class DefaultScheduler:
    """The cluster as the default scheduler sees it: one node per pod, decided one pod at a time."""

    def __init__(self, model: Cluster, assignment: np.ndarray | None = None):
        self.model = model
        self.assign = (model.current_plan() if assignment is None else np.asarray(assignment)).astype(np.int64)
        self.load = model.load(self.assign)
        self.free = model.capacity - self.load
        scored = [k for k, r in enumerate(model.resources) if r in SCORED_RESOURCES]
        self.scored = np.array(scored or range(len(model.resources)), dtype=np.int64)
        names = [n.name for n in model.nodes]
        self.name_rank = np.argsort(np.argsort(names, kind="stable"), kind="stable")
        self.arrival = np.arange(model.n_pods)
        self.evictions = 0

    def _bind(self, pod: int, node: int) -> None:
        self.assign[pod] = node
        self.free[node] -= self.model.demand[pod]

    def _unbind(self, pod: int) -> None:
        self.free[self.assign[pod]] += self.model.demand[pod]
        self.assign[pod] = -1

    def best_fit_node(self, pod: int) -> int:
        """The node the filter and score plugins pick for `pod`, or -1 when no node fits it."""
        m = self.model
        fits = m.placeable[pod] & (self.free >= m.demand[pod]).all(axis=1)
        candidates = np.flatnonzero(fits)
        if len(candidates) == 0:
            return -1
        cap = m.capacity[np.ix_(candidates, self.scored)].astype(np.float64)
        used = (cap - self.free[np.ix_(candidates, self.scored)] + m.demand[pod, self.scored])
        share = np.divide(used, cap, out=np.ones_like(cap), where=cap > 0)
        least_allocated = (1.0 - share).mean(axis=1) * 100.0
        balanced = (1.0 - share.std(axis=1)) * 100.0
        score = least_allocated + balanced
        best = np.flatnonzero(score >= score.max() - 1e-9)
        return int(candidates[best[np.argmin(self.name_rank[candidates[best]])]])

    def preemption(self, pod: int) -> tuple[int, list[int]]:
        """(node, victims) for a pod that fits nowhere, or (-1, []) when evicting lower-priority pods
        from any single node cannot make room."""
        m = self.model
        prio = m.priority[pod]
        lower = np.flatnonzero((self.assign >= 0) & (m.priority < prio) & ~m.protected)
        if len(lower) == 0:
            return -1, []
        releasable = np.zeros_like(self.free)
        np.add.at(releasable, self.assign[lower], m.demand[lower])
        room = m.placeable[pod] & ((self.free + releasable) >= m.demand[pod]).all(axis=1)
        best_key, best = None, (-1, [])
        for node in np.flatnonzero(room):
            on_node = lower[self.assign[lower] == node]
            # reprieve the most important first (then the earliest arrival) while the pod still fits
            on_node = on_node[np.lexsort((self.arrival[on_node], -m.priority[on_node]))]
            free = self.free[node] + m.demand[on_node].sum(axis=0) - m.demand[pod]
            victims = []
            for other in on_node:
                if (free >= m.demand[other]).all():
                    free = free - m.demand[other]
                else:
                    victims.append(int(other))
            key = (int(m.priority[victims].max()), int(m.priority[victims].sum()), len(victims),
                   int(self.name_rank[node])) if victims else (-(2**62), 0, 0, int(self.name_rank[node]))
            if best_key is None or key < best_key:
                best_key, best = key, (int(node), victims)
        return best

    def run(self, queue: list[int], preempt: bool = True, max_steps: int | None = None) -> np.ndarray:
        """Schedule the pods in `queue` (and any pod evicted on the way); returns the assignment."""
        m = self.model
        heap = [(-int(m.priority[p]), int(self.arrival[p]), int(p)) for p in queue]
        heapq.heapify(heap)
        unschedulable: list[int] = []
        steps = 0
        limit = max_steps if max_steps is not None else 20 * (m.n_pods + 1)
        while heap and steps < limit:
            steps += 1
            _, _, pod = heapq.heappop(heap)
            if self.assign[pod] >= 0:
                continue
            node = self.best_fit_node(pod)
            if node >= 0:
                self._bind(pod, node)
                continue
            node, victims = self.preemption(pod) if preempt else (-1, [])
            if node < 0:
                unschedulable.append(pod)
                continue
            for victim in victims:
                self._unbind(victim)
                heapq.heappush(heap, (-int(m.priority[victim]), int(self.arrival[victim]), victim))
            self.evictions += len(victims)
            self._bind(pod, node)
            for waiting in unschedulable:  # a deletion is a cluster event: retry the unschedulable pods
                heapq.heappush(heap, (-int(m.priority[waiting]), int(self.arrival[waiting]), waiting))
            unschedulable.clear()
        return self.assign.copy()


def default_schedule(model: Cluster, assignment: np.ndarray | None = None, preempt: bool = True) -> np.ndarray:
    """The default scheduler's answer from a state (default: the model's current one) for its pending pods."""
    scheduler = DefaultScheduler(model, assignment)
    pending = [int(p) for p in np.flatnonzero(scheduler.assign < 0)]
    return scheduler.run(pending, preempt=preempt)
