"""Repeatability: the same instance, seed and one worker give the same answer, family by family,
through the whole default chain (CP-SAT with one worker is deterministic for a seed)."""

from __future__ import annotations

import numpy as np
import pytest

import orkit
from tests.conftest import INSTANCES

CASES = [
    (INSTANCES / "rcpsp" / "j301_1.sm", 3),
    (f"{INSTANCES / 'tardiness' / 'wt20.txt'}#2", 3),
    (INSTANCES / "pods" / "n8-p64-r4-u1.0-s3.json", 3),
    (INSTANCES / "scratchpad" / "example.12.csv", 3),
    (INSTANCES / "dnn" / "mobilenetv2.json", 10),
    (INSTANCES / "satellite" / "walker20-ksat5-6h.json", 15),  # first call compiles the DP kernels
]


def _fingerprint(result) -> tuple:
    solution = result.solution.to_dict() if result.solution is not None else None
    flat = {k: (np.asarray(v).tolist() if isinstance(v, np.ndarray) else v) for k, v in (solution or {}).items()}
    return result.status, result.objective, repr(sorted(flat.items()))


@pytest.mark.parametrize("path, seconds", CASES, ids=lambda c: str(c).split("/")[-1])
def test_same_seed_one_worker_same_answer(path, seconds):
    model = orkit.load(path)
    first = orkit.solve(model, time_limit=seconds, seed=11, workers=1)
    second = orkit.solve(model, time_limit=seconds, seed=11, workers=1)
    assert first.has_solution and _fingerprint(first) == _fingerprint(second)
