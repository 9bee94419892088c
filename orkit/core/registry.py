"""Which problems, backends and file formats exist; imported lazily so `import orkit` stays fast."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from orkit.core.errors import BackendError, InstanceError


@dataclass(frozen=True)
class ProblemEntry:
    model: str  # "module:Class"
    backends: dict[str, str]  # backend name -> module path
    default_chain: tuple[str, ...]
    picture: str | None = None  # "module:function" drawing (model, solution) with matplotlib


PROBLEMS: dict[str, ProblemEntry] = {
    "rcpsp": ProblemEntry(
        model="orkit.models.rcpsp:RCPSP",
        backends={
            "heuristic": "orkit.solvers.heuristics.rcpsp",
            "cpsat": "orkit.solvers.cpsat.rcpsp",
            "mip": "orkit.solvers.mip.rcpsp",
        },
        default_chain=("heuristic", "cpsat", "mip"),
        picture="orkit.plot.rcpsp:draw",
    ),
    "tardiness": ProblemEntry(
        model="orkit.models.tardiness:SingleMachine",
        backends={
            "heuristic": "orkit.solvers.heuristics.tardiness",
            "exact": "orkit.solvers.exact.tardiness",
            "cpsat": "orkit.solvers.cpsat.tardiness",
            "mip": "orkit.solvers.mip.tardiness",
        },
        default_chain=("heuristic", "exact", "cpsat"),
        picture="orkit.plot.tardiness:draw",
    ),
    "scratchpad": ProblemEntry(
        model="orkit.models.scratchpad:BufferPlacement",
        backends={
            "heuristic": "orkit.solvers.heuristics.scratchpad",
            "exact": "orkit.solvers.exact.scratchpad",
            "cpsat": "orkit.solvers.cpsat.scratchpad",
            "mip": "orkit.solvers.mip.scratchpad",
        },
        default_chain=("heuristic", "exact", "cpsat"),
        picture="orkit.plot.scratchpad:draw",
    ),
    "dnn": ProblemEntry(
        model="orkit.models.dnn:DnnMemory",
        backends={
            "baseline": "orkit.solvers.heuristics.dnn_baseline",
            "heuristic": "orkit.solvers.heuristics.dnn",
            "cpsat": "orkit.solvers.cpsat.dnn",
        },
        default_chain=("heuristic", "cpsat"),
        picture="orkit.plot.dnn:draw",
    ),
    "pods": ProblemEntry(
        model="orkit.models.pods:Cluster",
        backends={
            "heuristic": "orkit.solvers.heuristics.pods",
            "cpsat": "orkit.solvers.cpsat.pods",
            "mip": "orkit.solvers.mip.pods",
        },
        default_chain=("heuristic", "cpsat"),
        picture="orkit.plot.pods:draw",
    ),
    "satellite": ProblemEntry(
        model="orkit.models.satellite:LinkScheduling",
        backends={
            "heuristic": "orkit.solvers.heuristics.satellite",
            "evolution": "orkit.solvers.heuristics.satellite_evolution",
            "decomposition": "orkit.solvers.exact.satellite",
            "cpsat": "orkit.solvers.cpsat.satellite",
            "mip": "orkit.solvers.mip.satellite",
        },
        default_chain=("heuristic", "decomposition", "mip", "cpsat"),
        picture="orkit.plot.satellite:draw",
    ),
}


@dataclass(frozen=True)
class FormatEntry:
    name: str
    extensions: tuple[str, ...]
    reader: str  # "module:function"
    sniff: Callable[[str], bool]  # looks at the first few KB of text
    counter: str | None = None  # "module:function" counting the instances of a many-instance file (FILE#k)
    solvable: bool = True  # False: recognised input that is not an instance by itself (orbits)

    @property
    def indexed(self) -> bool:
        return self.counter is not None


FORMATS: list[FormatEntry] = [
    FormatEntry("orkit-json", (".json",), "orkit.formats.native:read",
                lambda head: '"format"' in head and "orkit" in head),
    FormatEntry("psplib-sm", (".sm",), "orkit.formats.psplib:read_sm", lambda head: "jobs (incl. supersource" in head),
    FormatEntry("patterson-rcp", (".rcp",), "orkit.formats.psplib:read_rcp", lambda head: False),
    FormatEntry("rcpsp-max-sch", (".sch",), "orkit.formats.psplib:read_sch", lambda head: "[" in head and "]" in head),
    FormatEntry("orlib-tardiness", (".txt",), "orkit.formats.orlib:read_orlib", lambda head: False,
                counter="orkit.formats.orlib:instance_count"),
    FormatEntry("tardiness-csv", (".csv",), "orkit.formats.orlib:read_csv",
                lambda head: resolve("orkit.formats.orlib:looks_like_csv")(head)),
    FormatEntry("kube-yaml", (".yaml", ".yml"), "orkit.formats.kube:read_manifest",
                lambda head: resolve("orkit.formats.kube:looks_like_manifest")(head)),
    FormatEntry("kube-json", (".json",), "orkit.formats.kube:read_manifest",
                lambda head: resolve("orkit.formats.kube:looks_like_manifest")(head)),
    FormatEntry("satnet-json", (".json",), "orkit.formats.satnet:read_satnet",
                lambda head: resolve("orkit.formats.satnet:looks_like_satnet")(head)),
    FormatEntry("dnn-graph-json", (".json",), "orkit.formats.dnn_graph:read_dnn_graph",
                lambda head: resolve("orkit.formats.dnn_graph:looks_like_dnn_graph")(head)),
    FormatEntry("tle", (".tle",), "orkit.formats.tle:refuse_tle", lambda head: False, solvable=False),
    FormatEntry("minimalloc-csv", (".csv",), "orkit.formats.minimalloc:read_minimalloc",
                lambda head: resolve("orkit.formats.minimalloc:looks_like_minimalloc")(head)),
]


def resolve(spec: str):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def model_class(problem: str):
    if problem not in PROBLEMS:
        raise KeyError(f"unknown problem {problem!r}; known: {', '.join(sorted(PROBLEMS))}")
    return resolve(PROBLEMS[problem].model)


def backend_names(problem: str) -> list[str]:
    return list(PROBLEMS[problem].backends)


def load_backend(problem: str, backend: str) -> ModuleType:
    """Import a backend module; a missing optional dependency becomes a BackendError that says so."""
    entry = PROBLEMS.get(problem)
    if entry is None or backend not in entry.backends:
        valid = ", ".join(["auto", *entry.backends]) if entry else "none"
        raise BackendError(f"unknown backend {backend!r} for {problem}; valid: {valid}")
    try:
        return importlib.import_module(entry.backends[backend])
    except ImportError as exc:
        raise BackendError(f"backend {backend!r} is unavailable: {exc}") from None


def detect_format(path: Path) -> FormatEntry:
    """The extension decides when only one format uses it; otherwise the content does."""
    suffix = path.suffix.lower()
    by_extension = [entry for entry in FORMATS if suffix in entry.extensions]
    if len(by_extension) == 1:
        return by_extension[0]
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).decode("utf-8", errors="replace")
    except OSError as exc:
        raise InstanceError(f"cannot read: {exc.strerror}", path) from None
    for entry in by_extension or FORMATS:
        if entry.sniff(head):
            return entry
    if suffix == ".json":  # JSON nobody claims: the orkit reader says precisely what is wrong with it
        return next(entry for entry in FORMATS if entry.name == "orkit-json")
    if by_extension:
        names = ", ".join(entry.name for entry in by_extension)
        raise InstanceError(f"content matches none of the {suffix} formats ({names}); check the header line", path, 1)
    known = ", ".join(ext for entry in FORMATS for ext in entry.extensions)
    raise InstanceError(f"unknown file format (known extensions: {known})", path)


def split_fragment(path: str | Path) -> tuple[Path, int | None]:
    """`wt40.txt#7` -> (wt40.txt, 7): one instance of a many-instance file; plain paths pass through."""
    text = str(path)
    base, sep, fragment = text.rpartition("#")
    if sep and fragment.isdigit() and not Path(text).exists():
        return Path(base), int(fragment)
    return Path(text), None


def load(path: str | Path, format: str | None = None):
    """Read an instance file into a validated model; the format comes from extension and content."""
    path, index = split_fragment(path)
    if format is not None:
        matches = [e for e in FORMATS if e.name == format]
        if not matches:
            raise InstanceError(f"unknown format {format!r}; known: {', '.join(e.name for e in FORMATS)}", path)
        entry = matches[0]
    else:
        if not path.exists():
            raise InstanceError("no such file", path)
        entry = detect_format(path)
    reader = resolve(entry.reader)
    if entry.indexed:
        return reader(path, index)
    if index is not None:
        raise InstanceError(f"'#{index}' addresses one instance of a many-instance file; {entry.name} files "
                            "hold one instance", path)
    return reader(path)
