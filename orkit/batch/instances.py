"""Which instances a batch run covers: files as named, folders walked for instance files, and
many-instance files (OR-Library) expanded to one address per instance (`wt40.txt#7`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from orkit.core.errors import InstanceError
from orkit.core.registry import FORMATS, detect_format, resolve, split_fragment

KNOWN_EXTENSIONS = {ext for entry in FORMATS for ext in entry.extensions}


@dataclass
class Selection:
    """Instance addresses in a stable order, and the folder files passed over with the reason."""

    addresses: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def select(paths: Iterable[str | Path]) -> Selection:
    """Addresses for every named file (bad ones too: their row reports the error) and every
    recognisable instance inside named folders; each address once, in the order given."""
    selection = Selection()
    for raw in paths:
        path, index = split_fragment(raw)
        if index is not None or path.is_file():
            _add_file(selection, str(raw), named=True)
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)):
                if file.suffix.lower() in KNOWN_EXTENSIONS:
                    _add_file(selection, str(file), named=False)
        else:
            raise InstanceError("no such file or folder", path)
    selection.addresses = list(dict.fromkeys(selection.addresses))
    return selection


def _hidden(file: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in file.relative_to(root).parts)


def _add_file(selection: Selection, address: str, named: bool) -> None:
    path, index = split_fragment(address)
    if index is not None:
        selection.addresses.append(address)
        return
    try:
        entry = detect_format(path)
    except InstanceError as exc:
        if named:
            selection.addresses.append(address)  # its row will carry the error
        else:
            selection.skipped.append((address, exc.message))
        return
    if not entry.solvable:
        selection.skipped.append((address, f"{entry.name} input is not an instance by itself"))
        return
    if entry.counter is None:
        selection.addresses.append(address)
        return
    try:
        count = resolve(entry.counter)(path)
    except InstanceError as exc:
        if named:
            selection.addresses.append(address)
        else:
            selection.skipped.append((address, exc.message))
        return
    selection.addresses.extend(f"{address}#{k}" for k in range(1, count + 1))
