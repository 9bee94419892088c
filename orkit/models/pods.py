"""Kubernetes pod packing with priorities: which pod runs on which node, and who is disturbed.

A cluster is nodes with allocatable resources (any names: cpu in millicores, memory in bytes,
`pods` as a pod-count limit, `nvidia.com/gpu`, ...) and pods with requests, a priority and maybe
a current node. A plan binds every pod to a node or leaves it unplaced; a running pod can stay,
move (disruption 2) or be evicted (disruption 1). The default objective is lexicographic over
priority tiers from the highest: place as many pods of priority >= p as possible, then disturb
as few running pods of priority >= p as possible; `evaluate` returns that score vector as a tuple
(placed_p1, -disruption_p1, placed_p2, ...) so two plans compare exactly with Python's `>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from orkit.core.errors import ModelError
from orkit.core.model import Model
from orkit.core.result import MAX_REPORTED_VIOLATIONS, Evaluation, Sense, capped
from orkit.models.validation import MAX_MAGNITUDE, unique_names

POD_COUNT = "pods"  # Kubernetes' allocatable pod-count limit; every pod takes one
DISRUPTION = {"stay": 0, "evict": 1, "move": 2}


class PodObjective(StrEnum):
    LEXICOGRAPHIC = "lexicographic"  # tier by tier: placed pods first, then disruption
    WEIGHTED = "weighted"  # one number: sum of placed tier ranks x (2P + 1) minus total disruption


@dataclass(frozen=True)
class Taint:
    key: str
    value: str = ""
    effect: str = "NoSchedule"  # NoSchedule and NoExecute repel; PreferNoSchedule only discourages


@dataclass(frozen=True)
class Toleration:
    key: str = ""  # empty with operator Exists tolerates every taint
    operator: str = "Equal"  # Equal or Exists
    value: str = ""
    effect: str = ""  # empty tolerates every effect

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if not self.key:
            return self.operator == "Exists"
        if self.key != taint.key:
            return False
        return self.operator == "Exists" or self.value == taint.value


@dataclass(frozen=True)
class Requirement:
    """One match expression of a required node-affinity term."""

    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...] = ()

    OPERATORS: ClassVar[tuple[str, ...]] = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "In":
            return present and value in self.values
        if self.operator == "NotIn":
            return not present or value not in self.values
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        try:  # Gt / Lt compare integers; a non-integer label never matches
            number, limit = int(value), int(self.values[0])
        except (TypeError, ValueError, IndexError):
            return False
        return number > limit if self.operator == "Gt" else number < limit


@dataclass(frozen=True)
class Node:
    name: str
    allocatable: Mapping[str, int]
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()

    def repels(self, tolerations: tuple[Toleration, ...]) -> bool:
        """True when some hard taint (NoSchedule / NoExecute) is tolerated by none of `tolerations`."""
        return any(t.effect in ("NoSchedule", "NoExecute") and not any(tol.tolerates(t) for tol in tolerations)
                   for t in self.taints)


@dataclass(frozen=True)
class Pod:
    name: str
    requests: Mapping[str, int]
    priority: int = 0
    node: str | None = None  # the node it runs on now; None = pending
    selector: Mapping[str, str] = field(default_factory=dict)
    affinity: tuple[tuple[Requirement, ...], ...] = ()  # required terms, OR of ANDs; () = any node
    tolerations: tuple[Toleration, ...] = ()
    protected: bool = False  # must not be moved or evicted
    owner: str | None = None  # e.g. its ReplicaSet; informational

    def admits(self, node: Node) -> bool:
        """Labels and taints allow this pod on `node` (resources are checked elsewhere)."""
        if any(node.labels.get(k) != v for k, v in self.selector.items()):
            return False
        if self.affinity and not any(all(r.matches(node.labels) for r in term) for term in self.affinity):
            return False
        return not node.repels(self.tolerations)


@dataclass(frozen=True)
class Plan:
    """A solution: the node of every pod (None = unplaced), with the moves and evictions it implies."""

    bindings: Mapping[str, str | None]
    moves: tuple[tuple[str, str, str], ...] = ()  # (pod, from node, to node)
    evictions: tuple[tuple[str, str], ...] = ()  # (pod, node it leaves)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bindings": dict(self.bindings),
            "moves": [{"pod": p, "from": a, "to": b} for p, a, b in self.moves],
            "evictions": [{"pod": p, "from": a} for p, a in self.evictions],
        }


@dataclass(frozen=True, eq=False)
class Cluster(Model):
    """A pod-packing instance: the cluster state now, validated on construction."""

    problem: ClassVar[str] = "pods"
    sense: ClassVar[Sense] = Sense.MAXIMIZE

    nodes: tuple[Node, ...]
    pods: tuple[Pod, ...]
    objective: PodObjective = PodObjective.LEXICOGRAPHIC
    name: str = "cluster"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "nodes", tuple(self.nodes))
        set_(self, "pods", tuple(self.pods))
        try:
            set_(self, "objective", PodObjective(self.objective))
        except ValueError:
            raise ModelError(f"objective must be one of {', '.join(o.value for o in PodObjective)}, "
                             f"found {self.objective!r}") from None
        if not self.nodes:
            raise ModelError("the cluster has no nodes")
        unique_names([n.name for n in self.nodes], "node")
        unique_names([p.name for p in self.pods], "pod")
        known = {n.name for n in self.nodes}
        for node in self.nodes:
            for resource, amount in node.allocatable.items():
                _check_amount(amount, f"node {node.name}: allocatable {resource}")
        for pod in self.pods:
            for resource, amount in pod.requests.items():
                _check_amount(amount, f"pod {pod.name}: request {resource}")
            if isinstance(pod.priority, bool) or not isinstance(pod.priority, (int, np.integer)):
                raise ModelError(f"pod {pod.name}: priority must be an integer, found {pod.priority!r}")
            if pod.node is not None and pod.node not in known:
                raise ModelError(f"pod {pod.name}: runs on unknown node {pod.node!r}")
            if pod.protected and pod.node is None:
                raise ModelError(f"pod {pod.name}: protected but not running (only running pods can be protected)")
            for term in pod.affinity:
                for req in term:
                    if req.operator not in Requirement.OPERATORS:
                        raise ModelError(f"pod {pod.name}: unknown node-affinity operator {req.operator!r} "
                                         f"(known: {', '.join(Requirement.OPERATORS)})")

    # ---- arrays the solvers and the checker share -------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_pods(self) -> int:
        return len(self.pods)

    @cached_property
    def resources(self) -> tuple[str, ...]:
        names = {r for n in self.nodes for r in n.allocatable} | {r for p in self.pods for r in p.requests}
        return tuple(sorted(names, key=lambda r: (r not in ("cpu", "memory"), r)))

    @cached_property
    def capacity(self) -> np.ndarray:
        """[node, resource] allocatable amounts (0 where a node does not list a resource)."""
        cap = np.array([[int(n.allocatable.get(r, 0)) for r in self.resources] for n in self.nodes], dtype=np.int64)
        cap.setflags(write=False)
        return cap

    @cached_property
    def demand(self) -> np.ndarray:
        """[pod, resource] requests; a pod takes one unit of `pods` when any node limits the pod count."""
        counted = any(POD_COUNT in n.allocatable for n in self.nodes)
        rows = [[int(p.requests.get(r, 1 if (r == POD_COUNT and counted) else 0)) for r in self.resources]
                for p in self.pods]
        demand = np.array(rows, dtype=np.int64).reshape(self.n_pods, len(self.resources))
        demand.setflags(write=False)
        return demand

    @cached_property
    def priority(self) -> np.ndarray:
        values = np.array([int(p.priority) for p in self.pods], dtype=np.int64)
        values.setflags(write=False)
        return values

    @cached_property
    def current(self) -> np.ndarray:
        """Index of each pod's current node, -1 for pending pods."""
        index = {n.name: k for k, n in enumerate(self.nodes)}
        values = np.array([index[p.node] if p.node is not None else -1 for p in self.pods], dtype=np.int64)
        values.setflags(write=False)
        return values

    @cached_property
    def protected(self) -> np.ndarray:
        values = np.array([p.protected for p in self.pods], dtype=bool)
        values.setflags(write=False)
        return values

    @cached_property
    def placeable(self) -> np.ndarray:
        """[pod, node]: the pod may be newly placed there (labels, taints, and it fits the empty node)."""
        fits = (self.demand[:, None, :] <= self.capacity[None, :, :]).all(axis=2)
        rules: dict[tuple, np.ndarray] = {}
        allowed = np.empty_like(fits)
        for i, pod in enumerate(self.pods):
            key = (tuple(sorted(pod.selector.items())), pod.affinity, pod.tolerations)
            if key not in rules:
                rules[key] = np.array([pod.admits(n) for n in self.nodes], dtype=bool)
            allowed[i] = rules[key]
        result = fits & allowed
        result.setflags(write=False)
        return result

    @cached_property
    def eligible(self) -> np.ndarray:
        """[pod, node]: `placeable`, and a running pod may always stay where it is (Kubernetes does not
        evict a running pod because a label or a NoSchedule taint changed)."""
        result = self.placeable.copy()
        running = np.flatnonzero(self.current >= 0)
        result[running, self.current[running]] = True
        result.setflags(write=False)
        return result

    @cached_property
    def tiers(self) -> np.ndarray:
        """Distinct priorities, highest first."""
        values = np.unique(self.priority)[::-1] if self.n_pods else np.zeros(0, dtype=np.int64)
        values.setflags(write=False)
        return values

    @cached_property
    def tier_rank(self) -> np.ndarray:
        """Per pod: 1 for the lowest priority tier, up to the number of tiers (the weighted objective)."""
        values = np.searchsorted(self.tiers[::-1], self.priority) + 1
        values.setflags(write=False)
        return values

    @cached_property
    def fits_somewhere(self) -> np.ndarray:
        """Per pod: some node may hold it (the most any plan can place)."""
        values = self.eligible.any(axis=1)
        values.setflags(write=False)
        return values

    def names_of(self, indices) -> list[str]:
        return [self.pods[i].name for i in indices]

    # ---- the meaning ---------------------------------------------------------------------------
    def disruption(self, assignment: np.ndarray) -> np.ndarray:
        """Per pod: 0 stay (or pending), 1 evicted, 2 moved."""
        running = self.current >= 0
        evicted = running & (assignment < 0)
        moved = running & (assignment >= 0) & (assignment != self.current)
        return evicted.astype(np.int64) + 2 * moved.astype(np.int64)

    def score(self, assignment: np.ndarray) -> tuple[int, ...] | int:
        """The objective of a plan (assumed valid): the tier vector, or the weighted number."""
        placed = assignment >= 0
        cost = self.disruption(assignment)
        if self.objective is PodObjective.WEIGHTED:
            return int((self.tier_rank * placed).sum()) * (2 * self.n_pods + 1) - int(cost.sum())
        vector: list[int] = []
        for tier in self.tiers:
            at_or_above = self.priority >= tier
            vector += [int((placed & at_or_above).sum()), -int(cost[at_or_above].sum())]
        return tuple(vector)

    def load(self, assignment: np.ndarray) -> np.ndarray:
        """[node, resource] total requests of the pods a plan puts on each node."""
        load = np.zeros_like(self.capacity)
        placed = np.flatnonzero(assignment >= 0)
        np.add.at(load, assignment[placed], self.demand[placed])
        return load

    def assignment_of(self, solution: Plan | np.ndarray) -> np.ndarray:
        """The node index per pod (-1 unplaced) of a plan; ModelError on unknown names."""
        if isinstance(solution, np.ndarray):
            return solution.astype(np.int64)
        bindings = solution.bindings
        index = {n.name: k for k, n in enumerate(self.nodes)}
        known = {p.name for p in self.pods}
        unknown = [name for name in bindings if name not in known]
        if unknown:
            raise ModelError(f"the plan binds unknown pod(s) {', '.join(map(repr, unknown[:5]))}")
        result = np.full(self.n_pods, -1, dtype=np.int64)
        for i, pod in enumerate(self.pods):
            target = bindings.get(pod.name)
            if target is None:
                continue
            if target not in index:
                raise ModelError(f"the plan binds pod {pod.name} to unknown node {target!r}")
            result[i] = index[target]
        return result

    def current_plan(self) -> np.ndarray:
        """The assignment that changes nothing: running pods stay, pending pods stay pending."""
        return self.current.copy()

    def valid_current_plan(self) -> np.ndarray:
        """The current assignment with pods evicted (lowest priority first, then largest) from any
        overloaded node: where every plan search starts."""
        assignment = self.current_plan()
        load = self.load(assignment)
        for node in np.flatnonzero((load > self.capacity).any(axis=1)):
            on_node = np.flatnonzero((assignment == node) & ~self.protected)
            for pod in on_node[np.lexsort((-self.demand[on_node].sum(axis=1), self.priority[on_node]))]:
                if not (load[node] > self.capacity[node]).any():
                    break
                assignment[pod] = -1
                load[node] -= self.demand[pod]
        return assignment

    def plan(self, assignment: np.ndarray) -> Plan:
        """A readable Plan (bindings, moves, evictions) from a node index per pod."""
        assignment = np.asarray(assignment, dtype=np.int64)
        bindings = {p.name: (self.nodes[a].name if a >= 0 else None) for p, a in zip(self.pods, assignment)}
        moves, evictions = [], []
        for i in np.flatnonzero(self.current >= 0):
            here, there = self.nodes[self.current[i]].name, assignment[i]
            if there < 0:
                evictions.append((self.pods[i].name, here))
            elif there != self.current[i]:
                moves.append((self.pods[i].name, here, self.nodes[there].name))
        return Plan(bindings, tuple(moves), tuple(evictions))

    def evaluate(self, solution: Plan | np.ndarray) -> Evaluation:
        assignment = self.assignment_of(solution)
        v: list[str] = []
        if assignment.shape != (self.n_pods,):
            return Evaluation(False, None, [f"expected {self.n_pods} bindings, got shape {assignment.shape}"])
        bad = np.flatnonzero((assignment < -1) | (assignment >= self.n_nodes))
        if len(bad):
            return Evaluation(False, None, [f"pod {self.pods[i].name}: node index {assignment[i]} out of range"
                                            for i in bad[:MAX_REPORTED_VIOLATIONS]])
        placed = np.flatnonzero(assignment >= 0)
        for i in placed[~self.eligible[placed, assignment[placed]]]:
            v.append(f"pod {self.pods[i].name} may not run on node {self.nodes[assignment[i]].name} "
                     "(selector, affinity, taint or a request above the node's allocatable)")
        for i in np.flatnonzero(self.protected & (assignment != self.current)):
            v.append(f"pod {self.pods[i].name} is protected but the plan moves or evicts it")
        load = self.load(assignment)
        for n, r in zip(*np.nonzero(load > self.capacity)):
            v.append(f"node {self.nodes[n].name}: {self.resources[r]} requests {load[n, r]} "
                     f"> allocatable {self.capacity[n, r]}")
        score = self.score(assignment)
        if v:
            return Evaluation(False, score, capped(v))
        return Evaluation(True, score, [])

    def infeasibility(self) -> str | None:
        """Only protected pods can make every plan invalid: they must stay, so they must fit."""
        if not self.protected.any():
            return None
        keep = np.where(self.protected, self.current, -1)
        over = self.load(keep) > self.capacity
        if over.any():
            n, r = (int(x[0]) for x in np.nonzero(over))
            return (f"the protected pods on node {self.nodes[n].name} request {self.load(keep)[n, r]} "
                    f"{self.resources[r]} > allocatable {self.capacity[n, r]}")
        return None

    def bound(self) -> tuple[int, ...] | int | None:
        """Every pod that fits some node placed, nobody disturbed (an upper bound in either objective)."""
        placeable = self.fits_somewhere
        if self.objective is PodObjective.WEIGHTED:
            return int((self.tier_rank * placeable).sum()) * (2 * self.n_pods + 1)
        vector: list[int] = []
        for tier in self.tiers:
            vector += [int((placeable & (self.priority >= tier)).sum()), 0]
        return tuple(vector)

    # ---- plain data ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "objective": self.objective.value,
            "nodes": [_node_dict(n) for n in self.nodes],
            "pods": [_pod_dict(p) for p in self.pods],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cluster:
        for key in ("nodes", "pods"):
            if not isinstance(data.get(key), list):
                raise ModelError(f"pods data needs a '{key}' list")
        nodes = tuple(_node_from(d, k) for k, d in enumerate(data["nodes"]))
        pods = tuple(_pod_from(d, k) for k, d in enumerate(data["pods"]))
        return cls(nodes, pods, data.get("objective", PodObjective.LEXICOGRAPHIC), str(data.get("name", "cluster")))

    def solution_from_dict(self, data: dict[str, Any]) -> Plan:
        bindings = data.get("bindings")
        if not isinstance(bindings, dict):
            raise ModelError('a pods plan needs a "bindings" object: {pod: node or null}')
        if any(v is not None and not isinstance(v, str) for v in bindings.values()):
            raise ModelError("every binding must name a node or be null")
        return self.plan(self.assignment_of(Plan(bindings)))

    def actions(self, assignment: np.ndarray) -> np.ndarray:
        """What a plan does to each pod: place, pending (stays unplaced), stay, move or evict."""
        now = self.current
        return np.select([(now < 0) & (assignment >= 0), now < 0, assignment == now, assignment < 0],
                         ["place", "pending", "stay", "evict"], default="move")

    def solution_table(self, solution: Plan):
        import pandas as pd

        assignment = self.assignment_of(solution)
        table = pd.DataFrame({
            "pod": [p.name for p in self.pods],
            "priority": self.priority,
            "from": [p.node or "" for p in self.pods],
            "to": [self.nodes[a].name if a >= 0 else "" for a in assignment],
            "action": self.actions(assignment),
            **{r: self.demand[:, k] for k, r in enumerate(self.resources)},
        })
        order = {"move": 0, "evict": 1, "place": 2, "pending": 3, "stay": 4}  # changes first
        return table.sort_values("action", key=lambda a: a.map(order), kind="stable").reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        running = int((self.current >= 0).sum())
        info: dict[str, Any] = {
            "problem": self.problem,
            "name": self.name,
            "nodes": self.n_nodes,
            "pods": f"{self.n_pods} ({running} running, {self.n_pods - running} pending, "
                    f"{int(self.protected.sum())} protected)",
            "priority tiers": ", ".join(str(int(t)) for t in self.tiers),
            "objective": self.objective.value,
        }
        total = self.capacity.sum(axis=0)
        for k, r in enumerate(self.resources):
            requested = int(self.demand[:, k].sum())
            share = f"{requested / total[k]:.1%}" if total[k] else "no capacity"
            info[f"{r} requested/allocatable"] = f"{requested}/{int(total[k])} ({share})"
        unplaceable = int((~self.fits_somewhere).sum())
        if unplaceable:
            info["pods that fit no node"] = unplaceable
        reason = self.infeasibility()
        if reason:
            info["infeasible"] = reason
        return info


def _check_amount(amount: Any, what: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, (int, np.integer)):
        raise ModelError(f"{what} must be an integer, found {amount!r}")
    if amount < 0 or amount > MAX_MAGNITUDE:
        raise ModelError(f"{what} must be between 0 and {MAX_MAGNITUDE}, found {amount}")


def _node_dict(node: Node) -> dict[str, Any]:
    return {"name": node.name, "allocatable": dict(node.allocatable), "labels": dict(node.labels),
            "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in node.taints]}


def _pod_dict(pod: Pod) -> dict[str, Any]:
    data: dict[str, Any] = {"name": pod.name, "requests": dict(pod.requests), "priority": int(pod.priority),
                            "node": pod.node}
    if pod.selector:
        data["selector"] = dict(pod.selector)
    if pod.affinity:
        data["affinity"] = [[{"key": r.key, "operator": r.operator, "values": list(r.values)} for r in term]
                            for term in pod.affinity]
    if pod.tolerations:
        data["tolerations"] = [{"key": t.key, "operator": t.operator, "value": t.value, "effect": t.effect}
                               for t in pod.tolerations]
    if pod.protected:
        data["protected"] = True
    if pod.owner:
        data["owner"] = pod.owner
    return data


def _node_from(data: Any, k: int) -> Node:
    if not isinstance(data, dict):
        raise ModelError(f"nodes[{k}] must be an object")
    try:
        return Node(str(data["name"]), dict(data.get("allocatable") or {}), dict(data.get("labels") or {}),
                    tuple(Taint(**t) for t in data.get("taints") or ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"nodes[{k}]: {exc}") from None


def _pod_from(data: Any, k: int) -> Pod:
    if not isinstance(data, dict):
        raise ModelError(f"pods[{k}] must be an object")
    try:
        affinity = tuple(tuple(Requirement(r["key"], r["operator"], tuple(r.get("values") or ())) for r in term)
                         for term in data.get("affinity") or ())
        return Pod(str(data["name"]), dict(data.get("requests") or {}), data.get("priority", 0), data.get("node"),
                   dict(data.get("selector") or {}), affinity,
                   tuple(Toleration(**t) for t in data.get("tolerations") or ()), bool(data.get("protected", False)),
                   data.get("owner"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"pods[{k}]: {exc}") from None
