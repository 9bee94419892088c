"""The command line on single-machine files: FILE#k, --objective, generate, check, errors."""

from __future__ import annotations

import json

from tests.conftest import DATA, INSTANCES
from tests.test_cli import run

WT20 = INSTANCES / "tardiness" / "wt20.txt"


def test_solve_one_instance_of_a_many_instance_file_then_check(tmp_path):
    out = tmp_path / "result.json"
    result = run("solve", f"{WT20}#2", "--time-limit", 10, "--workers", 1, "--out", out)
    assert result.exit_code == 0, result.output
    assert "wt20#2: OPTIMAL (COMPLETED)" in result.output
    assert "position job  start  end" in result.output
    objective = json.loads(out.read_text())["objective"]
    checked = run("check", f"{WT20}#2", out)
    assert checked.exit_code == 0 and f"feasible; objective {objective}" in checked.output


def test_check_names_a_repeated_job(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sequence": [0] * 20}))
    checked = run("check", f"{WT20}#1", bad)
    assert checked.exit_code == 1 and "job 1 appears 20 times" in checked.output


def test_other_objectives_on_the_same_data():
    result = run("solve", INSTANCES / "tardiness" / "jobs12.csv", "--objective", "tardy_jobs", "--quiet")
    assert result.exit_code == 0 and "OPTIMAL" in result.output
    assert run("solve", INSTANCES / "tardiness" / "jobs12.csv", "--objective", "lateness").exit_code == 2


def test_generate_writes_files_every_reader_accepts(tmp_path):
    for name in ("g.json", "g.csv", "tt15.txt"):
        path = tmp_path / name
        made = run("generate", "tardiness", "--jobs", 15, "--seed", 3, "--count", 2 if name.endswith("txt") else 1,
                   "--out", path)
        assert made.exit_code == 0, made.output
        target = f"{path}#2" if name.endswith("txt") else path
        assert run("info", target).exit_code == 0
    assert run("generate", "tardiness", "--count", 2, "--out", tmp_path / "x.json").exit_code == 2


def test_bad_files_exit_2_with_file_and_line():
    result = run("solve", DATA / "tardiness" / "wt3.txt")
    assert result.exit_code == 2
    assert "wt3.txt, line 1: instance #1, job 2: processing time must be positive" in result.output
    result = run("solve", f"{INSTANCES / 'rcpsp' / 'j301_1.sm'}#2")
    assert result.exit_code == 2 and "hold one instance" in result.output
