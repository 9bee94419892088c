"""DNN memory planning benchmark (issue 5, part 2) on the five real graphs of
../shared/benchmarks/dnn_graphs, at COSMA's budgets.

    python benchmarks/dnn.py                       # 60 s per solve, 2 workers
    python benchmarks/dnn.py --time-limit 10 --graphs resnet50,mobilenetv2

Budgets as COSMA defines them: M_R = the largest operator's inputs + outputs; M_P = the minimum
peak footprint (no spills, free order, addresses included), solved here by orkit's peak variant
(the table says whether it was proven; an unproven M_P is the best footprint found, an upper
estimate); M_H = (M_R + M_P) / 2. At M_H and M_R the baseline (listed order, best-fit, furthest
next use evicted) and orkit's default chain are run side by side; the table gives non-compulsory
off-chip bytes (spill writes + fetches), orkit's proof status and bound, and the wall time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orkit

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "dnn_graphs"
GRAPHS = ("resnet50", "mobilenetv2", "densenet121", "inceptionv3", "nasnetmobile")


def timed(model, **kwargs):
    start = time.perf_counter()
    result = orkit.solve(model, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--graphs", default=",".join(GRAPHS))
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per orkit solve")
    parser.add_argument("--peak-time-limit", type=float, default=30.0, help="seconds for finding M_P")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"benchmark data not found at {args.data}; pass --data (it lives in ../shared/benchmarks/dnn_graphs)")
    run = {"workers": args.workers, "seed": args.seed}
    print(f"orkit {orkit.__version__}; {args.time_limit:g} s per solve, {args.workers} workers, seed {args.seed}")
    print("\n| graph | ops | M_R | M_P | M_P proven | M_P s | M_H |")
    print("|---|---|---|---|---|---|---|")
    budgets = {}
    for name in args.graphs.split(","):
        model = orkit.load(args.data / f"{name}.json")
        m_r = model.largest_operator[0]
        peak, seconds = timed(model, time_limit=args.peak_time_limit, **run)
        m_p = int(peak.objective)
        budgets[name] = (model, m_r, m_p)
        proven = "yes" if peak.status.value == "OPTIMAL" else f"no (bound {int(peak.bound)})"
        print(f"| {name} | {model.m} | {m_r:,} | {m_p:,} | {proven} | {seconds:.1f} | {(m_r + m_p) // 2:,} |",
              flush=True)
    print("\n| graph | budget | capacity | baseline bytes | orkit bytes | fewer than baseline | status | bound | "
          "wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    reductions = []
    for name, (model, m_r, m_p) in budgets.items():
        for label, capacity in (("M_H", (m_r + m_p) // 2), ("M_R", m_r)):
            bounded = model.with_capacity(capacity)
            baseline, _ = timed(bounded, backend="baseline", time_limit=args.time_limit)
            ours, seconds = timed(bounded, time_limit=args.time_limit, **run)
            base_bytes, our_bytes = baseline.objective, ours.objective
            if base_bytes:
                cut = f"{1 - our_bytes / base_bytes:.0%}"
                if label == "M_R":
                    reductions.append(1 - our_bytes / base_bytes)
            else:
                cut = "- (baseline 0)"
            bound = "-" if ours.bound is None else f"{int(ours.bound):,}"
            print(f"| {name} | {label} | {capacity:,} | {base_bytes:,} | {our_bytes:,} | {cut} | "
                  f"{ours.status.value} | {bound} | {seconds:.1f} |", flush=True)
    if reductions:
        print(f"\nmean reduction of non-compulsory bytes against the baseline at M_R "
              f"(graphs where the baseline spills): {sum(reductions) / len(reductions):.0%} over {len(reductions)}")


if __name__ == "__main__":
    main()
