"""The results file of a batch: CSV appended row by row, or parquet rewritten atomically after each
row, so that an interrupted run loses nothing finished and a rerun resumes where it stopped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from orkit.batch.engines import COLUMNS
from orkit.core.errors import OrkitError

PARQUET_EXTRA = "pip install 'orkit[parquet]'"
FLOAT_COLUMNS = dict.fromkeys(
    ("objective", "bound", "gap", "wall_time", "time_limit", "reference", "reference_gap"), float)


class OutputError(OrkitError):
    """The results file cannot be read, resumed or written."""


class ResultsFile:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise OutputError(f"{self.path}: results go to a .csv or .parquet file")
        self.parquet = suffix == ".parquet"
        if self.parquet:
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise OutputError(f"{self.path}: parquet needs pyarrow: {PARQUET_EXTRA}") from None
        if not self.path.parent.is_dir():
            raise OutputError(f"{self.path}: the folder {self.path.parent} does not exist")
        self.frame = self._read()

    def _read(self) -> pd.DataFrame:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return pd.DataFrame(columns=COLUMNS)
        try:
            frame = pd.read_parquet(self.path) if self.parquet else pd.read_csv(self.path, dtype={"instance": str})
        except Exception as exc:  # pandas raises many types for a damaged file
            raise OutputError(f"{self.path}: cannot resume from it ({type(exc).__name__}: {exc}); "
                              "move it away or choose another --out") from None
        if list(frame.columns) != COLUMNS:
            raise OutputError(f"{self.path}: its columns are not those of an orkit bench results file "
                              f"({', '.join(map(str, frame.columns[:6]))} ...); choose another --out")
        return frame

    @property
    def done(self) -> set[str]:
        return set(self.frame["instance"].astype(str))

    def append(self, row: dict[str, Any]) -> None:
        line = pd.DataFrame([row], columns=COLUMNS)
        self.frame = line if self.frame.empty else pd.concat([self.frame, line], ignore_index=True)
        if self.parquet:
            partial = self.path.with_name(self.path.name + ".partial")
            self.frame.astype(FLOAT_COLUMNS).to_parquet(partial, index=False)
            os.replace(partial, self.path)
        else:
            line.to_csv(self.path, mode="a", header=not self.path.exists() or self.path.stat().st_size == 0,
                        index=False)
