"""Readers on real PSPLIB files and on broken ones: every failure names file and line."""

from pathlib import Path

import pytest

import orkit
from orkit import InstanceError
from orkit.formats import native
from tests.conftest import DATA, INSTANCES


def test_reads_real_sm_file(j301):
    model = orkit.load(j301)
    assert model.name == "j301_1"
    assert model.n == 32 and model.n_resources == 4
    assert model.capacities.tolist() == [12, 13, 4, 12]
    assert model.durations[1] == 8 and model.demands[1].tolist() == [4, 0, 0, 0]
    assert len(model.precedences) == 48
    assert (0, 1) in {tuple(p) for p in model.precedences.tolist()}
    assert model.critical_path_bound() == 38  # the file's MPM-Time


def test_patterson_rcp_gives_the_same_project(j301):
    sm = orkit.load(j301)
    rcp = orkit.load(DATA / "rcpsp" / "j301_1.rcp")
    assert rcp.durations.tolist() == sm.durations.tolist()
    assert rcp.demands.tolist() == sm.demands.tolist()
    assert sorted(map(tuple, rcp.precedences.tolist())) == sorted(map(tuple, sm.precedences.tolist()))


def test_reads_rcpsp_max_sch_with_negative_lags():
    model = orkit.load(DATA / "rcpsp" / "small_max.sch")
    assert model.n == 7 and model.n_resources == 2
    assert model.has_max_lags
    assert (3, 1, -6) in {tuple(x) for x in model.time_lags.tolist()}
    assert model.capacities.tolist() == [3, 2]


def test_native_json_round_trip(tmp_path, j301):
    model = orkit.load(j301)
    path = tmp_path / "j301.json"
    native.write(model, path)
    again = orkit.load(path)
    assert again.to_dict() == model.to_dict()


def _broken(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _sm_lines(j301) -> list[str]:
    return Path(j301).read_text().splitlines()


@pytest.mark.parametrize(
    "edit, message, line",
    [
        (lambda L: L[:51], "missing section", None),  # truncated before the request table
        (lambda L: L[:25], "file ends early", 25),  # truncated inside the precedence table
        (lambda L: L[:20] + [L[20].replace("3", "x", 1)] + L[21:], "expected job number", 21),
        (lambda L: L[:18] + [L[18].replace("2   3   4", "2   3  99")] + L[19:], "successor 99", 19),
        (lambda L: L[:55] + [L[55].replace("     8 ", "    -8 ", 1)] + L[56:], "duration of job 2 must be >= 0", 56),
        (lambda L: L[:-2] + ["   12   13    4"] + L[-1:], "expected 4 resource capacities, found 3", 90),
        (lambda L: L[:-2] + ["   12   13    4    2"] + L[-1:], "activity 4: demand 3 of resource R4 exceeds", 58),
    ],
)
def test_broken_sm_files_name_file_and_line(tmp_path, j301, edit, message, line):
    lines = _sm_lines(j301)
    path = _broken(tmp_path, "bad.sm", "\n".join(edit(lines)) + "\n")
    with pytest.raises(InstanceError, match=message) as info:
        orkit.load(path)
    assert info.value.file == str(path)
    if line is not None:
        assert info.value.line == line


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.sm", "", "missing section"),
        ("junk.sm", b"\x00\x01\x02binary", "binary data"),
        ("latin.sm", "jobs (incl. supersource/sink ):  3\n\xe9".encode("latin-1"), "not valid UTF-8"),
        ("short.rcp", "3 1\n5\n1 0 0\n", "file ends early"),
        ("words.rcp", "two 1\n", "expected number of activities"),
        ("big.rcp", "999999999 1\n", "must be <= 100000"),
        ("bad.sch", "1 1 0 0\n0 1 1 1 [x]\n", "expected time lag"),
        ("bad.json", '{"format": "orkit", "version": 1, "problem": "rcpsp", "data": {"durations": [1]', "invalid JSON"),
        ("other.json", '{"hello": 1}', "not an orkit JSON document"),
        ("deep.json", "[" * 100000 + "]" * 100000, "nested too deeply"),
        ("noproblem.json", '{"format": "orkit", "version": 1, "problem": "chess", "data": {}}', "unknown problem"),
        ("baddata.json", '{"format": "orkit", "version": 1, "problem": "rcpsp", "data": {"durations": [1], '
                         '"demands": [[2]], "capacities": [1]}}', "exceeds its capacity"),
        ("what.xyz", "hello", "unknown file format"),
    ],
)
def test_bad_files_raise_instance_error(tmp_path, name, content, message):
    path = _broken(tmp_path, name, content)
    with pytest.raises(InstanceError, match=message) as info:
        orkit.load(path)
    assert str(path) in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InstanceError, match="no such file"):
        orkit.load(tmp_path / "nope.sm")
    with pytest.raises(InstanceError, match="directory"):
        orkit.load(INSTANCES)
