"""Pictures: every family's picture and the progress plot render to real PNG files (Agg), show what
they claim (critical activities, tardy jobs, plan changes, links), and fail clearly when they cannot."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from click.testing import CliRunner

import orkit
from orkit import plot
from orkit.cli import main
from orkit.models.pods import Plan
from orkit.models.satellite import LinkPlan
from tests.conftest import INSTANCES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SHIPPED = {
    "rcpsp": INSTANCES / "rcpsp" / "j301_1.sm",
    "tardiness": f"{INSTANCES / 'tardiness' / 'wt20.txt'}#1",
    "pods": INSTANCES / "pods" / "cluster.yaml",
    "scratchpad": INSTANCES / "scratchpad" / "example.12.csv",
    "satellite": INSTANCES / "satellite" / "walker20-ksat5-6h.json",
}


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000  # a real picture, not an empty canvas


@pytest.fixture(scope="module")
def results():
    return {family: orkit.solve(orkit.load(path), time_limit=5, workers=1) for family, path in SHIPPED.items()}


@pytest.mark.parametrize("family", sorted(SHIPPED))
def test_every_family_draws_its_picture_and_progress(results, family, tmp_path):
    result = results[family]
    assert result.has_solution
    plot.save(plot.picture(result), str(tmp_path / "picture.png"))
    plot.save(plot.progress(result), str(tmp_path / "progress.png"))
    assert_png(tmp_path / "picture.png")
    assert_png(tmp_path / "progress.png")


def test_critical_activities_follow_tight_arcs_to_the_makespan():
    # 0 -> 1 -> 3 and 0 -> 2 -> 3 with 2 shorter: 0, 1, 3 are tight up to the end; 2 has float
    project = orkit.RCPSP(durations=[2, 3, 1, 2], demands=[[1], [1], [1], [1]], capacities=[2],
                          precedences=[(0, 1), (0, 2), (1, 3), (2, 3)])
    schedule = orkit.RCPSPSolution(np.array([0, 2, 2, 5]))
    assert project.evaluate(schedule).feasible
    assert project.critical_activities(schedule).tolist() == [True, True, False, True]
    # delay 2 until it touches 3: now it is critical too
    assert project.critical_activities(orkit.RCPSPSolution(np.array([0, 2, 4, 5]))).tolist() == [True] * 4


def test_rcpsp_picture_has_a_gantt_and_one_profile_per_resource(results):
    result = results["rcpsp"]
    fig = plot.picture(result)
    assert len(fig.axes) == 1 + result.model.n_resources
    colours = fig.axes[0].collections[0].get_facecolors()
    red = np.isclose(colours[:, 0], 0xC0 / 255) & np.isclose(colours[:, 1], 0x39 / 255)
    shown = result.model.durations > 0
    assert red.sum() == result.model.critical_activities(result.solution)[shown].sum() > 0


def test_tardiness_picture_marks_the_tardy_jobs(results):
    result = results["tardiness"]
    fig = plot.picture(result)
    late_parts = fig.axes[0].collections[0]  # drawn first, behind the jobs' bars
    tardy = (result.to_frame()["tardiness"] > 0).sum()
    assert len(late_parts.get_paths()) == tardy > 0


def test_pods_picture_marks_each_change():
    cluster = orkit.load(SHIPPED["pods"])
    pending = next(i for i, p in enumerate(cluster.pods) if p.node is None)
    mover = next(i for i, p in enumerate(cluster.pods) if p.node is not None and not p.protected)
    bindings = {p.name: p.node for p in cluster.pods}
    bindings[cluster.pods[pending].name] = None
    bindings[cluster.pods[mover].name] = None  # evicted
    plan = cluster.plan(cluster.assignment_of(Plan(bindings)))
    assert cluster.actions(cluster.assignment_of(plan))[mover] == "evict"
    fig = plot.picture(cluster, plan)
    hatched = [patch for ax in fig.axes for patch in ax.patches if patch.get_hatch() == "xx"]
    assert len(hatched) == sum(1 for r in cluster.resources if r in ("cpu", "memory"))  # once per resource, before


def test_satellite_picture_draws_every_link_on_its_antenna(results):
    result = results["satellite"]
    fig = plot.picture(result)
    links = fig.axes[0].collections[-1]
    assert len(links.get_paths()) == len(result.solution.links)
    empty = plot.picture(result.model, LinkPlan(()))  # a plan with no link still draws the windows
    assert len(empty.axes[0].collections) == 1


def test_no_solution_and_no_matplotlib_target_fail_clearly(results, tmp_path):
    too_small = dataclasses.replace(orkit.load(SHIPPED["scratchpad"]), capacity=4)
    infeasible = orkit.solve(too_small, time_limit=2)
    assert infeasible.status is orkit.Status.INFEASIBLE
    with pytest.raises(plot.PlotError, match="no solution to draw"):
        plot.picture(infeasible)
    with pytest.raises(plot.PlotError, match="a solution is needed"):
        plot.picture(results["rcpsp"].model)
    with pytest.raises(plot.PlotError, match="unknown picture format"):
        plot.check_target(str(tmp_path / "picture.xyz"))
    with pytest.raises(plot.PlotError, match="does not exist"):
        plot.check_target(str(tmp_path / "missing" / "picture.png"))


def test_cli_plot_writes_the_picture(tmp_path):
    target = tmp_path / "schedule.png"
    outcome = CliRunner().invoke(main, ["solve", str(SHIPPED["rcpsp"]), "--time-limit", "5", "--plot", str(target),
                                        "-q"])
    assert outcome.exit_code == 0, outcome.output
    assert_png(target)
    refused = CliRunner().invoke(main, ["solve", str(SHIPPED["rcpsp"]), "--plot", str(tmp_path / "x.doc")])
    assert refused.exit_code == 2 and "unknown picture format" in refused.output
