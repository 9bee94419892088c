"""OR-Library and CSV tardiness readers: real layout, FILE#k addressing, and errors with lines."""

from __future__ import annotations

import pytest

import orkit
from orkit import InstanceError
from orkit.formats.orlib import instance_count, read_orlib_all
from tests.conftest import DATA, INSTANCES

WT20 = INSTANCES / "tardiness" / "wt20.txt"


def test_weighted_file_holds_addressable_instances():
    assert instance_count(WT20) == 5
    third = orkit.load(f"{WT20}#3")
    assert third.n == 20 and third.is_weighted and third.name == "wt20#3"
    assert [m.name for m in read_orlib_all(WT20)] == [f"wt20#{k}" for k in range(1, 6)]


def test_unweighted_layout_reads_p_then_d():
    model = orkit.load(DATA / "tardiness" / "tt2.txt#2")
    assert model.processing_times.tolist() == [12, 18] and model.due_dates.tolist() == [11, 30]
    assert not model.is_weighted


def test_many_instances_need_an_index():
    with pytest.raises(InstanceError, match=r"holds 5 instances: address one as wt20.txt#1 .. wt20.txt#5"):
        orkit.load(WT20)
    with pytest.raises(InstanceError, match="#9 does not exist"):
        orkit.load(f"{WT20}#9")


def test_non_positive_processing_time_names_job_and_line():
    with pytest.raises(InstanceError) as err:
        orkit.load(DATA / "tardiness" / "wt3.txt")
    assert err.value.line == 1 and "job 2: processing time must be positive, found 0" in str(err.value)


def test_truncated_file_names_the_incomplete_instance():
    with pytest.raises(InstanceError, match="file ends inside instance 1") as err:
        orkit.load(DATA / "tardiness" / "wt3_truncated.txt")
    assert err.value.line == 1


def test_file_name_must_carry_the_job_count(tmp_path):
    path = tmp_path / "instances.txt"
    path.write_text("1 2 3\n")
    with pytest.raises(InstanceError, match="name the file wtN.txt"):
        orkit.load(path)


def test_csv_reads_labels_and_reports_bad_cells():
    model = orkit.load(INSTANCES / "tardiness" / "jobs12.csv")
    assert model.n == 12 and model.labels[0] == "1"
    with pytest.raises(InstanceError, match="column 'p': expected an integer, found 'x'") as err:
        orkit.load(DATA / "tardiness" / "bad_cell.csv")
    assert err.value.line == 3


def test_csv_with_unknown_header_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name,length,deadline\n0,5,10\n")
    with pytest.raises(InstanceError, match="content matches none of the .csv formats"):
        orkit.load(path)


def test_json_round_trip(tmp_path):
    from orkit.formats.native import write

    model = orkit.load(f"{WT20}#1")
    write(model, tmp_path / "m.json")
    again = orkit.load(tmp_path / "m.json")
    assert again.to_dict() == model.to_dict()
