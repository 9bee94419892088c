"""The single-machine model: validation, objectives recomputed by evaluate(), release dates."""

from __future__ import annotations

import numpy as np
import pytest

from orkit import ModelError
from orkit.models.tardiness import Sequence, SingleMachine


def test_objectives_by_hand():
    # jobs: p = 3, 2, 4; d = 2, 6, 5; w = 1, 2, 3; sequence 0, 1, 2 completes at 3, 5, 9
    model = SingleMachine([3, 2, 4], [2, 6, 5], [1, 2, 3])
    order = Sequence([0, 1, 2])
    assert model.evaluate(order).objective == 1 * 1 + 0 + 3 * 4
    from dataclasses import replace

    assert replace(model, objective="completion").evaluate(order).objective == 3 + 2 * 5 + 3 * 9
    assert replace(model, objective="tardy_jobs").evaluate(order).objective == 1 + 3


def test_release_dates_insert_idle_time():
    model = SingleMachine([2, 2], [2, 10], release_dates=[5, 0])
    assert model.completions(np.array([0, 1])).tolist() == [7, 9]
    assert model.evaluate(Sequence([0, 1])).objective == 5
    assert model.evaluate(Sequence([1, 0])).objective == 5  # 1 runs [0,2), 0 waits until 5


def test_evaluate_rejects_non_permutations():
    model = SingleMachine([1, 2, 3], [1, 2, 3])
    assert not model.evaluate(Sequence([0, 0, 1])).feasible
    assert "appears 2 times" in model.evaluate(Sequence([0, 0, 1])).violations[0]
    assert not model.evaluate(Sequence([0, 1])).feasible
    assert not model.evaluate(Sequence([0, 1, 5])).feasible


@pytest.mark.parametrize("kwargs, message", [
    (dict(processing_times=[3, 0, 2], due_dates=[1, 2, 3]), "job 2: processing time must be positive"),
    (dict(processing_times=[3, 1], due_dates=[1, 2, 3]), "due dates: 3 values for 2 jobs"),
    (dict(processing_times=[3, 1], due_dates=[1, 2], weights=[1, -1]), "weights: job 2 has the negative value"),
    (dict(processing_times=[], due_dates=[]), "no jobs"),
    (dict(processing_times=[1.5], due_dates=[1]), "finite integer"),
    (dict(processing_times=[1], due_dates=[1], objective="makespan"), "unknown objective"),
])
def test_validation_errors(kwargs, message):
    with pytest.raises(ModelError, match=message):
        SingleMachine(**kwargs)


def test_dict_round_trip_and_solution_by_labels():
    model = SingleMachine([3, 2], [2, 6], [1, 2], labels=("a", "b"), objective="completion")
    again = SingleMachine.from_dict(model.to_dict())
    assert again.to_dict() == model.to_dict()
    assert model.solution_from_dict({"sequence": ["b", "a"]}).order.tolist() == [1, 0]
    with pytest.raises(ModelError, match="unknown jobs"):
        model.solution_from_dict({"sequence": ["b", "z"]})
