"""orkit JSON: {"format": "orkit", "version": 1, "problem": ..., "data": model.to_dict()}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orkit.core.errors import InstanceError, ModelError
from orkit.core.model import Model
from orkit.formats.text import read_text

FORMAT_VERSION = 1


def parse_json(path: str | Path) -> Any:
    """Parse a JSON file, turning every failure into an InstanceError with file and line."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstanceError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, exc.lineno) from None
    except RecursionError:
        raise InstanceError("JSON nested too deeply", path) from None


def to_document(model: Model) -> dict[str, Any]:
    return {"format": "orkit", "version": FORMAT_VERSION, "problem": model.problem, "data": model.to_dict()}


def write(model: Model, path: str | Path) -> None:
    Path(path).write_text(json.dumps(to_document(model), indent=1) + "\n")


def read(path: str | Path) -> Model:
    from orkit.core.registry import model_class

    document = parse_json(path)
    if not isinstance(document, dict) or document.get("format") != "orkit":
        raise InstanceError('not an orkit JSON document (expected {"format": "orkit", ...})', path, 1)
    if document.get("version") != FORMAT_VERSION:
        raise InstanceError(f"unsupported orkit JSON version {document.get('version')!r}", path, 1)
    problem = document.get("problem")
    data = document.get("data")
    if not isinstance(data, dict):
        raise InstanceError("'data' must be an object", path, 1)
    try:
        cls = model_class(problem)
    except KeyError as exc:
        raise InstanceError(str(exc.args[0]), path, 1) from None
    try:
        return cls.from_dict(data)
    except ModelError as exc:
        raise InstanceError(str(exc), path) from None
    except (TypeError, ValueError) as exc:  # wrong JSON types for a field
        raise InstanceError(f"invalid {problem} data: {exc}", path) from None
