"""The command line as a user meets it: exit codes, tables, JSON, verification, Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from orkit.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_solve_prints_summary_stages_and_schedule(j301):
    result = run("solve", j301, "--time-limit", 10, "--workers", 2)
    assert result.exit_code == 0, result.output
    assert "j301_1: OPTIMAL (COMPLETED), objective 43" in result.output
    assert "seed 0" in result.output and "heuristic" in result.output
    assert "activity  start  end  duration" in result.output


def test_solve_json_and_out_file_then_check(tmp_path, j301):
    out = tmp_path / "result.json"
    result = run("solve", j301, "--time-limit", 10, "--format", "json", "--out", out)
    assert result.exit_code == 0
    assert json.loads(result.output)["objective"] == 43
    assert json.loads(out.read_text())["status"] == "OPTIMAL"
    checked = run("check", j301, out)
    assert checked.exit_code == 0 and "feasible; objective 43" in checked.output


def test_check_reports_violations_with_exit_1(tmp_path, j301):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"starts": [0] * 32}))
    result = run("check", j301, bad)
    assert result.exit_code == 1
    assert "infeasible" in result.output and "precedence 1 -> 2" not in result.output  # zero-duration source
    assert "precedence 2 -> 6" in result.output


def test_check_rejects_malformed_solutions_with_exit_2(tmp_path, j301):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert run("check", j301, bad).exit_code == 2
    bad.write_text(json.dumps({"starts": ["x"] * 32}))
    assert run("check", j301, bad).exit_code == 2


def test_csv_format(j301):
    result = run("solve", j301, "--time-limit", 10, "--format", "csv")
    assert result.exit_code == 0 and result.output.startswith("activity,start,end,duration")


def test_info(j301):
    result = run("info", j301)
    assert result.exit_code == 0
    assert "activities" in result.output and "critical path bound  38" in result.output


def test_bad_input_and_usage_exit_2(tmp_path, j301):
    broken = tmp_path / "broken.sm"
    broken.write_text("jobs (incl. supersource/sink ):  x\n")
    result = run("solve", broken)
    assert result.exit_code == 2 and "broken.sm, line 1" in result.output
    assert run("solve", tmp_path / "missing.sm").exit_code == 2
    assert run("solve", j301, "--backend", "gurobi").exit_code == 2
    assert run("solve", j301, "--param", "nodot").exit_code == 2
    assert run("solve", j301, "--time-limit", "-1").exit_code == 2


def test_infeasible_instance_exits_1(tmp_path):
    from tests.conftest import DATA

    result = run("solve", DATA / "rcpsp" / "contradictory_lags.sch", "--time-limit", 5)
    assert result.exit_code == 1 and "INFEASIBLE" in result.output and "contradict" in result.output


def test_params_and_export_pass_through(tmp_path, j301):
    target = tmp_path / "model.pb.txt"
    result = run("solve", j301, "--backend", "heuristic,cpsat", "--param", "cpsat.linearization_level=2",
                 "--export", target, "--quiet")
    assert result.exit_code == 0 and target.exists()
    result = run("solve", j301, "--backend", "heuristic,mip", "--mip-solver", "cbc", "--quiet")
    assert result.exit_code == 0 and "OPTIMAL" in result.output


def test_progress_line_can_be_forced(j301):
    result = CliRunner().invoke(main, ["solve", str(j301), "--progress", "--time-limit", "10"])
    assert result.exit_code == 0


def test_ctrl_c_returns_the_best_solution(hard_j60):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "orkit.cli", "solve", str(hard_j60), "--time-limit", "60", "--workers", "2",
         "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    time.sleep(4.0)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    data = json.loads(out)
    assert data["stop"] == "INTERRUPTED" and data["status"] == "FEASIBLE"
    assert data["wall_time"] < 30 and data["solution"] is not None


def test_an_interrupt_the_solve_did_not_catch_aborts_with_exit_130(j301, monkeypatch):
    # a Ctrl-C outside the chain's handler reaches the command: no result, no claim it came twice
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("orkit.cli.solve_model", interrupted)
    result = CliRunner().invoke(main, ["solve", str(j301)])
    assert result.exit_code == 130
    assert "interrupted: aborted without a result" in result.output and "twice" not in result.output
