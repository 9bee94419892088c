"""Order decomposition for large DNN graphs: chunks cut where little memory crosses, re-ordered
chunks stitch into a valid order, and a chunk's relaxation repairs an order that forces spills."""

from __future__ import annotations

import numpy as np

import orkit
from orkit.core.backend import StageContext
from orkit.core.budget import Budget
from orkit.core.result import Status
from orkit.models.dnn import DnnMemory
from orkit.solvers.cpsat import dnn as cpsat_dnn
from orkit.solvers.cpsat import dnn_decompose as decompose


def blocks(count: int) -> DnnMemory:
    """A chain of blocks joined by one 1-byte tensor. In each block two operators make a 10-byte
    tensor each from the block's input, two reduce them to 1 byte, one joins. Listed as make,
    make, reduce, reduce, join, both 10-byte tensors are alive at once (21 bytes with the input);
    make, reduce, make, reduce, join never holds more than 12."""
    inputs, outputs, sizes = [()], [(0,)], [1]
    for _ in range(count):
        y = len(sizes) - 1
        u, v, p, q, out = range(len(sizes), len(sizes) + 5)
        sizes += [10, 10, 1, 1, 1]
        inputs += [(y,), (y,), (u,), (v,), (p, q)]
        outputs += [(u,), (v,), (p,), (q,), (out,)]
    return DnnMemory(tuple(inputs), tuple(outputs), np.array(sizes), name=f"blocks-{count}")


def context(seconds: float = 10) -> StageContext:
    return StageContext(Budget(seconds), workers=1)


def test_chunks_cut_between_blocks_and_cover_the_order():
    model = blocks(6)
    order = model.listed_order
    across = model.bytes_across(order)
    assert list(across[:6]) == [1, 11, 20, 11, 2, 1]  # source, make, make, reduce, reduce, join
    parts = decompose.chunks(model, order, 8)
    assert np.array_equal(np.concatenate(parts), order)
    assert all(len(p) <= 8 for p in parts)
    assert all(across[len(np.concatenate(parts[:k])) - 1] == 1 for k in range(1, len(parts)))


def test_chunked_order_repairs_the_listed_order_and_stitches_a_valid_one():
    model = blocks(4).with_capacity(12)
    assert model.largest_operator[0] == 11
    listed = cpsat_dnn._joint(model, model.listed_order, None, context())
    assert listed.status is Status.OPTIMAL and model.evaluate(listed.solution).objective > 0
    order, note = decompose.chunked_order(model, model.listed_order, context(), 6)
    assert model.order_problem(order) is None and sorted(order) == list(range(model.m))
    for part in decompose.chunks(model, model.listed_order, 6):  # each chunk keeps its operators
        assert set(order[np.isin(order, part)]) == set(part)
    assert "re-ordered" in note
    repaired = cpsat_dnn._joint(model, order, None, context())
    assert model.evaluate(repaired.solution).feasible and model.evaluate(repaired.solution).objective == 0


def test_the_stage_takes_the_decomposition_path_on_a_large_graph(monkeypatch):
    """Made 'large' by lowering the threshold; the plan is verified by the chain as always."""
    monkeypatch.setattr(cpsat_dnn, "DECOMPOSE_ABOVE", 10)
    monkeypatch.setattr(cpsat_dnn, "CHUNK_SIZES", (6, 4, 8))
    for capacity in (12, None):
        model = blocks(4).with_capacity(capacity) if capacity else blocks(4)
        result = orkit.solve(model, backend=("heuristic", "cpsat"), time_limit=20, workers=1)
        assert result.status is Status.OPTIMAL and model.evaluate(result.solution).feasible
        stage = next(s for s in result.stages if s.backend == "cpsat")
        assert "decomposition: 4 chunks" in stage.reason or "decomposition: 5 chunks" in stage.reason
