"""The `orkit` command line: parse, call the Python API, print. Exit codes: 0 solved,
1 infeasible or no solution, 2 bad input or usage."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import click

from orkit.core.chain import compile as compile_model
from orkit.core.chain import solve as solve_model
from orkit.core.errors import BackendError, InstanceError, ModelError, OrkitError
from orkit.core.registry import load
from orkit.core.result import Progress, Result, gap

EXIT_SOLVED, EXIT_NO_SOLUTION, EXIT_BAD_INPUT = 0, 1, 2
MAX_TABLE_ROWS = 60


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _load(path: str):
    try:
        return load(path)
    except (InstanceError, ModelError) as exc:
        _fail(str(exc))


def _parse_params(items: tuple[str, ...], mip_solver: str | None) -> dict[str, dict[str, object]]:
    """`--param cpsat.num_workers=4` -> {"cpsat": {"num_workers": 4}} (values parsed as JSON when possible)."""
    params: dict[str, dict[str, object]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        backend, dot, name = key.partition(".")
        if not sep or not dot or not name:
            raise click.BadParameter(f"{item!r}: expected BACKEND.KEY=VALUE, e.g. cpsat.linearization_level=2",
                                     param_hint="--param")
        try:
            value: object = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params.setdefault(backend, {})[name] = value
    if mip_solver:
        params.setdefault("mip", {})["solver"] = mip_solver
    return params


def _chain(backend: str) -> str | tuple[str, ...]:
    """`--backend auto`, one backend, or a chain `heuristic,cpsat`."""
    return backend if backend == "auto" else tuple(b.strip() for b in backend.split(",") if b.strip())


class LiveLine:
    """One status line on stderr, refreshed while a solve runs: elapsed, incumbent, bound, gap."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.start = time.perf_counter()
        self.last: Progress | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self) -> LiveLine:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()
            click.echo("\r\033[K", nl=False, err=True)

    def __call__(self, event: Progress) -> None:
        self.last = event

    def _tick(self) -> None:
        while not self._stop.wait(0.2):
            self._draw()

    def _draw(self) -> None:
        text = f"  {time.perf_counter() - self.start:6.1f}s"
        event = self.last
        if event is not None:
            if event.objective is not None:
                text += f"  incumbent {_number(event.objective)}"
            if event.bound is not None:
                text += f"  bound {_number(event.bound)}"
            g = gap(event.objective, event.bound)
            if g is not None:
                text += f"  gap {100 * g:.2f}%"
            text += f"  [{event.backend}]"
        else:
            text += "  searching..."
        click.echo("\r\033[K" + text + "  (Ctrl-C: stop and keep the best)", nl=False, err=True)


def _number(value) -> str:
    """A scalar objective compactly; a lexicographic score vector as its list."""
    if isinstance(value, tuple):
        return str(list(value))
    if float(value).is_integer() and abs(value) < 1e15:  # whole numbers in full: 2023989, not 2.02399e+06
        return str(int(value))
    return f"{value:g}"


def _print_table(result: Result) -> None:
    click.echo(result.summary())
    click.echo(f"seed {result.seed}")
    click.echo("stages:")
    for stage in result.stages:
        objective = "-" if stage.objective is None else _number(stage.objective)
        stop = stage.stop.value if stage.stop else "-"
        click.echo(f"  {stage.backend:<13} {stage.status.value:<10} {stop:<12} {objective:>8} "
                   f"{stage.wall_time:7.2f}s  {stage.reason}")
    if result.has_solution:
        table = result.to_frame()
        click.echo("")
        if len(table) > MAX_TABLE_ROWS:
            click.echo(table.head(MAX_TABLE_ROWS).to_string(index=False))
            click.echo(f"... {len(table) - MAX_TABLE_ROWS} more rows (--format csv or --out for all)")
        else:
            click.echo(table.to_string(index=False))


@click.group()
@click.version_option(package_name="orkit")
def main() -> None:
    """orkit: allocation and scheduling models solved by a verified CP-SAT / MIP chain."""


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--backend", default="auto", show_default=True,
              help="auto, one backend (heuristic, cpsat, mip) or a comma-separated chain.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Wall-clock seconds for the whole call, model building included.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Solver threads (default: all cores).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the full result as JSON.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--param", "params", multiple=True, metavar="BACKEND.KEY=VALUE",
              help="Raw backend parameter, e.g. cpsat.linearization_level=2 or mip.mip_heuristic_effort=0.3.")
@click.option("--mip-solver", type=click.Choice(["highs", "cbc"]), default=None, help="Engine of the mip backend.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the compiled model: .pb.txt/.pb (CP-SAT) or .lp/.mps (MIP).")
@click.option("--progress/--no-progress", default=None, help="Live progress line (default: when stderr is a terminal).")
@click.option("--objective", default=None,
              help="Another objective on the same data, where the family offers one (tardiness: tardiness, "
                   "completion, tardy_jobs).")
@click.option("--capacity", type=click.IntRange(min=1), default=None,
              help="Scratchpad and DNN graphs: the memory capacity in bytes (default: from a name like x.1048576.csv, "
                   "else minimise the peak).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write the family's picture of the solution (PNG, SVG or PDF by extension; needs matplotlib).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
def solve(file, backend, time_limit, seed, workers, out, fmt, params, mip_solver, export_path, progress, objective,
          capacity, plot_path, quiet):
    """Solve an instance FILE (a many-instance file: FILE#k) and print the best verified solution."""
    model = _load(file)
    if objective is not None:
        model = _with_field(model, "objective", objective)
    if capacity is not None:
        model = _with_field(model, "capacity", capacity)
    backend_params = _parse_params(params, mip_solver)
    chain = _chain(backend)
    if export_path:
        _export(model, export_path, backend_params)
    if plot_path:
        _plot_target(plot_path)
    show = (sys.stderr.isatty() if progress is None else progress) and not quiet
    try:
        with LiveLine(show) as live:
            result = solve_model(model, backend=chain, time_limit=time_limit, seed=seed, workers=workers,
                                 log=live, backend_params=backend_params)
    except BackendError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        # a second Ctrl-C, or one that landed outside the solve's own handler (before it was set up)
        click.echo("\ninterrupted: aborted without a result", err=True)
        sys.exit(130)
    if out:
        Path(out).write_text(result.to_json() + "\n")
    if quiet:
        click.echo(result.summary())
    elif fmt == "json":
        click.echo(result.to_json())
    elif fmt == "csv":
        click.echo(result.to_frame().to_csv(index=False), nl=False)
    else:
        _print_table(result)
    if plot_path:
        _plot(result, plot_path)
    sys.exit(EXIT_SOLVED if result.has_solution else EXIT_NO_SOLUTION)


def _plot_target(path: str) -> None:
    from orkit.plot import PlotError, check_target

    try:
        check_target(path)
    except PlotError as exc:
        _fail(f"--plot: {exc}")


def _plot(result: Result, path: str) -> None:
    from orkit.plot import PlotError, picture, save

    if not result.has_solution:
        click.echo(f"--plot: no solution, so no picture written to {path}", err=True)
        return
    try:
        save(picture(result), path)
    except PlotError as exc:
        _fail(f"--plot: {exc}")
    click.echo(f"wrote the picture to {path}", err=True)


def _with_field(model, name: str, value):
    """The model with one data field replaced (--objective, --capacity), where the family has it."""
    import dataclasses

    if name not in {f.name for f in dataclasses.fields(model)}:
        _fail(f"--{name}: {model.problem} models have no {name} to set")
    try:
        return dataclasses.replace(model, **{name: value})
    except ModelError as exc:
        _fail(f"--{name}: {exc}")


def _export(model, path: str, backend_params) -> None:
    if path.endswith((".pb.txt", ".pb", ".txt")):
        backend = "cpsat"
    elif path.endswith((".lp", ".mps")):
        backend = "mip"
    else:
        _fail(f"--export {path}: use .pb.txt or .pb for CP-SAT, .lp or .mps for the MIP")
    try:
        compiled = compile_model(model, backend, params=dict(backend_params.get(backend, {})))
        compiled.export(path)
    except OrkitError as exc:
        _fail(f"--export {path}: {exc}")
    click.echo(f"wrote the {backend} model to {path}", err=True)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("solution", type=click.Path(dir_okay=False))
def check(file, solution):
    """Verify SOLUTION (a result JSON or a bare solution) against FILE; exit 1 when infeasible."""
    model = _load(file)
    from orkit.formats.native import parse_json

    try:
        data = parse_json(solution)
        if isinstance(data, dict) and isinstance(data.get("solution"), dict):
            data = data["solution"]
        if not isinstance(data, dict):
            raise ModelError("expected a JSON object with the solution")
        candidate = model.solution_from_dict(data)
    except (InstanceError, ModelError) as exc:
        _fail(f"{solution}: {exc}" if isinstance(exc, ModelError) else str(exc))
    evaluation = model.evaluate(candidate)
    if evaluation.feasible:
        click.echo(f"feasible; objective {evaluation.objective}")
        sys.exit(EXIT_SOLVED)
    click.echo(f"infeasible: {len(evaluation.violations)} violation(s)")
    for violation in evaluation.violations:
        click.echo(f"  - {violation}")
    sys.exit(EXIT_NO_SOLUTION)


@main.group()
def generate() -> None:
    """Write a seeded random instance of one problem family."""


@generate.command("tardiness")
@click.option("--jobs", type=click.IntRange(min=1, max=100_000), default=40, show_default=True)
@click.option("--tf", type=click.FloatRange(0, 1), default=0.6, show_default=True, help="Tardiness factor.")
@click.option("--rdd", type=click.FloatRange(0, 1), default=0.4, show_default=True, help="Relative range of due dates.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--weighted/--unweighted", default=False, show_default=True, help="Weights U[1,10] or all 1.")
@click.option("--count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Instances (seeds SEED, SEED+1, ...); more than one needs an OR-Library .txt output.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Output: .json (orkit), .csv (one job per row) or wtN.txt/ttN.txt (OR-Library). "
                   "Default: JSON on stdout.")
def generate_tardiness(jobs, tf, rdd, seed, weighted, count, out):
    """Potts & Van Wassenhove instances, as behind the OR-Library and the study's sets."""
    from orkit.formats.native import to_document, write
    from orkit.formats.orlib import write_csv
    from orkit.generators.tardiness import generate as make
    from orkit.generators.tardiness import write_orlib

    models = [make(jobs, tf, rdd, seed + k, weighted) for k in range(count)]
    if out and out.endswith(".txt"):
        write_orlib(models, out)
    elif count > 1:
        _fail("--count above 1 needs an OR-Library output file (--out wtN.txt or ttN.txt)")
    elif out and out.endswith(".csv"):
        write_csv(models[0], out)
    elif out:
        write(models[0], out)
    else:
        click.echo(json.dumps(to_document(models[0]), indent=1))
    if out:
        click.echo(f"wrote {count} instance(s) to {out}", err=True)


@generate.command("pods")
@click.option("--nodes", type=click.IntRange(min=1, max=100_000), default=16, show_default=True)
@click.option("--pods", type=click.IntRange(min=1, max=1_000_000), default=128, show_default=True)
@click.option("--priorities", type=click.IntRange(min=1, max=1000), default=4, show_default=True)
@click.option("--util", type=click.FloatRange(0, 10, min_open=True), default=0.95, show_default=True,
              help="Total requests / total capacity (above 1: over-subscribed).")
@click.option("--seed", type=click.IntRange(min=0, max=2**128 - 1), default=0, show_default=True)
@click.option("--pending/--admitted", default=False, show_default=True,
              help="Leave every pod pending instead of letting the default scheduler admit them.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="orkit JSON file (default: stdout).")
def generate_pods(nodes, pods, priorities, util, seed, pending, out):
    """The scenarios of "Priority Matters" (arXiv:2511.08373): ReplicaSets on identical nodes,
    admitted by an emulation of the default scheduler."""
    from orkit.formats.native import to_document, write
    from orkit.generators.pods import generate as make

    model = make(nodes, pods, priorities, util, seed, admit=not pending)
    if out:
        write(model, out)
        click.echo(f"wrote {model.name} to {out}", err=True)
    else:
        click.echo(json.dumps(to_document(model), indent=1))


@generate.command("satellite")
@click.option("--walker", default=None, help="Walker-delta shell i:T/P/F, e.g. 53:60/6/1 (default unless --tle).")
@click.option("--altitude", type=click.FloatRange(150, 50_000), default=550.0, show_default=True,
              help="Orbit altitude of the Walker shell, km.")
@click.option("--tle", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Two-line element file instead of a Walker shell.")
@click.option("--satellites", type=click.IntRange(min=1), default=None, help="Use the first N element sets only.")
@click.option("--stations", default="ksat", show_default=True,
              help="Station network (atlas, aws, azure, ksat, leaf, ssc, viasat) or a GeoJSON file.")
@click.option("--station-count", type=click.IntRange(min=1), default=None,
              help="A seeded sample of this many stations of the network.")
@click.option("--hours", type=click.FloatRange(0, 24 * 14, min_open=True), default=24.0, show_default=True)
@click.option("--start", default="2025-03-11T00:00:00Z", show_default=True,
              help="UTC start of the horizon (keep it within days of the TLE epochs).")
@click.option("--step", type=click.FloatRange(1, 600), default=30.0, show_default=True,
              help="Orbit sampling step, seconds.")
@click.option("--mask", type=click.FloatRange(-5, 89), default=10.0, show_default=True, help="Elevation mask, degrees.")
@click.option("--antennas", type=click.IntRange(min=1, max=1000), default=1, show_default=True)
@click.option("--setup", type=click.IntRange(min=0), default=60, show_default=True, help="Antenna re-pointing, s.")
@click.option("--switch", type=click.IntRange(min=0), default=0, show_default=True,
              help="Satellite feed-switching time between links, s.")
@click.option("--max-links", type=click.IntRange(min=1), default=None, help="Cap on links per orbit.")
@click.option("--max-time", type=click.IntRange(min=1), default=None, help="Cap on link seconds per orbit.")
@click.option("--min-duration", type=click.IntRange(min=1), default=60, show_default=True, help="Shortest link, s.")
@click.option("--priorities", type=click.IntRange(min=1, max=100), default=1, show_default=True,
              help="Satellite weights drawn from 1..N.")
@click.option("--downtime", type=click.FloatRange(0, 24), default=0.0, show_default=True,
              help="Hours of downtime per station, one seeded block.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="orkit JSON file (default: stdout).")
def generate_satellite(out, **options):
    """Visibility windows from real orbits (sgp4) over real ground stations, as a link-scheduling
    instance; the generator's parameters and seed are written into the file."""
    from orkit.formats.native import to_document, write
    from orkit.generators.satellite import SatelliteRecipe
    from orkit.generators.satellite import generate as make

    if options["tle"] is None and options["walker"] is None:
        options["walker"] = SatelliteRecipe.walker
    try:
        model = make(SatelliteRecipe(**options))
    except (InstanceError, ModelError) as exc:
        _fail(str(exc))
    if out:
        write(model, out)
        click.echo(f"wrote {model.name} ({model.n_windows} windows) to {out}", err=True)
    else:
        click.echo(json.dumps(to_document(model), indent=1))


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds per instance.")
@click.option("--backend", default="auto", show_default=True, help="auto, one backend, or a chain a,b,c.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Instances solved at once (processes).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Solver threads per instance (default: cores / jobs).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Results .csv or .parquet, written as instances finish; instances already in it are skipped.")
@click.option("--reference", type=click.Path(dir_okay=False), default=None,
              help="CSV of reference values (instance or set+index, and best_known / optimum / reference ...).")
@click.option("--reference-column", default=None, help="The value column of --reference (default: guessed).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", default=None, help="Dask scheduler address for --engine dask, e.g. tcp://host:8786.")
@click.option("--param", "params", multiple=True, metavar="BACKEND.KEY=VALUE", help="Raw backend parameter.")
@click.option("--mip-solver", type=click.Choice(["highs", "cbc"]), default=None, help="Engine of the mip backend.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
def bench(paths, time_limit, backend, jobs, workers, seed, out, reference, reference_column, engine, scheduler,
          params, mip_solver, progress):
    """Solve every instance in PATHS (files, folders, FILE#k) and print a summary per family."""
    from orkit.batch import bench as run_batch
    from orkit.batch import summarise

    chain = _chain(backend)
    try:
        frame = run_batch(list(paths), time_limit=time_limit, backend=chain, jobs=jobs, workers=workers, seed=seed,
                          out=out, reference=reference, reference_column=reference_column, engine=engine,
                          scheduler=scheduler, backend_params=_parse_params(params, mip_solver),
                          progress=sys.stderr.isatty() if progress is None else progress,
                          notify=lambda message: click.echo(message, err=True))
    except OrkitError as exc:
        _fail(str(exc))
    if frame.empty:
        click.echo("no instances found in " + " ".join(paths))
        sys.exit(EXIT_SOLVED)
    click.echo(f"{frame.attrs['finished']} solved now, {len(frame) - frame.attrs['finished']} resumed from {out}"
               if out and frame.attrs["todo"] < len(frame) else f"instances: {len(frame)}")
    click.echo(summarise(frame).to_string(index=False))
    failed = frame[frame["stop"] == "ERROR"]
    for _, row in failed.head(10).iterrows():
        click.echo(f"  error: {row['instance']}: {row['reason']}")
    if out:
        click.echo(f"rows in {out}")
    if frame.attrs["interrupted"]:
        sys.exit(130)
    sys.exit(EXIT_NO_SOLUTION if len(failed) else EXIT_SOLVED)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
def info(file):
    """Describe an instance: problem, sizes, extensions and cheap bounds."""
    model = _load(file)
    summary = model.summary()
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        click.echo(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
