"""Shared checks that turn user-given arrays into validated, read-only integer numpy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from orkit.core.errors import ModelError

# Large enough for any real instance, small enough that sums of a few thousand values fit in int64.
MAX_MAGNITUDE = np.iinfo(np.int64).max // 4


def int_array(values: Any, name: str, ndim: int, max_abs: int = MAX_MAGNITUDE) -> np.ndarray:
    """A read-only int64 array of `ndim` dimensions; ModelError naming `name` on anything else."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{name}: expected numbers ({exc})") from None
    if array.ndim != ndim:
        raise ModelError(f"{name}: expected a {ndim}-dimensional array, got shape {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
        raise ModelError(f"{name}: every value must be a finite integer")
    if np.any(np.abs(array) > max_abs):
        raise ModelError(f"{name}: values beyond {max_abs} are not supported")
    result = array.astype(np.int64)
    result.setflags(write=False)
    return result


def per_item(values: Any, name: str, n: int, item: str, max_abs: int = MAX_MAGNITUDE) -> np.ndarray:
    """`int_array` of one value per item (job, buffer, ...); a wrong length names both counts."""
    array = int_array(values, name, 1, max_abs)
    if len(array) != n:
        raise ModelError(f"{name}: {len(array)} values for {n} {item}")
    return array


def unique_names(names: list[str], what: str) -> None:
    """Every item of a kind needs a non-empty name that no other item of that kind has."""
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise ModelError(f"every {what} needs a non-empty name, found {name!r}")
        if name in seen:
            raise ModelError(f"{what} name {name!r} appears twice")
        seen.add(name)
