"""Pod packing against the default scheduler, on the scenario grid of "Priority Matters"
(arXiv:2511.08373): nodes {4,8,16,32} x pods/node {4,8} x priorities {1,2,4} x util
{0.90,0.95,1.00,1.05} = 96 families, regenerated from seeds with orkit's generator.

    python benchmarks/pods.py                    # default subset (below), windows 1 s and 10 s
    python benchmarks/pods.py --full             # 10 seeds per family in both windows, + paper seed lists
    python benchmarks/pods.py --windows 1 --seeds 5
    python benchmarks/pods.py --scale            # the 500-node, 5,000-pod cluster only

Default subset (stratified, fixed seeds): 1 s window on seeds 0-2 of all 96 families; 10 s
window on seed 0 of the 48 families with 16 or 32 nodes (smaller ones resolve within 1 s);
the first 20 seeds of each list in ../shared/benchmarks/podpacking/paper_seeds at 1 s; and the
scale case. Only scenarios where the default scheduler leaves a pod pending count. Columns:
improved = a lexicographically better plan than the default's; proven = improved and proven
optimal; default optimal = the default's plan proven optimal; unresolved = no proof in the
window; worse must be 0. Overshoot = wall time - window. Timing is noisy on shared machines.
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orkit
from orkit.core.result import Status
from orkit.generators.pods import generate
from orkit.solvers.exact.knapsack_kernels import compile_seconds
from orkit.solvers.heuristics.kube_default import default_schedule

SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "podpacking" / "paper_seeds"
NODES, PODS_PER_NODE, PRIORITIES, UTILS = (4, 8, 16, 32), (4, 8), (1, 2, 4), (0.90, 0.95, 1.00, 1.05)


def families():
    return list(itertools.product(NODES, PODS_PER_NODE, PRIORITIES, UTILS))


def run_one(nodes, per_node, prios, util, seed, window, workers):
    model = generate(nodes, nodes * per_node, prios, util, seed)
    if not (model.current < 0).any():
        return None
    default = model.score(default_schedule(model, model.valid_current_plan()))
    result = orkit.solve(model, time_limit=window, workers=workers, seed=0)
    better = result.objective > default
    proven = result.status is Status.OPTIMAL
    return {"nodes": nodes, "pods": nodes * per_node, "prios": prios, "util": util, "seed": seed,
            "improved": better, "proven": better and proven, "default optimal": proven and not better,
            "unresolved": not proven, "worse": result.objective < default,
            "overshoot": result.wall_time - window, "wall": result.wall_time}


def summarise(rows, title):
    print(f"\n{title}")
    header = f"{'group':<12}{'pending':>8}{'improved':>10}{'proven':>8}{'dflt opt':>9}{'resolved':>9}" \
             f"{'unresolv':>9}{'worse':>6}{'median s':>9}{'max over':>9}"
    print(header)
    groups = [(f"{n} nodes", [r for r in rows if r["nodes"] == n]) for n in NODES]
    if len({r["util"] for r in rows}) > 1:  # over-subscribed families need packing proofs, the hard part
        groups += [(f"util {u:.2f}", [r for r in rows if r["util"] == u]) for u in UTILS]
    groups.append(("all", rows))
    for name, group in groups:
        if not group:
            continue
        k = len(group)

        def share(key, group=group, k=k):
            return f"{100 * sum(r[key] for r in group) / k:.0f}%"

        print(f"{name:<12}{k:>8}{share('improved'):>10}{share('proven'):>8}{share('default optimal'):>9}"
              f"{100 * resolved(group) / k:>8.0f}%{share('unresolved'):>9}{sum(r['worse'] for r in group):>6}"
              f"{statistics.median(r['wall'] for r in group):>9.2f}{max(r['overshoot'] for r in group):>9.2f}")
    done = resolved(rows)
    needed = math.ceil(0.9 * len(rows))  # the issue asks for 90 %: one decimal showed 780 of 867 as 90.0 %
    print(f"resolved: {done} of {len(rows)} ({100 * done / len(rows):.2f} %; 90 % is {needed})")


def resolved(rows) -> int:
    """Scenarios proven either way: orkit's better plan optimal, or the default's plan optimal."""
    return sum(r["proven"] or r["default optimal"] for r in rows)


def grid(window, seeds, min_nodes, workers):
    rows = []
    for nodes, per_node, prios, util in families():
        if nodes < min_nodes:
            continue
        for seed in seeds:
            row = run_one(nodes, per_node, prios, util, seed, window, workers)
            if row:
                rows.append(row)
    return rows


def paper_seed_lists(window, count, workers):
    if not SEEDS_DIR.exists():
        print(f"\n(paper seed lists not found at {SEEDS_DIR}; skipped)")
        return
    for path in sorted(SEEDS_DIR.glob("nodes*_pods*_prio*_util*.txt")):
        nodes, pods, prios, util = (int(x) for x in re.findall(r"\d+", path.stem))
        seeds = [int(s) for s in path.read_text().split()][:count]
        rows = [r for s in seeds if (r := run_one(nodes, pods // nodes, prios, util / 100, s, window, workers))]
        summarise(rows, f"paper seeds {path.stem} (first {len(seeds)}; {len(rows)} leave pods pending here), "
                        f"{window:g} s window")


def scale(workers):
    started = time.perf_counter()
    model = generate(500, 5000, 4, 1.0, seed=0)
    made = time.perf_counter() - started
    default = model.score(default_schedule(model, model.valid_current_plan()))
    result = orkit.solve(model, time_limit=10, workers=workers)
    rss = peak_memory_mib()
    print(f"\nscale: 500 nodes, 5,000 pods, 4 priorities, util 1.0 (seed 0; generated in {made:.1f} s)")
    print(f"  default  {list(default)}")
    got = result.objective
    verdict = "better than" if got > default else "same as" if got == default else "WORSE than"
    print(f"  orkit    {list(result.objective)}  {result.status.value} ({result.stop.value}) in "
          f"{result.wall_time:.2f} s, {verdict} the default")
    print(f"  peak memory (resident, this process) {rss:.0f} MiB")


def peak_memory_mib() -> float:
    """Peak resident memory of this process. Linux's VmHWM starts afresh at exec, whereas
    ru_maxrss keeps the high-water mark of the process that started this one."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="10 seeds per family in both windows, all paper seeds")
    parser.add_argument("--windows", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds per family (default 3 at 1 s, 1 at 10 s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", action="store_true", help="run only the 500-node scale case")
    args = parser.parse_args()
    print(f"pricing, bin-completion and overflow-search kernels: first call {compile_seconds():.2f} s (numba "
          f"compile, or load from its disk cache; paid once per process, before the timed runs)", flush=True)
    if args.scale:
        scale(args.workers)
        return
    grid_name = "full grid" if args.full else "default stratified subset" if args.seeds is None \
        else f"{args.seeds} seeds per family"
    print(f"orkit {orkit.__version__}; {grid_name}; workers {args.workers}", flush=True)
    for window in args.windows:
        short = window <= 1.0
        count = args.seeds or (10 if args.full else 3 if short else 1)
        min_nodes = 0 if (args.full or short) else 16
        rows = grid(window, range(count), min_nodes, args.workers)
        label = f"seeds 0-{count - 1}" + ("" if min_nodes == 0 else f", families with >= {min_nodes} nodes")
        summarise(rows, f"grid, {window:g} s window ({label})")
        sys.stdout.flush()
    paper_seed_lists(1.0, 100 if args.full else 20, args.workers)
    sys.stdout.flush()  # the scale case runs alone, so its peak memory is its own
    subprocess.run([sys.executable, __file__, "--scale", "--workers", str(args.workers)], check=True)


if __name__ == "__main__":
    main()
