"""Every file in tests/data/bad is broken on purpose (truncated, wrong counts, non-numeric,
negative or huge values, binary junk, a foreign encoding, empty, deeply nested JSON, a YAML alias
bomb). Each must end in an InstanceError or ModelError that names the file — never a traceback,
a hang or a model — and the command line must exit with code 2 and no traceback."""

from __future__ import annotations

import pytest

import orkit
from orkit import InstanceError, ModelError
from tests.conftest import DATA
from tests.test_cli import run

BAD = sorted((DATA / "bad").iterdir())


def test_the_corpus_covers_every_reader():
    suffixes = {path.suffix for path in BAD}
    assert {".sm", ".txt", ".csv", ".yaml", ".json"} <= suffixes
    assert len(BAD) >= 18


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_load_raises_a_named_error(path):
    with pytest.raises((InstanceError, ModelError)) as err:
        orkit.load(f"{path}#1" if path.suffix == ".txt" else path)
    assert path.name in str(err.value) or getattr(err.value, "file", None) is not None
    assert "Traceback" not in str(err.value)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_cli_exits_2_without_a_traceback(path):
    result = run("solve", f"{path}#1" if path.suffix == ".txt" else path, "--time-limit", 1, "--quiet")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and path.name in result.output
