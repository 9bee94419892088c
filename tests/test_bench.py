"""Batch runs: instance selection, one honest row per instance, reference gaps, resume, parallel
processes, a Dask LocalCluster, the command line and Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import orkit
from orkit.batch import summarise
from orkit.batch.instances import select
from orkit.batch.reference import read_reference
from orkit.cli import main
from tests.conftest import DATA, INSTANCES, ROOT

TARDINESS = INSTANCES / "tardiness"
QUICK = [str(TARDINESS / "wt20.txt#1"), str(TARDINESS / "wt20.txt#2"), str(INSTANCES / "rcpsp" / "j301_1.sm")]


def test_folders_expand_to_instances_and_skip_what_is_not_one():
    chosen = select([INSTANCES])
    assert [a for a in chosen.addresses if "wt20" in a] == [f"{TARDINESS / 'wt20.txt'}#{k}" for k in range(1, 6)]
    assert any(a.endswith("walker20-ksat5-6h.json") for a in chosen.addresses)
    skipped = dict(chosen.skipped)
    assert "not an instance" in skipped[str(INSTANCES / "satellite" / "iridium_2025-03-11.tle")]
    assert str(INSTANCES / "scratchpad" / "LICENSE-minimalloc-Apache-2.0.txt") in skipped
    named = select([DATA / "bad" / "truncated.sm", QUICK[0], QUICK[0]])  # a named file is kept, even broken; once
    assert named.addresses == [str(DATA / "bad" / "truncated.sm"), QUICK[0]] and not named.skipped
    with pytest.raises(orkit.InstanceError, match="no such file or folder"):
        select([INSTANCES / "nowhere"])


def test_rows_report_what_the_solver_found_and_bad_files_as_errors():
    frame = orkit.bench([*QUICK, DATA / "bad" / "truncated.sm"], time_limit=5, workers=1)
    assert list(frame["instance"]) == [*QUICK, str(DATA / "bad" / "truncated.sm")]
    for address, row in zip(QUICK, frame.itertuples()):
        direct = orkit.solve(orkit.load(address), time_limit=5, workers=1)
        assert (row.family, row.status, row.objective) == (direct.problem, "OPTIMAL", direct.objective)
        assert row.versions and '"ortools"' in row.versions
    broken = frame.iloc[-1]
    assert broken["stop"] == "ERROR" and "truncated.sm" in broken["reason"] and pd.isna(broken["objective"])
    table = summarise(frame).set_index("family")
    assert table.loc["tardiness", "optimal"] == 2 and table.loc["rcpsp", "solved"] == 1
    assert table.loc["(unread)", "errors"] == 1


def test_lexicographic_scores_get_their_own_column():
    frame = orkit.bench([INSTANCES / "pods" / "cluster.yaml"], time_limit=5, workers=1)
    assert pd.isna(frame.loc[0, "objective"]) and frame.loc[0, "score"].startswith("[")


def test_reference_gaps_by_set_and_index_or_by_name(tmp_path):
    by_index = tmp_path / "smtt.csv"
    by_index.write_text("set,index,best_known,status\nwt20,1,5336,optimal\nwt20,2,7000,optimal\n")
    frame = orkit.bench(QUICK[:2], time_limit=5, workers=1, reference=by_index)
    assert frame["reference"].tolist() == [5336, 7000]
    assert frame["reference_gap"].iloc[0] == 0 and frame["reference_gap"].iloc[1] == pytest.approx(222 / 7000)
    by_name = tmp_path / "rcpsp.csv"
    by_name.write_text("instance,optimum_or_best_upper\nj301_1,44\n")
    row = orkit.bench(QUICK[2:], time_limit=5, workers=1, reference=by_name).iloc[0]
    assert row["reference_gap"] == pytest.approx(-1 / 44)  # better than this (wrong) reference: negative
    assert summarise(orkit.bench(QUICK[2:], time_limit=5, workers=1, reference=by_name))["better"].iloc[0] == 1


def test_bad_reference_files_name_the_line(tmp_path):
    bad = tmp_path / "ref.csv"
    bad.write_text("instance,best_known\nj301_1,43\nj301_2,forty\n")
    with pytest.raises(orkit.InstanceError, match=r"ref.csv, line 3: best_known 'forty' is not a number"):
        read_reference(bad)
    bad.write_text("instance,score\nj301_1,43\n")
    with pytest.raises(orkit.InstanceError, match="line 1: no value column"):
        read_reference(bad)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_resume_skips_what_the_results_file_already_holds(tmp_path, suffix):
    out = tmp_path / f"results.{suffix}"
    first = orkit.bench(QUICK[:2], time_limit=5, workers=1, out=out)
    assert first.attrs["finished"] == 2
    again = orkit.bench(QUICK, time_limit=5, workers=1, out=out)
    assert again.attrs["finished"] == 1 and len(again) == 3
    stored = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
    assert stored["instance"].tolist() == QUICK and stored["objective"].tolist() == again["objective"].tolist()
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(orkit.OrkitError, match="not those of an orkit bench results file"):
        orkit.bench(QUICK, out=tmp_path / "other.csv")


def test_parallel_processes_give_the_same_rows_as_one():
    addresses = [f"{TARDINESS / 'wt20.txt'}#{k}" for k in range(1, 6)]
    alone = orkit.bench(addresses, time_limit=10, workers=1)
    pooled = orkit.bench(addresses, time_limit=10, jobs=2, workers=1)
    assert pooled["instance"].tolist() == addresses
    assert pooled["objective"].tolist() == alone["objective"].tolist()
    assert (pooled["status"] == "OPTIMAL").all()


def test_oversubscribed_cores_are_reported():
    messages: list[str] = []
    orkit.bench(QUICK[:1], time_limit=2, jobs=2, workers=os.cpu_count() or 1, notify=messages.append)
    assert any("cores" in m for m in messages)


def test_dask_local_cluster_runs_the_same_batch(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    relative = [str(Path(a).relative_to(ROOT)) for a in QUICK]
    monkeypatch.chdir(tmp_path)  # the workers start elsewhere in the file tree than the batch
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        monkeypatch.chdir(ROOT)
        frame = orkit.bench(relative, time_limit=5, engine="dask", scheduler=cluster.scheduler_address)
    alone = orkit.bench(QUICK, time_limit=5, workers=1)
    assert frame["instance"].tolist() == relative and not frame["reason"].notna().any()
    assert frame["objective"].tolist() == alone["objective"].tolist()
    with pytest.raises(orkit.BackendError, match="needs the scheduler"):
        orkit.bench(QUICK, engine="dask")


def test_cli_bench_prints_a_summary_and_exit_codes(tmp_path):
    out = tmp_path / "r.csv"
    ok = CliRunner().invoke(main, ["bench", *QUICK, "--time-limit", "5", "--workers", "1", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "tardiness" in ok.output and "rcpsp" in ok.output and f"rows in {out}" in ok.output
    with_error = CliRunner().invoke(main, ["bench", QUICK[0], str(DATA / "bad" / "empty.sm"), "--time-limit", "2"])
    assert with_error.exit_code == 1 and "error: " in with_error.output
    usage = CliRunner().invoke(main, ["bench", QUICK[0], "--out", str(tmp_path / "r.xlsx")])
    assert usage.exit_code == 2 and ".csv or .parquet" in usage.output


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_keeps_finished_rows_and_a_rerun_resumes(tmp_path, jobs):
    out = tmp_path / "r.csv"
    slow = str(DATA / "rcpsp" / "j6013_1.sm")  # not proven within 30 s: still running when Ctrl-C comes
    command = [sys.executable, "-m", "orkit.cli", "bench", QUICK[0], slow, "--time-limit", "30", "--out", str(out),
               "--jobs", str(jobs), "--workers", "1"]
    # a terminal's Ctrl-C goes to the whole foreground process group: pool workers included
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.exists() and len(out.read_text().splitlines()) >= 2):
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stdout + stderr
    assert "interrupted: 1 of 2" in stderr and "Traceback" not in stderr
    assert pd.read_csv(out)["instance"].tolist() == [QUICK[0]]
    resumed = CliRunner().invoke(main, ["bench", QUICK[0], "--out", str(out)])
    assert resumed.exit_code == 0 and "0 solved now, 1 resumed from" in resumed.output
