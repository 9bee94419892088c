"""How far past its time limit does a solve call return? One wall clock per call (model building,
every stage, verification), measured over every family at limits from 0.5 s to 5 s.

    python benchmarks/overshoot.py                 # limits 0.5 1 2 5 s, two instances per family
    python benchmarks/overshoot.py --limits 0.5 1  # a quicker run

The instances are chosen to use their whole budget (hard or large): a shipped hard j60 RCPSP and
a generated 120-activity one, generated 100-job tardiness (weighted and not), generated pod
clusters of 32 and 128 nodes, and the challenging_I buffer set (read from ../shared/benchmarks
when present, else a generated 300-buffer set). Overshoot = wall time - limit, for calls that
did not finish early. Satellite: the medium Walker day (60 satellites, 10 stations) and 120
Starlink TLEs over 20 stations, generated here. DNN: NASNet-Mobile (shared; else the shipped
MobileNetV2) at M_R and in the peak-footprint variant. Goal (issue 8): at most 0.5 s in the worst case.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import orkit
from orkit.core.result import Stop
from orkit.generators import pods as pod_generator
from orkit.generators import satellite as satellite_generator
from orkit.generators import tardiness as tardiness_generator
from orkit.models.scratchpad import BufferPlacement

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks"


def instances() -> list[tuple[str, object]]:
    cases: list[tuple[str, object]] = [("rcpsp j6013_1 (tests/data)", orkit.load(ROOT / "tests/data/rcpsp/j6013_1.sm"))]
    j120 = SHARED / "rcpsp" / "j60" / "j6045_3.sm"
    if j120.exists():
        cases.append(("rcpsp j6045_3 (shared)", orkit.load(j120)))
    cases.append(("tardiness 100 jobs weighted", tardiness_generator.generate(100, 0.6, 0.4, seed=1, weighted=True)))
    cases.append(("tardiness 100 jobs", tardiness_generator.generate(100, 0.8, 0.2, seed=2, weighted=False)))
    cases.append(("pods 32x256", pod_generator.generate(32, 256, 4, 1.0, seed=0)))
    cases.append(("pods 128x1024", pod_generator.generate(128, 1024, 4, 1.0, seed=1)))
    challenging = SHARED / "minimalloc" / "challenging_I.1048576.csv"
    if challenging.exists():
        cases.append(("scratchpad challenging_I (shared)", orkit.load(challenging)))
    rng = np.random.default_rng(0)
    starts = rng.integers(0, 2000, 300)
    cases.append(("scratchpad 300 random, no capacity",
                  BufferPlacement(starts, starts + rng.integers(1, 400, 300), rng.integers(1, 1000, 300))))
    cases.append(("satellite walker 60x10 24 h", satellite_generator.generate(satellite_generator.SatelliteRecipe(
        walker="53:60/6/1", station_count=10, seed=1))))
    cases.append(("satellite starlink 120x20 24 h", satellite_generator.generate(satellite_generator.SatelliteRecipe(
        walker=None, tle=str(ROOT / "instances/satellite/starlink_even600_2025-03-11.tle"), satellites=120,
        station_count=20, seed=2))))
    nasnet = SHARED / "dnn_graphs" / "nasnetmobile.json"
    graph = orkit.load(nasnet if nasnet.exists() else ROOT / "instances/dnn/mobilenetv2.json")
    label = "nasnetmobile (shared)" if nasnet.exists() else "mobilenetv2"
    cases.append((f"dnn {label} at M_R", graph.with_capacity(graph.largest_operator[0])))
    cases.append((f"dnn {label}, peak footprint", graph))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limits", type=float, nargs="+", default=[0.5, 1.0, 2.0, 5.0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="run the instances whose name starts with this (e.g. dnn)")
    args = parser.parse_args()
    print(f"orkit {orkit.__version__}; limits {args.limits} s; {args.workers} workers")
    print("| instance | limit s | wall s | overshoot s | status | stop |")
    print("|---|---|---|---|---|---|")
    overshoots: dict[float, list[float]] = {limit: [] for limit in args.limits}
    for name, model in instances():
        if not name.startswith(args.only):
            continue
        for limit in args.limits:
            start = time.perf_counter()
            result = orkit.solve(model, time_limit=limit, workers=args.workers, seed=0)
            wall = time.perf_counter() - start
            over = wall - limit
            if result.stop is not Stop.COMPLETED:
                overshoots[limit].append(over)
            print(f"| {name} | {limit:g} | {wall:.3f} | {over:+.3f} | {result.status} | {result.stop} |", flush=True)
    print()
    print("| limit s | calls at the limit | median overshoot s | max overshoot s |")
    print("|---|---|---|---|")
    every = []
    for limit, values in overshoots.items():
        every += values
        if values:
            print(f"| {limit:g} | {len(values)} | {statistics.median(values):+.3f} | {max(values):+.3f} |")
    if every:
        print(f"| all | {len(every)} | {statistics.median(every):+.3f} | {max(every):+.3f} |")


if __name__ == "__main__":
    main()
