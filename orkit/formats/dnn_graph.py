"""DNN operator/tensor graphs as JSON (the layout of ../shared/benchmarks/dnn_graphs):
{model, bytes_per_elem, ops: [{id, name, type, inputs, outputs}], tensors: [{id, bytes, producer,
consumers, ...}]}. Operators and tensors are named by id; the file's operator list is a
topological order. The capacity comes from `capacity=` (CLI `--capacity`) or an optional top-level
"capacity"; without one the peak footprint is minimised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orkit.core.errors import InstanceError, ModelError
from orkit.formats.native import parse_json
from orkit.models.dnn import DnnMemory


def looks_like_dnn_graph(head: str) -> bool:
    return '"ops"' in head and ('"tensors"' in head or '"inputs"' in head)


def _items(document: dict, key: str, fields: tuple[str, ...], path: Path) -> list[dict]:
    items = document.get(key)
    if not isinstance(items, list) or not items:
        raise InstanceError(f"'{key}' must be a non-empty list", path, 1)
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise InstanceError(f"{key}[{k}] is not an object", path, 1)
        lacking = [f for f in fields if f not in item]
        if lacking:
            raise InstanceError(f"{key}[{k}] lacks {', '.join(lacking)}", path, 1)
        if item["id"] != k or isinstance(item["id"], bool):
            raise InstanceError(f"{key}[{k}] has id {item['id']!r}; ids must count 0, 1, 2, ... in order", path, 1)
    return items


def _ids(value: Any, what: str, path: Path) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in value):
        raise InstanceError(f"{what} must be a list of tensor ids, found {value!r:.60}", path, 1)
    return tuple(value)


def read_dnn_graph(path: str | Path, capacity: int | None = None) -> DnnMemory:
    path = Path(path)
    document = parse_json(path)
    if not isinstance(document, dict):
        raise InstanceError("expected a JSON object with 'ops' and 'tensors'", path, 1)
    ops = _items(document, "ops", ("id", "inputs", "outputs"), path)
    tensors = _items(document, "tensors", ("id", "bytes"), path)
    sizes = []
    for t in tensors:
        size = t["bytes"]
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise InstanceError(f"tensor {t['id']}: bytes must be a positive integer, found {size!r:.40}", path, 1)
        sizes.append(size)
    inputs = [_ids(op["inputs"], f"operator {op['id']} inputs", path) for op in ops]
    outputs = [_ids(op["outputs"], f"operator {op['id']} outputs", path) for op in ops]
    for t in tensors:  # the redundant producer/consumer fields must agree with the operator lists
        if "producer" in t and (not isinstance(t["producer"], int) or not 0 <= t["producer"] < len(ops)
                                or t["id"] not in outputs[t["producer"]]):
            raise InstanceError(f"tensor {t['id']}: producer {t['producer']!r} does not list it as an output", path, 1)
        for c in t.get("consumers") or ():
            if not isinstance(c, int) or not 0 <= c < len(ops) or t["id"] not in inputs[c]:
                raise InstanceError(f"tensor {t['id']}: consumer {c!r} does not list it as an input", path, 1)
    if capacity is None and document.get("capacity") is not None:
        capacity = document["capacity"]
    names = [str(op.get("name", f"op{op['id']}")) for op in ops]
    try:
        return DnnMemory(tuple(inputs), tuple(outputs), sizes, capacity, None,
                         str(document.get("model", path.stem)), tuple(names))
    except ModelError as exc:
        raise InstanceError(str(exc), path) from None
