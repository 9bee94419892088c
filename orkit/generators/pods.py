"""The scenario generator of "Priority Matters" (arXiv:2511.08373), from its published recipe.

Every random stream is `random.Random(k)`, k the big-endian integer of the 16-byte BLAKE2b digest
of the seed (16 bytes, big-endian), a zero byte and the stream's label. Pods come in ReplicaSets
of 1..4 replicas with one CPU request, memory request and priority each; identical nodes get the
capacity that makes total requests / total capacity equal the target utilisation. The running
state is what the default scheduler makes of the ReplicaSets arriving one by one.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from orkit.models.pods import Cluster, Node, Pod


def stream(seed: int, label: str) -> random.Random:
    """The seeded random stream named `label`, as the paper's harness derives it."""
    digest = hashlib.blake2b(seed.to_bytes(16, "big") + b"\x00" + label.encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


@dataclass(frozen=True)
class ReplicaSet:
    name: str
    replicas: int
    cpu: int  # millicores
    memory: int  # bytes
    priority: int


def replica_sets(pods: int, priorities: int, seed: int) -> list[ReplicaSet]:
    sizes_rng, cpu_rng, mem_rng, prio_rng = (stream(seed, label) for label in ("rs-sizes", "rs-cpu", "rs-mem", "base"))
    sizes = []
    remaining = pods
    while remaining > 0:
        sizes.append(sizes_rng.randint(1, min(4, remaining)))
        remaining -= sizes[-1]
    result = []
    for k, size in enumerate(sizes):
        cpu = cpu_rng.randint(100, 1000)
        memory = mem_rng.randint(10**8, 10**9)
        priority = prio_rng.randint(1, priorities)
        result.append(ReplicaSet(f"rs{k:03d}", size, cpu, memory, priority))
    return result


def node_capacity(sets: list[ReplicaSet], nodes: int, util: float) -> dict[str, int]:
    """Per resource: max(largest single request, ceil(ceil(total requested / util) / nodes))."""
    capacity = {}
    for resource in ("cpu", "memory"):
        requests = [getattr(rs, resource) for rs in sets]
        total = sum(getattr(rs, resource) * rs.replicas for rs in sets)
        capacity[resource] = max(max(requests), math.ceil(math.ceil(total / util) / nodes))
    return capacity


def generate(nodes: int = 16, pods: int = 128, priorities: int = 4, util: float = 0.95, seed: int = 0,
             admit: bool = True) -> Cluster:
    """One scenario. With `admit`, the default scheduler has placed the ReplicaSets in arrival
    order (pods it could not place stay pending); without it, every pod is pending."""
    if nodes < 1 or pods < 1 or priorities < 1 or not util > 0:
        raise ValueError("nodes, pods and priorities must be positive and util > 0")
    sets = replica_sets(pods, priorities, seed)
    capacity = node_capacity(sets, nodes, util)
    node_list = tuple(Node(f"node-{k:03d}", dict(capacity)) for k in range(nodes))
    pod_list = tuple(Pod(f"{rs.name}-{r}", {"cpu": rs.cpu, "memory": rs.memory}, rs.priority, owner=rs.name)
                     for rs in sets for r in range(rs.replicas))
    name = f"pods-n{nodes}-p{pods}-r{priorities}-u{util:g}-s{seed}"
    empty = Cluster(node_list, pod_list, name=name)
    if not admit:
        return empty
    from orkit.solvers.heuristics.kube_default import DefaultScheduler

    scheduler = DefaultScheduler(empty)
    first = 0
    for rs in sets:  # ReplicaSets arrive one by one; each arrival runs the scheduling queue
        scheduler.run(list(range(first, first + rs.replicas)) + [int(p) for p in range(first)
                                                                 if scheduler.assign[p] < 0])
        first += rs.replicas
    bound = [node_list[a].name if a >= 0 else None for a in scheduler.assign]
    running = tuple(Pod(p.name, p.requests, p.priority, node, owner=p.owner) for p, node in zip(pod_list, bound))
    return Cluster(node_list, running, name=name)
