"""Versions of orkit and its solver engines, recorded in every Result."""

from __future__ import annotations

import platform
from functools import lru_cache
from importlib import metadata


@lru_cache(maxsize=1)
def _collect() -> tuple[tuple[str, str], ...]:
    found = [("python", platform.python_version())]
    for package in ("orkit", "ortools", "highspy", "pulp", "numpy"):
        try:
            found.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            found.append((package, "not installed"))
    return tuple(found)


def versions() -> dict[str, str]:
    return dict(_collect())
