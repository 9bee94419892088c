"""Fuzzing the single-machine readers: any text ends in a model or an InstanceError with a file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import orkit
from orkit import InstanceError

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
numbers = st.lists(st.one_of(st.integers(-5, 200), st.sampled_from(["x", "1.5", "", "-", "1e3"])), max_size=40)


def _load(name: str, content: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            return orkit.load(f"{path}#1" if name.endswith(".txt") else path)
        except InstanceError as exc:
            assert exc.file is not None and str(exc)
            return None


@FUZZ
@given(numbers, st.sampled_from(["wt3.txt", "tt2.txt"]))
def test_orlib_tokens(values, name):
    text = "\n".join(" ".join(str(v) for v in values[i:i + 7]) for i in range(0, len(values), 7))
    model = _load(name, text.encode())
    if model is not None:
        assert model.n == int(name[2]) and (model.processing_times > 0).all()


@FUZZ
@given(st.lists(numbers, max_size=6), st.sampled_from(["job,p,d", "job,p,d,w", "p,d,r", "job,due,processing_time"]))
def test_csv_rows(rows, header):
    text = header + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows)
    model = _load("jobs.csv", text.encode())
    if model is not None:
        filled = [row for row in rows if any(str(v).strip() for v in row)]
        assert (model.processing_times > 0).all() and model.n == len(filled)


@FUZZ
@given(st.binary(max_size=200), st.sampled_from(["wt3.txt", "jobs.csv"]))
def test_arbitrary_bytes(content, name):
    _load(name, content)
