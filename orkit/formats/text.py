"""Line-aware reading of whitespace-separated text formats, so every error names file and line."""

from __future__ import annotations

from pathlib import Path

from orkit.core.errors import InstanceError

MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_text(path: str | Path) -> str:
    """Read a text instance file, refusing binary junk, bad encodings and oversized files."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InstanceError("no such file", path) from None
    except OSError as exc:
        raise InstanceError(f"cannot read: {exc.strerror}", path) from None
    if path.is_dir():
        raise InstanceError("is a directory, expected an instance file", path)
    if size > MAX_INPUT_BYTES:
        raise InstanceError(f"file is {size} bytes, above the {MAX_INPUT_BYTES}-byte input limit", path)
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InstanceError("binary data (NUL bytes) in a text format", path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InstanceError(f"not valid UTF-8 text (byte {exc.start})", path, line) from None


class Tokens:
    """A stream of whitespace-separated tokens that remembers the line each came from."""

    def __init__(self, text: str, path: str | Path, start_line: int = 1, lines: list[str] | None = None):
        self.path = path
        self.items: list[tuple[str, int]] = []
        source = lines if lines is not None else text.splitlines()
        for offset, line in enumerate(source):
            for token in line.split():
                self.items.append((token, start_line + offset))
        self.pos = 0
        self.last_line = start_line + max(len(source) - 1, 0)

    def error(self, message: str, line: int | None = None) -> InstanceError:
        if line is None:
            line = self.items[self.pos][1] if self.pos < len(self.items) else self.last_line
        return InstanceError(message, self.path, line)

    def at_end(self) -> bool:
        return self.pos >= len(self.items)

    def line(self) -> int:
        return self.items[self.pos][1] if self.pos < len(self.items) else self.last_line

    def next(self, what: str) -> tuple[str, int]:
        if self.pos >= len(self.items):
            raise self.error(f"file ends early: expected {what}")
        item = self.items[self.pos]
        self.pos += 1
        return item

    def int(self, what: str, minimum: int | None = None, maximum: int | None = None) -> int:
        token, line = self.next(what)
        try:
            value = int(token)
        except ValueError:
            raise InstanceError(f"expected {what} (an integer), found {token!r}", self.path, line) from None
        if minimum is not None and value < minimum:
            raise InstanceError(f"{what} must be >= {minimum}, found {value}", self.path, line)
        if maximum is not None and value > maximum:
            raise InstanceError(f"{what} must be <= {maximum}, found {value}", self.path, line)
        return value

    def ints(self, count: int, what: str, minimum: int | None = None, maximum: int | None = None) -> list[int]:
        return [self.int(what, minimum, maximum) for _ in range(count)]


def csv_table(path: str | Path, expected: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A CSV file as (lower-cased header, [(line number, stripped cells)]), skipping blank rows;
    a row with the wrong number of fields is an error naming its line. `expected` describes the
    header for the message on an empty file."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(read_text(path))))
    if not rows:
        raise InstanceError(f"empty file: expected a header {expected}", path, 1)
    header = [cell.strip().lower() for cell in rows[0]]
    body = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InstanceError(f"expected {len(header)} fields, found {len(row)}", path, number)
        body.append((number, [cell.strip() for cell in row]))
    if not body:
        raise InstanceError("no rows after the header", path, 1)
    return header, body


def line_ints(line: str, path: str | Path, number: int, what: str) -> list[int]:
    """All integers of one line; a non-integer token is an error naming the line."""
    values = []
    for token in line.split():
        try:
            values.append(int(token))
        except ValueError:
            raise InstanceError(f"expected {what} (integers), found {token!r}", path, number) from None
    return values
