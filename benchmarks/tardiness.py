"""Single-machine tardiness benchmark against ../shared/benchmarks/smtt/reference.csv.

    python benchmarks/tardiness.py                          # default subset (see below), auto chain, 10 s
    python benchmarks/tardiness.py --set wt40 --full        # all 125 wt40 instances
    python benchmarks/tardiness.py --set tt100 --time-limit 1 --backend heuristic
    python benchmarks/tardiness.py --rules                  # dispatching rules vs the study's gaps

Default subset (stratified, fixed): every 5th instance of wt40/wt50 (the first of each TF/RDD block
of 5, so all 25 classes), every 5th of tt100 (all 20 classes, 10 each); `--full` runs every
instance. Prints per set: mean gap over non-zero optima, median gap, Σvalue/Σopt − 1, count at
optimum, count proven optimal, median and max wall time, worst overshoot of the time limit.
Timing is noisy on shared machines: compare columns of one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import orkit
from orkit.formats.orlib import read_orlib_all

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "smtt"
SETS = ("wt40", "wt50", "tt100", "tt20u")
# Published mean gaps over non-zero optima (arXiv 2510.24013): EDD, EDDC, MDD, MDDC, MDDC+.
STUDY = {"tt20u": {"EDD": 46.61, "EDDC": 12.83, "MDD": 1.86, "MDDC": 1.70, "MDDC+": 0.79},
         "tt100": {"EDD": 59.57, "EDDC": 28.12, "MDD": 1.81, "MDDC": 1.52, "MDDC+": 1.08}}


def references(data: Path) -> dict[tuple[str, int], int]:
    path = data / "reference.csv"
    if not path.exists():
        sys.exit(f"reference values not found: {path} (this benchmark reads ../shared/benchmarks/smtt)")
    with open(path) as handle:
        return {(r["set"], int(r["index"])): int(r["best_known"]) for r in csv.DictReader(handle)}


def select(name: str, count: int, full: bool, limit: int | None) -> list[int]:
    indices = list(range(1, count + 1))
    if not full:
        step = 5 if name in ("wt40", "wt50", "tt100") else 20
        indices = indices[::step]
    return indices[:limit] if limit else indices


def gaps_table(values: list[int], optima: list[int]) -> dict[str, float]:
    v, o = np.array(values, dtype=float), np.array(optima, dtype=float)
    nonzero = o > 0
    rel = (v[nonzero] - o[nonzero]) / o[nonzero] * 100
    return {
        "mean gap %": float(rel.mean()) if len(rel) else 0.0,
        "median gap %": float(np.median(rel)) if len(rel) else 0.0,
        "sum gap %": float((v.sum() / o.sum() - 1) * 100) if o.sum() else 0.0,
        "at optimum": int((v == o).sum()),
    }


def run_solver(args, ref) -> None:
    for name in args.set:
        models = read_orlib_all(args.data / f"{name}.txt")
        indices = select(name, len(models), args.full, args.limit)
        label = "full" if args.full else "stratified subset"
        print(f"\n{name}: {len(indices)} instances ({label}), backend {args.backend}, "
              f"{args.time_limit:g} s, {args.workers} workers, seed {args.seed}", flush=True)
        values, optima, proven, walls, worse = [], [], 0, [], []
        for k in indices:
            model = models[k - 1]
            start = time.perf_counter()
            result = orkit.solve(model, backend=args.backend, time_limit=args.time_limit, seed=args.seed,
                                 workers=args.workers)
            wall = time.perf_counter() - start
            opt = ref[(name, k)]
            if result.objective is None:
                print(f"  #{k}: no solution ({result.status}, {result.stop})")
                continue
            if result.objective < opt or (result.status == orkit.Status.OPTIMAL and result.objective != opt):
                worse.append(k)
            values.append(int(result.objective))
            optima.append(opt)
            proven += result.status == orkit.Status.OPTIMAL
            walls.append(wall)
            if args.verbose or result.objective != opt:
                print(f"  #{k}: {result.objective} (opt {opt}) {result.status} {wall:.2f}s "
                      f"[{'; '.join(f'{s.backend}: {s.reason}' for s in result.stages)}]", flush=True)
        table = gaps_table(values, optima)
        print("| set | n | mean gap % | median gap % | Σ gap % | at opt | proven | median s | max s | overshoot s |")
        print(f"| {name} | {len(values)} | {table['mean gap %']:.3f} | {table['median gap %']:.3f} | "
              f"{table['sum gap %']:.3f} | {table['at optimum']} | {proven} | {statistics.median(walls):.3f} | "
              f"{max(walls):.2f} | {max(w - args.time_limit for w in walls):+.2f} |")
        if worse:
            print(f"  CONTRADICTS THE REFERENCE (below it, or 'optimal' above it): {worse}")


def run_rules(args, ref) -> None:
    from orkit.solvers.heuristics.tardiness_rules import RULES

    for name in ("tt20u", "tt100", "wt40", "wt50"):
        models = read_orlib_all(args.data / f"{name}.txt")
        count = len(models)
        values: dict[str, list[int]] = {rule: [] for rule in RULES}
        optima = []
        for k, model in enumerate(models, start=1):
            optima.append(ref[(name, k)])
            for rule, build in RULES.items():
                values[rule].append(model.cost(build(model)))
        print(f"\n{name}: all {count} instances; gaps in % (mean over non-zero optima / median / Σ)")
        print("| rule | mean | median | Σ | at opt | study's mean |")
        for rule in RULES:
            t = gaps_table(values[rule], optima)
            published = STUDY.get(name, {}).get(rule)
            print(f"| {rule} | {t['mean gap %']:.2f} | {t['median gap %']:.2f} | {t['sum gap %']:.2f} | "
                  f"{t['at optimum']} | {'' if published is None else f'{published:.2f}'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", choices=SETS, help="repeatable; default wt40, wt50, tt100")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="every instance instead of the stratified subset")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rules", action="store_true", help="dispatching rules on every instance instead")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"benchmark data not found at {args.data}; pass --data (it lives in ../shared/benchmarks/smtt)")
    args.set = args.set or ["wt40", "wt50", "tt100"]
    ref = references(args.data)
    print(f"orkit {orkit.__version__}; data {args.data}")
    if args.rules:
        run_rules(args, ref)
    else:
        run_solver(args, ref)


if __name__ == "__main__":
    main()
