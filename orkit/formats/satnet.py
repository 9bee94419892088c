"""NASA Deep Space Network request sets in SatNet's JSON layout, as link-scheduling instances.

Each request becomes a "satellite" whose one link (mode `dsn-request`: one link over the horizon)
lasts from `duration_min` to `duration` hours inside a view period (`TRX ON`..`TRX OFF`, clipped
to the request's time window) of one of its resources, and occupies the antenna `setup_time`
minutes before and `teardown_time` minutes after. A resource is an antenna (`DSS-14`) or an array
(`DSS-24_DSS-34`), which needs every antenna named. A `maintenance.csv` next to the file adds the
week's antenna maintenance as downtime. Times become seconds from the first request window.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orkit.core.errors import InstanceError, ModelError
from orkit.formats.native import parse_json
from orkit.models.satellite import LinkScheduling, Mode, Satellite, Station, Window

# DSN complexes by antenna number: 1x/2x Goldstone, 3x/4x Canberra, 5x/6x Madrid (public sites)
COMPLEXES = {1: (35.4267, -116.8900), 2: (35.4267, -116.8900), 3: (-35.4014, 148.9817),
             4: (-35.4014, 148.9817), 5: (40.4314, -4.2481), 6: (40.4314, -4.2481)}
MODE = Mode("dsn-request", max_links=1)
REQUIRED = ("track_id", "duration", "duration_min", "setup_time", "teardown_time", "time_window_start",
            "time_window_end", "resource_vp_dict")


def looks_like_satnet(head: str) -> bool:
    return "resource_vp_dict" in head or ('"track_id"' in head and '"duration_min"' in head)


def _requests(document: Any, path: Path) -> tuple[list[dict], str]:
    if isinstance(document, dict) and "track_id" in document:
        return [document], path.stem
    if isinstance(document, list):
        return document, path.stem
    if isinstance(document, dict) and len(document) == 1:
        (week, requests), = document.items()
        if isinstance(requests, list):
            return requests, str(week)
    if isinstance(document, dict):
        raise InstanceError(f"holds several weeks ({', '.join(list(document)[:6])}); split it into one file per week",
                            path, 1)
    raise InstanceError("expected SatNet requests: a list, one request, or {week: [requests]}", path, 1)


def _station(name: str, path: Path) -> Station:
    digits = name.removeprefix("DSS-")
    if not digits.isdigit():
        raise InstanceError(f"unknown resource {name!r} (expected DSS-NN or DSS-NN_DSS-MM)", path)
    lat, lon = COMPLEXES.get(int(digits) // 10, (0.0, 0.0))
    return Station(name, lat, lon)


def read_satnet(path: str | Path) -> LinkScheduling:
    path = Path(path)
    requests, week = _requests(parse_json(path), path)
    if not requests:
        raise InstanceError("no requests", path, 1)
    for k, q in enumerate(requests):
        missing = [f for f in REQUIRED if not isinstance(q, dict) or f not in q]
        if missing:
            raise InstanceError(f"request {k}: lacks {', '.join(missing)}", path)
    try:
        origin = min(int(q["time_window_start"]) for q in requests)
        stations: dict[str, int] = {}
        station_list: list[Station] = []
        satellites, windows = [], []
        for k, q in enumerate(requests):
            where = f"request {k} ({q['track_id']})"
            lo_req, hi_req = int(q["time_window_start"]) - origin, int(q["time_window_end"]) - origin
            longest, shortest = float(q["duration"]), float(q["duration_min"])
            if not (math.isfinite(longest) and math.isfinite(shortest)) or shortest <= 0 or shortest > longest:
                raise InstanceError(f"{where}: need 0 < duration_min <= duration, found {shortest}, {longest}", path)
            satellites.append(Satellite(str(q["track_id"]), MODE.name, 1, int(round(shortest * 3600)),
                                        int(round(longest * 3600)), int(q["setup_time"]) * 60,
                                        int(q["teardown_time"]) * 60))
            if not isinstance(q["resource_vp_dict"], dict):
                raise InstanceError(f"{where}: resource_vp_dict must map resources to view periods", path)
            for resource, periods in q["resource_vp_dict"].items():
                members = []
                for name in str(resource).split("_"):
                    if name not in stations:
                        stations[name] = len(station_list)
                        station_list.append(_station(name, path))
                    members.append(stations[name])
                for vp in periods:
                    on = int(vp.get("TRX ON", vp.get("RISE"))) - origin
                    off = int(vp.get("TRX OFF", vp.get("SET"))) - origin
                    rise, set_ = max(on, lo_req), min(off, hi_req)
                    if set_ > rise:
                        windows.append(Window(k, tuple(members), rise, set_))
    except (TypeError, ValueError, AttributeError) as exc:
        raise InstanceError(f"malformed request field: {exc}", path) from None
    horizon = max([w.set for w in windows], default=1)
    station_list = _with_maintenance(station_list, path, week, origin, horizon)
    epoch = datetime.fromtimestamp(origin, UTC).isoformat()
    try:
        return LinkScheduling(tuple(station_list), tuple(satellites), tuple(windows), horizon, (MODE,), 1,
                              f"satnet-{week}", epoch, {"source": "NASA DSN SatNet", "file": path.name,
                                                         "requests": len(requests)})
    except ModelError as exc:
        raise InstanceError(str(exc), path) from None


def _with_maintenance(stations: list[Station], path: Path, week: str, origin: int, horizon: int) -> list[Station]:
    table = path.parent / "maintenance.csv"
    digits = "".join(c for c in week.split("_")[0] if c.isdigit())
    if not table.exists() or not digits:
        return stations
    blocks: dict[str, list[tuple[int, int]]] = {}
    with open(table, newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                if int(float(row["week"])) != int(digits):
                    continue
                lo, hi = int(row["starttime"]) - origin, int(row["endtime"]) - origin
            except (KeyError, TypeError, ValueError):
                raise InstanceError("expected week,year,starttime,endtime,antenna", table, line) from None
            lo, hi = max(lo, 0), min(hi, horizon)
            if hi > lo:
                blocks.setdefault(row["antenna"], []).append((lo, hi))
    return [Station(s.name, s.latitude, s.longitude, s.altitude, s.antennas, s.setup,
                    tuple(sorted(blocks.get(s.name, ())))) for s in stations]
