"""Buffer placement benchmark on the MiniMalloc challenging suite (../shared/benchmarks/minimalloc).

    python benchmarks/scratchpad.py                      # auto chain, 60 s per instance
    python benchmarks/scratchpad.py --time-limit 10 --backend heuristic

Prints per instance: buffers, status, peak address found, wall time, and MiniMalloc's published
time (ASPLOS'23, their machine) next to it; then the sums. Capacity 1048576 from the file names.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orkit

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "minimalloc"
PUBLISHED_SECONDS = {"A": 4.91, "C": 0.64, "E": 3.72, "G": 1.18, "I": 3.91, "K": 0.63}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--backend", default="auto", help="a backend or a comma-separated chain")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"benchmark data not found at {args.data}; pass --data (it lives in ../shared/benchmarks/minimalloc)")
    backend = tuple(args.backend.split(",")) if "," in args.backend else args.backend
    print(f"orkit {orkit.__version__}; backend {args.backend}, {args.time_limit:g} s, {args.workers} workers")
    warm = time.perf_counter()  # the compiled kernels are cached on disk after their first use
    orkit.solve(orkit.load(args.data / "example_input.12.csv"), backend=backend, time_limit=args.time_limit)
    print(f"warm-up on example_input.12.csv (includes compiling the search once per install): "
          f"{time.perf_counter() - warm:.2f} s")
    print("| instance | buffers | status | peak | wall s | MiniMalloc s (published) |")
    print("|---|---|---|---|---|---|")
    total_wall, solved = 0.0, 0
    for letter, published in PUBLISHED_SECONDS.items():
        path = args.data / f"challenging_{letter}.1048576.csv"
        model = orkit.load(path)
        start = time.perf_counter()
        result = orkit.solve(model, backend=backend, time_limit=args.time_limit, seed=args.seed,
                             workers=args.workers)
        wall = time.perf_counter() - start
        total_wall += wall
        solved += result.has_solution
        peak = "-" if result.objective is None else result.objective
        print(f"| {letter} | {model.n} | {result.status} | {peak} | {wall:.2f} | {published:.2f} |", flush=True)
    print(f"| all | | {solved}/{len(PUBLISHED_SECONDS)} placed | | {total_wall:.2f} | "
          f"{sum(PUBLISHED_SECONDS.values()):.2f} |")


if __name__ == "__main__":
    main()
