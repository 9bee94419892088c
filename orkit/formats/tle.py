"""Orbit and site inputs of the satellite family: two-line element sets and GeoJSON station lists.

TLE files hold two- or three-line records (an optional name line, then lines 1 and 2). Station
files are GeoJSON FeatureCollections of Points with `coordinates = [lon, lat(, alt_m)]` and a
`properties.name`, as the public ground-station lists are published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orkit.core.errors import InstanceError
from orkit.formats.native import parse_json
from orkit.formats.text import read_text


@dataclass(frozen=True)
class ElementSet:
    name: str
    line1: str
    line2: str
    source_line: int  # line of `line1` in its file

    def satrec(self):
        from sgp4.api import Satrec

        return Satrec.twoline2rv(self.line1, self.line2)


@dataclass(frozen=True)
class Site:
    name: str
    latitude: float
    longitude: float
    altitude: float = 0.0  # metres


def _checksum_ok(line: str) -> bool:
    if len(line) < 69 or not line[68].isdigit():
        return False
    total = sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68])
    return total % 10 == int(line[68])


def read_tle(path: str | Path) -> list[ElementSet]:
    """Every element set of a TLE file, checked (line numbers, checksums, matching catalogue numbers)."""
    lines = read_text(path).splitlines()
    sets: list[ElementSet] = []
    name = ""
    k = 0
    while k < len(lines):
        line = lines[k].rstrip()
        if not line.strip():
            k += 1
            continue
        if not line.startswith("1 "):
            if line.startswith("2 "):
                raise InstanceError("line 2 of an element set without its line 1", path, k + 1)
            name = line.strip().removeprefix("0 ").strip()
            k += 1
            continue
        if k + 1 >= len(lines) or not lines[k + 1].startswith("2 "):
            raise InstanceError("line 1 of an element set is not followed by its line 2", path, k + 1)
        line1, line2 = line, lines[k + 1].rstrip()
        for offset, text in ((0, line1), (1, line2)):
            if len(text) < 69:
                raise InstanceError(f"element line has {len(text)} characters, expected 69", path, k + 1 + offset)
            if not _checksum_ok(text):
                raise InstanceError("element line checksum does not match", path, k + 1 + offset)
        if line1[2:7] != line2[2:7]:
            raise InstanceError(f"catalogue numbers differ between lines 1 and 2 ({line1[2:7]} vs {line2[2:7]})",
                                path, k + 2)
        element = ElementSet(name or line1[2:7].strip(), line1, line2, k + 1)
        error = element.satrec().error
        if error:
            raise InstanceError(f"sgp4 rejects the element set (error {error})", path, k + 1)
        sets.append(element)
        name = ""
        k += 2
    if not sets:
        raise InstanceError("no element sets found (expected TLE lines starting '1 ' and '2 ')", path, 1)
    return sets


def read_sites(path: str | Path) -> list[Site]:
    """Ground-station sites from a GeoJSON FeatureCollection of Points."""
    document = parse_json(path)
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list) or not features:
        raise InstanceError("expected a GeoJSON FeatureCollection with a non-empty 'features' list", path, 1)
    sites = []
    for k, feature in enumerate(features):
        try:
            point = feature["geometry"]
            if point.get("type") != "Point":
                raise ValueError(f"geometry type {point.get('type')!r} is not a Point")
            coords = [float(c) for c in point["coordinates"]]
            if len(coords) not in (2, 3):
                raise ValueError(f"{len(coords)} coordinates")
            lon, lat = coords[0], coords[1]
            if not (-180 <= lon <= 360 and -90 <= lat <= 90):
                raise ValueError(f"coordinates ({lon}, {lat}) out of range")
            name = str((feature.get("properties") or {}).get("name") or f"site-{k}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InstanceError(f"features[{k}]: not a named Point ({exc})", path) from None
        sites.append(Site(name, lat, lon, coords[2] if len(coords) == 3 else 0.0))
    names = [s.name for s in sites]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:  # same-named sites of one provider: keep them apart
        counter: dict[str, int] = {}
        renamed = []
        for s in sites:
            if s.name in duplicates:
                counter[s.name] = counter.get(s.name, 0) + 1
                s = Site(f"{s.name} {counter[s.name]}", s.latitude, s.longitude, s.altitude)
            renamed.append(s)
        sites = renamed
    return sites


def refuse_tle(path: str | Path):
    """A TLE file is orbits, not an instance: say how to make one from it."""
    raise InstanceError("a TLE file holds orbits, not a scheduling instance; make one with "
                        f"`orkit generate satellite --tle {path} --out instance.json`", path)
