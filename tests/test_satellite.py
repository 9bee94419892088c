"""Satellite link scheduling: the checker, the orbit geometry (against skyfield), the readers,
and every backend against each other on shipped instances."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import numpy as np
import pytest

import orkit
from orkit import InstanceError, ModelError
from orkit.core.budget import Budget
from orkit.formats.tle import read_tle
from orkit.generators.orbits import WalkerDelta, passes, walker_satrecs
from orkit.generators.satellite import SatelliteRecipe, generate, network_sites
from orkit.models.satellite import Link, LinkPlan, LinkScheduling, Mode, Satellite, Station, Window
from orkit.solvers.exact.satellite import StationDecomposition, price_search
from orkit.solvers.exact.satellite_kernels import link_values, prefix_values
from tests.conftest import DATA, ROOT
from tests.test_cli import run

SMALL = ROOT / "instances" / "satellite" / "walker20-ksat5-6h.json"
STARLINK = ROOT / "instances" / "satellite" / "starlink_even600_2025-03-11.tle"
SATNET = DATA / "satellite" / "satnet_W10_slice.json"


def tiny(**changes) -> LinkScheduling:
    """Two satellites, two one-antenna stations with 10 s re-pointing, overlapping windows."""
    fields = dict(
        stations=(Station("A", setup=10), Station("B", setup=10, downtime=((500, 600),))),
        satellites=(Satellite("s0", mode="fs"), Satellite("s1", mode="fs", weight=2)),
        windows=(Window(0, (0,), 0, 100), Window(1, (0,), 50, 200), Window(0, (1,), 80, 300),
                 Window(1, (1,), 400, 700)),
        horizon=1000, modes=(Mode("fs", switch=5, max_links=2),), min_duration=20)
    fields.update(changes)
    return LinkScheduling(**fields)


def plan(*links) -> LinkPlan:
    return LinkPlan(tuple(Link(k, s, e, (0,)) for k, s, e in links))


# ---- the checker ---------------------------------------------------------------------------------

def test_a_valid_plan_scores_weighted_link_time():
    evaluation = tiny().evaluate(plan((0, 0, 40), (1, 50, 200), (2, 80, 300), (3, 610, 700)))
    assert evaluation.violations == [] and evaluation.feasible
    assert evaluation.objective == 40 + 2 * 150 + 220 + 2 * 90


@pytest.mark.parametrize("links, words", [
    ([(0, 0, 45), (1, 50, 200)], "overlap (re-pointing"),  # 45 + 10 s set-up > 50
    ([(0, 0, 90), (2, 92, 300)], "switch"),  # the satellite needs 5 s between links
    ([(3, 450, 520)], "downtime"),
    ([(3, 601, 700)], "downtime"),  # after the downtime the antenna re-points for 10 s
    ([(0, 0, 10)], "shorter than the minimum"),
    ([(0, -5, 60)], "leaves its window"),
    ([(0, 0, 30), (0, 40, 70)], "more than one link"),
])
def test_every_rule_is_checked(links, words):
    evaluation = tiny().evaluate(plan(*links))
    assert not evaluation.feasible
    assert any(words in v for v in evaluation.violations), evaluation.violations


def test_caps_per_period_are_checked():
    model = tiny(modes=(Mode("fs", max_links=1, max_time=100),))
    assert any("links in period" in v for v in model.evaluate(plan((0, 0, 40), (2, 80, 120))).violations)
    assert any("s of links" in v for v in model.evaluate(plan((2, 80, 300))).violations)


@pytest.mark.parametrize("change, words", [
    ({"windows": (Window(0, (0,), 50, 50),)}, "not before"),
    ({"windows": (Window(5, (0,), 0, 50),)}, "satellite index"),
    ({"windows": (Window(0, (0,), 0, 5000),)}, "outside the horizon"),
    ({"satellites": (Satellite("x", mode="nope"),)}, "unknown mode"),
    ({"satellites": (Satellite("x", mode="fs", weight=0),)}, "weight"),
    ({"stations": (Station("A", antennas=0),)}, "antennas"),
    ({"modes": (Mode("fs", period="orbit"),)}, "orbit_period"),
])
def test_inconsistent_data_is_a_model_error(change, words):
    with pytest.raises(ModelError, match=words):
        tiny(**change)


def test_json_round_trip_keeps_every_rule(tmp_path):
    model = tiny()
    again = LinkScheduling.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.to_dict() == model.to_dict()


def brute_force(model: LinkScheduling, step: int = 5) -> int:
    """Best plan over links on a time grid of `step` seconds (exact when the data are on the grid)."""
    options = []
    for w in model.windows:
        here = [None] + [(s, e) for s in range(w.rise, w.set + 1, step) for e in range(s + step, w.set + 1, step)]
        options.append(here)
    best = 0
    for choice in itertools.product(*options):
        links = [(k, *c) for k, c in enumerate(choice) if c is not None]
        candidate = model.assign_antennas(links)
        evaluation = model.evaluate(candidate)
        if evaluation.feasible:
            best = max(best, evaluation.objective)
    return best


CONTESTED = dict(windows=(Window(0, (0,), 0, 30), Window(1, (0,), 20, 60), Window(0, (1,), 25, 60)),
                 stations=(Station("A", setup=10), Station("B", setup=10)), min_duration=10)


@pytest.fixture(scope="module")
def contested_optimum() -> int:
    return brute_force(tiny(**CONTESTED))


@pytest.mark.parametrize("backend", ["cpsat", "mip", "decomposition", "auto"])
def test_backends_reach_the_brute_force_optimum(backend, contested_optimum):
    result = orkit.solve(tiny(**CONTESTED), backend=backend, time_limit=20, seed=0)
    assert result.status.name == "OPTIMAL" and result.objective == contested_optimum


def test_the_decomposition_bound_is_never_below_the_optimum():
    model = orkit.load(SMALL)
    optimum = orkit.solve(model, backend=("heuristic", "mip"), time_limit=30).objective
    decomposition = StationDecomposition(model)
    for prices in (np.zeros(len(decomposition.seg_len)), np.full(len(decomposition.seg_len), 0.7)):
        bound, _, _ = decomposition.relax(prices)
        assert bound >= optimum - 1e-6
    packer = decomposition.primal(np.zeros(len(decomposition.seg_len)), list(range(len(model.stations))))
    assert model.evaluate(packer.plan()).feasible
    before = packer.value
    polished = decomposition.polish(packer, lambda: False)
    evaluation = model.evaluate(polished.plan())
    assert evaluation.feasible and evaluation.objective == polished.value >= before


def test_link_values_are_the_best_schedules_through_each_link():
    """Against every schedule of one antenna, enumerated: two windows, a priced stretch of time."""
    rise, length = np.array([0, 6]), np.array([14, 12])
    min_d, max_d, before, after = np.array([3, 4]), np.array([8, 12]), np.array([0, 1]), np.array([2, 2])
    base = np.concatenate([[0], np.cumsum(length + 1)])
    none = np.zeros(0, np.int64)
    prefix, charge = prefix_values(rise, length, np.array([1, 1]), np.array([1.0, 2.0]), base, np.array([8]),
                                   np.array([11]), np.array([1.5]), np.array([0, 0]), np.array([1, 0]),
                                   np.zeros(2, np.int64), np.zeros(2, np.int64), none, none, 1e9)
    by_start, by_end = link_values(30, rise, length, min_d, max_d, before, after, base, prefix, charge)
    best_start, best_end = np.full(len(prefix), -np.inf), np.full(len(prefix), -np.inf)

    def value(k, s, e):
        return prefix[base[k] + e - rise[k]] - prefix[base[k] + s - rise[k]] - charge[base[k] + e - rise[k]]

    def extend(free, links):
        total = sum(value(*link) for link in links)
        for k, s, e in links:
            best_start[base[k] + s - rise[k]] = max(best_start[base[k] + s - rise[k]], total)
            best_end[base[k] + e - rise[k]] = max(best_end[base[k] + e - rise[k]], total)
        for k in range(2):
            for s in range(max(rise[k], free + before[k]), rise[k] + length[k] - min_d[k] + 1):
                for e in range(s + min_d[k], min(s + max_d[k], rise[k] + length[k]) + 1):
                    extend(e + after[k], [*links, (k, s, e)])

    extend(-100, [])
    assert np.isfinite(best_start).sum() > 10
    assert np.allclose(by_start, best_start) and np.allclose(by_end, best_end)


def test_the_core_keeps_every_link_of_an_optimal_plan():
    """Any prices' reduced costs may only drop links no plan worth the target holds."""
    model = orkit.load(SMALL)
    optimum = orkit.solve(model, backend="cpsat", time_limit=30, seed=0)
    assert optimum.status.name == "OPTIMAL"
    search = price_search(model, Budget(30), 5.0)
    rng = np.random.default_rng(0)
    n = len(search.decomposition.seg_len)
    for prices in (search.prices, np.zeros(n), rng.uniform(0, 2, n)):
        core = search.decomposition.link_bounds(prices).core(optimum.objective)
        for link in optimum.solution.links:
            if link.window in core:
                starts, ends = core[link.window]
                assert link.start in starts and link.end in ends
    core = search.decomposition.link_bounds(search.prices).core(optimum.objective)
    kept = sum(len(starts) for starts, _ in core.values())
    assert kept < sum(int(model.arrays["max_duration"][k]) for k in core)  # the prices do narrow it


def test_the_core_search_closes_a_gap_the_prices_leave():
    """Caps are outside the relaxation, so the prices' bound starts well above the optimum; the core
    of every better plan still proves it."""
    model = tiny()
    result = orkit.solve(model, backend="decomposition", time_limit=20, seed=0)
    exact = orkit.solve(model, backend="cpsat", time_limit=20, seed=0)
    assert result.status.name == exact.status.name == "OPTIMAL" and result.objective == exact.objective
    assert "reduced-cost core" in result.stages[-1].reason


def test_the_default_chain_proves_the_shipped_instance():
    result = orkit.solve(orkit.load(SMALL), time_limit=20, workers=2, seed=0)
    assert result.status.name == "OPTIMAL"
    assert result.objective == orkit.solve(orkit.load(SMALL), backend="cpsat", time_limit=30).objective


SEPARATE = dict(modes=(Mode("fs", switch=5),), windows=(
    Window(0, (0,), 0, 100), Window(1, (0,), 50, 200), Window(0, (1,), 110, 300), Window(1, (1,), 400, 700)))


@pytest.mark.parametrize("changes, groups", [
    (dict(SEPARATE), [[0], [1]]),  # s0 leaves A 10 s before it reaches B: more than its switch time
    (dict(SEPARATE, modes=(Mode("fs", switch=20),)), [[0, 1]]),  # ... but less than this one
    (dict(SEPARATE, modes=(Mode("fs", switch=5, max_links=2),)), [[0, 1]]),  # caps count over both stations
    (dict(SEPARATE, windows=SEPARATE["windows"] + (Window(1, (0, 1), 800, 900),)), [[0, 1]]),  # an array
    (dict(SEPARATE, windows=SEPARATE["windows"][:2] + (Window(0, (1,), 110, 115),)), [[0]]),  # B: no usable window
])
def test_station_groups_follow_the_rules_that_join_stations(changes, groups):
    assert tiny(**changes).station_groups() == groups


def test_groups_are_solved_apart_and_add_up():
    model = tiny(**SEPARATE)
    sub, windows = model.restricted([1])
    assert [model.windows[k].satellite for k in windows] == [0, 1] and len(sub.satellites) == 2
    result = orkit.solve(model, backend=("decomposition", "cpsat"), time_limit=20, seed=0)
    whole = orkit.solve(model, backend="cpsat", time_limit=20, seed=0)  # one model over both stations
    assert result.status.name == "OPTIMAL" and whole.status.name == "OPTIMAL" and result.objective == whole.objective
    assert "2 groups" in result.stages[0].reason


@pytest.mark.parametrize("backend", ["heuristic", "evolution", "decomposition"])
def test_heuristic_stages_return_verified_plans(backend):
    model = orkit.load(SMALL)
    result = orkit.solve(model, backend=backend, time_limit=1.0, seed=3)
    assert result.solution is not None and model.evaluate(result.solution).feasible
    assert result.objective <= model.bound()


def test_antennas_are_interchangeable_and_downtime_holds():
    model = generate(SatelliteRecipe(walker="53:20/4/1", station_count=3, hours=3, antennas=2, downtime=0.5,
                                     seed=4))
    result = orkit.solve(model, time_limit=10, seed=0)
    assert model.evaluate(result.solution).feasible
    assert {a for link in result.solution.links for a in link.antennas} <= {0, 1}


# ---- orbits --------------------------------------------------------------------------------------

def test_walker_pattern_parsing():
    spec = WalkerDelta.parse("53:60/6/1")
    assert (spec.total, spec.planes, spec.phasing) == (60, 6, 1)
    raan, anomaly = zip(*spec.elements())
    assert sorted(set(raan)) == [0, 60, 120, 180, 240, 300] and anomaly[10] == pytest.approx(1.0 * 360 / 60)
    for bad in ("53:60/7/1", "53-60-6-1", "53:60/6/9"):
        with pytest.raises(ModelError):
            WalkerDelta.parse(bad)


def test_rise_and_set_agree_with_skyfield():
    """An independent computation (skyfield: its own TEME->ITRS chain and event search) of the same
    TLE passes must agree within the rounding (1 s) plus the linear interpolation error."""
    skyfield = pytest.importorskip("skyfield.api")
    elements = read_tle(STARLINK)[:12]
    sites = network_sites("ksat")[:8]
    start = datetime(2025, 3, 11, tzinfo=UTC)
    found = [p for p in passes([e.satrec() for e in elements], sites, start, 6 * 3600, 10, 10)
             if 0 < p.rise and p.set < 6 * 3600]
    assert len(found) > 10
    ts = skyfield.load.timescale(builtin=True)
    t0 = ts.from_datetime(start)
    errors = []
    for p in found[:12]:
        e, site = elements[p.satellite], sites[p.site]
        satellite = skyfield.EarthSatellite(e.line1, e.line2, e.name, ts)
        times, events = satellite.find_events(skyfield.wgs84.latlon(site.latitude, site.longitude),
                                              t0 + (p.rise - 300) / 86400, t0 + (p.set + 300) / 86400,
                                              altitude_degrees=10.0)
        rise = [(t - t0) * 86400 for t, kind in zip(times, events) if kind == 0]
        set_ = [(t - t0) * 86400 for t, kind in zip(times, events) if kind == 2]
        errors += [abs(p.rise - rise[0]), abs(p.set - set_[-1])]
    # (at a 30 s step low passes drift by up to about 4 s: the elevation curve bends between samples)
    assert max(errors) < 2.0 and float(np.median(errors)) < 1.0


def test_walker_passes_are_windows_of_the_right_shape():
    start = datetime(2025, 3, 11, tzinfo=UTC)
    found = passes(walker_satrecs(WalkerDelta.parse("53:12/3/1"), 550, start), network_sites("ksat")[:6], start,
                   12 * 3600, 30, 10)
    lengths = np.array([p.set - p.rise for p in found])
    assert len(found) > 20 and lengths.max() < 900 and np.all(lengths > 0)  # LEO passes last minutes


# ---- readers and the command line -----------------------------------------------------------------

def test_tle_errors_name_the_line(tmp_path):
    lines = STARLINK.read_text().splitlines()[:6]
    bad = tmp_path / "bad.tle"
    bad.write_text("\n".join(lines[:4] + [lines[4][:68] + str((int(lines[4][68]) + 1) % 10), lines[5]]))
    with pytest.raises(InstanceError, match="line 5.*checksum"):
        read_tle(bad)
    bad.write_text("\n".join(lines[:2]))
    with pytest.raises(InstanceError, match="line 2.*not followed"):
        read_tle(bad)


def test_satnet_requests_become_the_same_model():
    model = orkit.load(SATNET)
    assert model.problem == "satellite" and len(model.satellites) == 12
    arrays = [w for w in model.windows if len(w.stations) == 2]
    assert arrays, "array view periods need two antennas at once"
    first = model.satellites[0]
    assert first.setup == 60 * 60 and first.teardown == 15 * 60 and first.max_duration == 3600
    result = orkit.solve(model, time_limit=5, seed=0)
    assert model.evaluate(result.solution).feasible
    per_request = {}
    for link in result.solution.links:
        s = model.windows[link.window].satellite
        per_request[s] = per_request.get(s, 0) + 1
    assert max(per_request.values()) == 1  # one track per request


def test_generate_writes_a_self_describing_instance(tmp_path):
    out = tmp_path / "inst.json"
    result = run("generate", "satellite", "--walker", "53:12/3/1", "--stations", "ksat", "--station-count", 4,
                 "--hours", 3, "--seed", 2, "--out", out)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    meta = document["data"]["meta"]
    assert meta["seed"] == 2 and meta["walker"] == "53:12/3/1" and meta["station_count"] == 4
    again = run("generate", "satellite", "--walker", "53:12/3/1", "--stations", "ksat", "--station-count", 4,
                "--hours", 3, "--seed", 2)
    assert json.loads(again.output) == document  # the seed fixes everything
    result = run("solve", out, "--time-limit", 5)
    assert result.exit_code == 0 and "satellite" in result.output


def test_generate_from_tle_and_bad_options(tmp_path):
    result = run("generate", "satellite", "--tle", STARLINK, "--satellites", 20, "--station-count", 5,
                 "--hours", 2, "--out", tmp_path / "t.json")
    assert result.exit_code == 0, result.output
    assert orkit.load(tmp_path / "t.json").meta["tle"] == STARLINK.name
    result = run("generate", "satellite", "--walker", "53:60/7/1")
    assert result.exit_code == 2 and "multiple" in result.output
    result = run("generate", "satellite", "--stations", "nowhere")
    assert result.exit_code == 2 and "network" in result.output
