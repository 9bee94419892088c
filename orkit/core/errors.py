"""The exceptions orkit raises on purpose; anything else escaping is a bug."""

from __future__ import annotations

from pathlib import Path


class OrkitError(Exception):
    """Base of every error orkit raises deliberately."""


class InstanceError(OrkitError):
    """An instance file could not be read: names the file, the line and what was expected."""

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        where = ""
        if self.file is not None:
            where = self.file if line is None else f"{self.file}, line {line}"
        super().__init__(f"{where}: {message}" if where else message)


class ModelError(OrkitError):
    """Model data that is inconsistent or meaningless (negative durations, cycles, ...)."""


class BackendError(OrkitError):
    """A backend could not run (missing dependency, unknown name, invalid native model)."""
