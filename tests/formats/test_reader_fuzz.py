"""Mutation fuzzing of every reader: take a shipped file, cut, overwrite or splice it at places
hypothesis chooses, and load it. Each result must be a model or an InstanceError/ModelError
naming the file — never another exception (the single-machine readers have their own token
fuzzing in test_orlib_fuzz)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import orkit
from orkit import InstanceError, ModelError
from tests.conftest import INSTANCES

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SOURCES = ["rcpsp/j301_1.sm", "scratchpad/example.12.csv", "pods/cluster.yaml", "pods/n8-p64-r4-u1.0-s3.json",
           "dnn/mobilenetv2.json"]
SPLICES = st.one_of(st.binary(max_size=12),
                    st.sampled_from([b"-1", b"x", b"99999999999999999999", b"\n", b",", b":", b"{", b"]", b"&a", b"*a",
                                     b"1e400", b"NaN", b"\xff\xfe", b"\x00", b"  ", b"\"\""]))


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = original
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 40)))
        kind = draw(st.sampled_from(["cut", "replace", "delete"]))
        if kind == "cut":
            data = data[:start]
        elif kind == "replace":
            data = data[:start] + draw(SPLICES) + data[end:]
        else:
            data = data[:start] + data[end:]
    return data


@pytest.mark.parametrize("source", SOURCES)
def test_mutated_files_load_or_fail_cleanly(source):
    original = (INSTANCES / source).read_bytes()
    name = Path(source).name

    @FUZZ
    @given(mutated(original))
    def check(content):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            try:
                model = orkit.load(path)
            except (InstanceError, ModelError) as exc:
                assert str(exc)
                return
            summary = model.summary()  # a model that loaded must be usable
            assert summary["problem"] == model.problem

    check()


def test_mutated_reference_files_read_or_fail_cleanly():
    from orkit.batch.reference import read_reference

    original = (b"instance,set,optimum_or_best_upper,lower_bound\n"
                b"j301_1,j30,43,43\nj301_2,j30,47,47\nwt40#1,wt40,913,913\n")

    @FUZZ
    @given(mutated(original))
    def check(content):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "reference.csv"
            path.write_bytes(content)
            try:
                reference = read_reference(path)
            except InstanceError as exc:
                assert "reference.csv" in str(exc)
                return
            assert all(isinstance(v, float) for v in reference.values.values())

    check()
