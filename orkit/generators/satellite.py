"""Link-scheduling instances from real orbits: a Walker-delta shell or a TLE file, over a real
ground-station network, with every operating rule set from the command line.

The seed draws what the orbits do not fix: which stations of the network take part (when fewer
than all are asked for), satellite priorities (when more than one level is asked for) and station
downtimes (when asked for). Everything that made the instance is written into its `meta` field.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from orkit.core.errors import ModelError
from orkit.formats.tle import Site, read_sites, read_tle
from orkit.generators.orbits import WalkerDelta, orbit_period, parse_time, passes, walker_satrecs
from orkit.models.satellite import LinkScheduling, Mode, Satellite, Station, Window

NETWORKS = ("atlas", "aws", "azure", "ksat", "leaf", "ssc", "viasat")


@dataclass(frozen=True)
class SatelliteRecipe:
    """Everything the generator needs; defaults are a 24 h day of a Starlink-like shell."""

    walker: str | None = "53:60/6/1"
    altitude: float = 550.0  # km, for --walker
    tle: str | None = None  # a TLE file instead of a Walker shell
    satellites: int | None = None  # use only the first N element sets of the TLE file
    stations: str = "ksat"  # a network name or a GeoJSON file
    station_count: int | None = None  # a seeded sample of the network
    hours: float = 24.0
    start: str = "2025-03-11T00:00:00Z"
    step: float = 30.0  # seconds between orbit samples
    mask: float = 10.0  # elevation mask, degrees
    antennas: int = 1
    setup: int = 60  # antenna re-pointing seconds
    switch: int = 0  # satellite seconds between links
    max_links: int | None = None  # per orbit
    max_time: int | None = None  # link seconds per orbit
    min_duration: int = 60
    priorities: int = 1  # satellite weights drawn from 1..priorities
    downtime: float = 0.0  # hours of downtime per station, one block at a seeded time
    seed: int = 0


def network_sites(name_or_path: str) -> list[Site]:
    """A shipped network (atlas, aws, azure, ksat, leaf, ssc, viasat) or a GeoJSON file of sites."""
    if name_or_path in NETWORKS:
        path = resources.files("orkit") / "data" / "stations" / f"{name_or_path}.json"
        with resources.as_file(path) as real:
            return read_sites(real)
    if not Path(name_or_path).exists():
        raise ModelError(f"stations {name_or_path!r}: neither a network ({', '.join(NETWORKS)}) nor a GeoJSON file")
    return read_sites(name_or_path)


def generate(recipe: SatelliteRecipe) -> LinkScheduling:
    rng = random.Random(recipe.seed)
    start: datetime = parse_time(recipe.start)
    horizon = int(round(recipe.hours * 3600))
    if horizon <= 0:
        raise ModelError("hours must be positive")
    if recipe.tle:
        elements = read_tle(recipe.tle)
        if recipe.satellites is not None:
            elements = elements[: recipe.satellites]
        names = [e.name for e in elements]
        satrecs = [e.satrec() for e in elements]
        source = {"tle": Path(recipe.tle).name, "satellites": len(elements)}
    else:
        spec = WalkerDelta.parse(recipe.walker or "")
        satrecs = walker_satrecs(spec, recipe.altitude, start)
        names = [f"W{k // (spec.total // spec.planes) + 1}-{k % (spec.total // spec.planes) + 1}"
                 for k in range(spec.total)]
        source = {"walker": recipe.walker, "altitude_km": recipe.altitude}
    sites = network_sites(recipe.stations)
    if recipe.station_count is not None:
        if not 1 <= recipe.station_count <= len(sites):
            raise ModelError(f"station count {recipe.station_count}: the network has {len(sites)} stations")
        chosen = sorted(rng.sample(range(len(sites)), recipe.station_count))
        sites = [sites[k] for k in chosen]
    found = passes(satrecs, sites, start, horizon, recipe.step, recipe.mask)
    stations = []
    for site in sites:
        downtime = ()
        if recipe.downtime > 0:
            length = int(recipe.downtime * 3600)
            begin = rng.randrange(0, max(1, horizon - length))
            downtime = ((begin, begin + length),)
        stations.append(Station(site.name, site.latitude, site.longitude, site.altitude, recipe.antennas,
                                recipe.setup, downtime))
    capped = recipe.max_links is not None or recipe.max_time is not None
    mode = Mode("single-feed" if recipe.switch == 0 else "feed-switching", recipe.switch, recipe.max_links,
                recipe.max_time, "orbit" if capped else "horizon")
    satellites = [Satellite(name, mode.name, rng.randint(1, recipe.priorities) if recipe.priorities > 1 else 1,
                            orbit_period=orbit_period(sat)) for name, sat in zip(names, satrecs)]
    windows = [Window(p.satellite, (p.site,), p.rise, p.set) for p in found]
    meta = {"generator": "orkit generate satellite", **source,
            **{k: v for k, v in recipe.__dict__.items() if k not in ("walker", "altitude", "tle", "satellites")},
            "windows_found": len(found)}
    label = recipe.walker.replace(":", "-").replace("/", "-") if not recipe.tle else Path(recipe.tle).stem
    name = f"sat-{label}-{recipe.stations if recipe.stations in NETWORKS else Path(recipe.stations).stem}" \
           f"{len(sites)}-{recipe.hours:g}h-s{recipe.seed}"
    return LinkScheduling(tuple(stations), tuple(satellites), tuple(windows), horizon, (mode,),
                          recipe.min_duration, name, start.isoformat(), meta)
