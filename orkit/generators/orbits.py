"""Satellites from orbital elements, and their visibility windows over ground sites, with sgp4.

Positions come from sgp4's vectorised `SatrecArray` (TEME frame), rotated to Earth-fixed
coordinates by Greenwich mean sidereal time (polar motion and the equation of the equinoxes are
below a kilometre and ignored). A window is a maximal run of samples above the elevation mask;
its rise and set are interpolated linearly between the samples around each mask crossing and
rounded inwards to whole seconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from orkit.core.errors import ModelError

EARTH_RADIUS_KM = 6378.135  # WGS-72, the frame sgp4's elements live in
MU_KM3_S2 = 398600.8  # WGS-72 gravitational parameter
WGS84_A_KM = 6378.137
WGS84_F = 1 / 298.257223563
SGP4_EPOCH = datetime(1949, 12, 31, tzinfo=UTC)  # sgp4init counts days from 1949-12-31 00:00 UT
MAX_SAMPLES = 400_000_000  # satellites x time samples held at once, about 10 GB of positions


@dataclass(frozen=True)
class WalkerDelta:
    """A Walker-delta constellation i:T/P/F: T satellites in P equally spaced planes of inclination i,
    phase offset F x 360/T degrees between neighbouring planes."""

    inclination: float
    total: int
    planes: int
    phasing: int

    @classmethod
    def parse(cls, text: str) -> WalkerDelta:
        match = re.fullmatch(r"\s*([0-9.]+)\s*:\s*(\d+)\s*/\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ModelError(f"Walker pattern {text!r}: expected i:T/P/F, e.g. 53:60/6/1")
        spec = cls(float(match[1]), int(match[2]), int(match[3]), int(match[4]))
        if spec.total < 1 or spec.planes < 1 or spec.total % spec.planes:
            raise ModelError(f"Walker pattern {text!r}: T={spec.total} must be a positive multiple of P={spec.planes}")
        if not 0 <= spec.inclination <= 180 or not 0 <= spec.phasing < spec.planes:
            raise ModelError(f"Walker pattern {text!r}: need 0 <= i <= 180 and 0 <= F < P")
        return spec

    def elements(self) -> list[tuple[float, float]]:
        """(right ascension of the ascending node, mean anomaly) in degrees, plane by plane."""
        per_plane = self.total // self.planes
        return [(360.0 * p / self.planes, (360.0 * s / per_plane + 360.0 * self.phasing * p / self.total) % 360.0)
                for p in range(self.planes) for s in range(per_plane)]


def walker_satrecs(spec: WalkerDelta, altitude_km: float, epoch: datetime) -> list:
    """Circular orbits of a Walker-delta shell at `altitude_km`, as sgp4 Satrec objects."""
    from sgp4.api import WGS72, Satrec

    if not 150 <= altitude_km <= 50_000:
        raise ModelError(f"altitude {altitude_km} km is outside 150..50000 km")
    a = EARTH_RADIUS_KM + altitude_km
    mean_motion = math.sqrt(MU_KM3_S2 / a**3) * 60.0  # rad/min
    days = (epoch - SGP4_EPOCH).total_seconds() / 86400.0
    satrecs = []
    for k, (raan, anomaly) in enumerate(spec.elements()):
        sat = Satrec()
        sat.sgp4init(WGS72, "i", k + 1, days, 0.0, 0.0, 0.0, 1e-7, 0.0, math.radians(spec.inclination),
                     math.radians(anomaly), mean_motion, math.radians(raan))
        satrecs.append(sat)
    return satrecs


def orbit_period(satrec) -> int:
    """Seconds per revolution, from the mean motion (rad/min)."""
    return int(round(2 * math.pi / satrec.no_kozai * 60))


def julian_from_offsets(seconds_since_j2000: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Julian date split into whole and fractional parts, as sgp4 wants it."""
    days = np.asarray(seconds_since_j2000, dtype=np.float64) / 86400.0
    whole = np.floor(days)
    return 2451545.0 + whole, days - whole


def gmst(jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time in radians (IAU 1982), UT1 taken as UTC."""
    t = ((jd - 2451545.0) + fr) / 36525.0
    seconds = 67310.54841 + (876600.0 * 3600 + 8640184.812866) * t + 0.093104 * t**2 - 6.2e-6 * t**3
    return np.mod(seconds * (2 * math.pi / 86400.0), 2 * math.pi)


def site_frame(latitude: np.ndarray, longitude: np.ndarray, altitude_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Earth-fixed positions (km) and local 'up' unit vectors (geodetic normal) of sites on WGS-84."""
    lat, lon = np.radians(latitude), np.radians(longitude)
    e2 = WGS84_F * (2 - WGS84_F)
    n = WGS84_A_KM / np.sqrt(1 - e2 * np.sin(lat) ** 2)
    h = np.asarray(altitude_m) / 1000.0
    position = np.stack([(n + h) * np.cos(lat) * np.cos(lon), (n + h) * np.cos(lat) * np.sin(lon),
                         (n * (1 - e2) + h) * np.sin(lat)], axis=-1)
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
    return position, up


def earth_fixed_positions(satrecs: list, start: datetime, seconds: np.ndarray) -> np.ndarray:
    """(satellites, times, 3) Earth-fixed positions in km at `start + seconds`; NaN where sgp4 fails."""
    from sgp4.api import SatrecArray

    offset = (start - datetime(2000, 1, 1, 12, tzinfo=UTC)).total_seconds()
    jd, fr = julian_from_offsets(offset + seconds)
    error, r, _ = SatrecArray(satrecs).sgp4(jd, fr)
    r[error != 0] = np.nan
    theta = gmst(jd, fr)
    c, s = np.cos(theta), np.sin(theta)
    x, y = r[..., 0], r[..., 1]
    return np.stack([c * x + s * y, -s * x + c * y, r[..., 2]], axis=-1)


@dataclass(frozen=True)
class Pass:
    satellite: int
    site: int
    rise: int  # whole seconds from the start, rounded up
    set: int  # rounded down
    max_elevation: float  # degrees, of the samples


def elevations(positions: np.ndarray, site_position: np.ndarray, site_up: np.ndarray) -> np.ndarray:
    """Elevation in degrees of every satellite position seen from one site."""
    look = positions - site_position
    distance = np.linalg.norm(look, axis=-1)
    return np.degrees(np.arcsin(np.clip((look @ site_up) / distance, -1.0, 1.0)))


def passes(satrecs: list, sites: list, start: datetime, horizon_s: int, step_s: float = 30.0,
           mask_deg: float = 10.0) -> list[Pass]:
    """Visibility windows of every satellite over every site in [0, horizon_s) seconds from `start`."""
    if step_s <= 0 or horizon_s <= 0:
        raise ModelError("the horizon and the sampling step must be positive")
    seconds = np.arange(0.0, horizon_s + step_s, step_s)
    seconds[-1] = min(seconds[-1], horizon_s)
    seconds = np.unique(seconds)
    if len(satrecs) * len(seconds) > MAX_SAMPLES:
        raise ModelError(f"{len(satrecs)} satellites x {len(seconds)} samples is too many; use a larger step")
    positions = earth_fixed_positions(satrecs, start, seconds)
    lat = np.array([s.latitude for s in sites])
    lon = np.array([s.longitude for s in sites])
    alt = np.array([s.altitude for s in sites])
    site_pos, site_up = site_frame(lat, lon, alt)
    found: list[Pass] = []
    for j in range(len(sites)):
        elevation = elevations(positions, site_pos[j], site_up[j])
        above = np.nan_to_num(elevation, nan=-90.0) > mask_deg
        edges = np.diff(above.astype(np.int8), axis=1)
        for sat in np.flatnonzero(above.any(axis=1)):
            ups = list(np.flatnonzero(edges[sat] == 1) + 1)
            downs = list(np.flatnonzero(edges[sat] == -1) + 1)
            if above[sat, 0]:
                ups.insert(0, 0)
            if above[sat, -1]:
                downs.append(len(seconds))
            el = elevation[sat]
            for u, d in zip(ups, downs):
                rise = 0.0 if u == 0 else _crossing(seconds, el, u - 1, mask_deg)
                set_ = float(horizon_s) if d == len(seconds) else _crossing(seconds, el, d - 1, mask_deg)
                lo, hi = math.ceil(rise), min(math.floor(set_), horizon_s)
                if hi > lo:
                    found.append(Pass(int(sat), j, lo, hi, float(np.max(el[u:d]))))
    found.sort(key=lambda p: (p.rise, p.satellite, p.site))
    return found


def _crossing(seconds: np.ndarray, elevation: np.ndarray, k: int, mask: float) -> float:
    """Time where the elevation crosses the mask between samples k and k + 1 (linear)."""
    e0, e1 = elevation[k], elevation[k + 1]
    return float(seconds[k] + (mask - e0) / (e1 - e0) * (seconds[k + 1] - seconds[k]))


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; naive times are UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ModelError(f"start time {text!r}: expected ISO 8601, e.g. 2025-03-11T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

