"""Kubernetes manifests (`kubectl get nodes,pods,priorityclasses -o yaml|json`) into a Cluster.

Reads Node, Pod and PriorityClass objects from a `List`, a single object, or several YAML
documents; other kinds are ignored. Node capacity is `status.allocatable` (else
`status.capacity`); a pod requests the larger of its containers' sum and its largest init
container. A running pod is one with `spec.nodeName` that has not finished. A pod is protected
(never moved or evicted) when annotated `orkit.io/protected: "true"` or owned by a DaemonSet or
a Node (static pod). YAML is parsed safely and aliases are refused (no expansion bombs).
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from orkit.core.errors import InstanceError, ModelError
from orkit.formats.text import read_text
from orkit.models.pods import Cluster, Node, Pod, Requirement, Taint, Toleration

PROTECTED_ANNOTATION = "orkit.io/protected"
UNMOVABLE_OWNERS = ("DaemonSet", "Node")
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SUFFIX = {None: 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10**3, "M": 10**6,
           "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
           "Pi": 2**50, "Ei": 2**60}


def parse_quantity(text: Any, resource: str) -> int:
    """A Kubernetes quantity as an integer: CPU in millicores, everything else in base units,
    rounded up as Kubernetes does. ValueError names what is wrong."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a quantity")
    match = _QUANTITY.match(str(text).strip())
    if not match:
        raise ValueError(f"{str(text)!r} is not a Kubernetes quantity (e.g. 500m, 2, 1Gi, 512Mi, 1e9)")
    try:
        value = Decimal(match.group(1)) * Decimal(_SUFFIX[match.group(2)])
    except InvalidOperation:
        raise ValueError(f"{str(text)!r} is not a number") from None
    if resource == "cpu":
        value *= 1000
    if value < 0:
        raise ValueError(f"{str(text)!r} is negative")
    if value > Decimal(2**62):
        raise ValueError(f"{str(text)!r} is too large")
    return int(value.to_integral_value(rounding=ROUND_CEILING))


class _SafeNoAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing anchors/aliases: manifests never need them, bombs always do."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not accepted in manifests", mark)
        return super().compose_node(parent, index)


def looks_like_manifest(head: str) -> bool:
    return "apiVersion" in head and "kind" in head


def _documents(path: Path, text: str) -> list[Any]:
    if path.suffix.lower() == ".json":
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise InstanceError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, exc.lineno) from None
        except RecursionError:
            raise InstanceError("JSON nested too deeply", path) from None
    try:
        return [d for d in yaml.load_all(text, Loader=_SafeNoAliasLoader) if d is not None]  # noqa: S506 - safe
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InstanceError(f"invalid YAML: {exc.problem or exc.context}", path,
                            mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise InstanceError(f"invalid YAML: {exc}", path) from None
    except RecursionError:
        raise InstanceError("YAML nested too deeply", path) from None


def _objects(path: Path, documents: list[Any]) -> list[dict]:
    objects: list[dict] = []
    for doc in documents:
        if not isinstance(doc, dict):
            raise InstanceError("expected Kubernetes objects (mappings with apiVersion and kind)", path, 1)
        if str(doc.get("kind", "")).endswith("List"):  # List, NodeList, PodList, ...
            items = doc.get("items") or []
            if not isinstance(items, list):
                raise InstanceError("'items' of a List must be a list", path)
            objects += items
        else:
            objects.append(doc)
    return objects


class _Reader:
    """Turns objects into nodes and pods; every error names the object and the line it starts near."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()

    def fail(self, obj: dict, message: str, token: Any = None) -> InstanceError:
        kind, name = obj.get("kind", "object"), _get(obj, "metadata", "name") or "?"
        return InstanceError(f"{kind} {name}: {message}", self.path, self.line_of(str(name), token))

    def line_of(self, name: str, token: Any) -> int | None:
        """Best effort: the first line naming the object, then the first after it holding the token."""
        start = next((k for k, line in enumerate(self.lines) if re.search(rf"\bname\W+{re.escape(name)}\b", line)),
                     None)
        if start is None:
            return None
        if token is not None:
            needle = str(token)
            for k in range(start, len(self.lines)):
                if needle in self.lines[k]:
                    return k + 1
        return start + 1

    def line_of_item(self, value: Any) -> int | None:
        """Best effort: the first list entry holding exactly this scalar."""
        if isinstance(value, (list, dict)):
            return None
        pattern = re.compile(rf"^\s*-\s+['\"]?{re.escape(str(value))}['\"]?\s*$")
        return next((k + 1 for k, line in enumerate(self.lines) if pattern.match(line)), None)

    def quantities(self, obj: dict, values: Any, where: str) -> dict[str, int]:
        if values is None:
            return {}
        if not isinstance(values, dict):
            raise self.fail(obj, f"{where} must be a mapping of resource to quantity")
        result = {}
        for resource, text in values.items():
            try:
                result[str(resource)] = parse_quantity(text, str(resource))
            except ValueError as exc:
                raise self.fail(obj, f"{where}.{resource}: {exc}", text) from None
        return result

    def node(self, obj: dict) -> Node:
        name = _name(self, obj)
        status = obj.get("status") or {}
        source = status.get("allocatable") or status.get("capacity")
        if not source:
            raise self.fail(obj, "no status.allocatable or status.capacity")
        taints = []
        for t in _get(obj, "spec", "taints") or []:
            if not isinstance(t, dict) or "key" not in t:
                raise self.fail(obj, f"taint {t!r} needs a key")
            taints.append(Taint(str(t["key"]), str(t.get("value", "")), str(t.get("effect", "NoSchedule"))))
        if _get(obj, "spec", "unschedulable"):
            taints.append(Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"))
        labels = {str(k): str(v) for k, v in (_get(obj, "metadata", "labels") or {}).items()}
        return Node(name, self.quantities(obj, source, "status.allocatable"), labels, tuple(taints))

    def pod(self, obj: dict, classes: dict[str, int], default_priority: int) -> Pod | None:
        name = _name(self, obj)
        namespace = _get(obj, "metadata", "namespace")
        if namespace and namespace != "default":
            name = f"{namespace}/{name}"
        if _get(obj, "status", "phase") in ("Succeeded", "Failed"):
            return None  # finished pods hold no resources
        spec = obj.get("spec") or {}
        if not isinstance(spec, dict):
            raise self.fail(obj, "spec must be a mapping")
        requests = self.requests(obj, spec)
        priority = spec.get("priority")
        if priority is None:
            class_name = spec.get("priorityClassName")
            if class_name is None:
                priority = default_priority
            elif class_name not in classes:
                raise self.fail(obj, f"unknown priorityClassName {class_name!r} (no such PriorityClass in the file)",
                                class_name)
            else:
                priority = classes[class_name]
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise self.fail(obj, f"priority must be an integer, found {priority!r}", priority)
        selector = spec.get("nodeSelector") or {}
        if not isinstance(selector, dict):
            raise self.fail(obj, "nodeSelector must be a mapping")
        owners = _get(obj, "metadata", "ownerReferences") or []
        owner = owners[0] if owners and isinstance(owners[0], dict) else {}
        annotations = _get(obj, "metadata", "annotations") or {}
        node = spec.get("nodeName")
        protected = node is not None and (str(annotations.get(PROTECTED_ANNOTATION, "")).lower() == "true"
                                          or owner.get("kind") in UNMOVABLE_OWNERS)
        return Pod(name, requests, priority, node, {str(k): str(v) for k, v in selector.items()},
                   self.affinity(obj, spec), self.tolerations(obj, spec), protected, owner.get("name"))

    def requests(self, obj: dict, spec: dict) -> dict[str, int]:
        total: dict[str, int] = {}
        for k, container in enumerate(spec.get("containers") or []):
            wanted = self.quantities(obj, _get(container, "resources", "requests"),
                                     f"containers[{k}].resources.requests")
            for resource, amount in wanted.items():
                total[resource] = total.get(resource, 0) + amount
        for k, container in enumerate(spec.get("initContainers") or []):
            wanted = self.quantities(obj, _get(container, "resources", "requests"),
                                     f"initContainers[{k}].resources.requests")
            for resource, amount in wanted.items():
                total[resource] = max(total.get(resource, 0), amount)
        overhead = self.quantities(obj, spec.get("overhead"), "overhead")
        for resource, amount in overhead.items():
            total[resource] = total.get(resource, 0) + amount
        return total

    def affinity(self, obj: dict, spec: dict) -> tuple[tuple[Requirement, ...], ...]:
        required = _get(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
        terms = []
        for term in (required or {}).get("nodeSelectorTerms") or []:
            expressions = []
            for e in (term or {}).get("matchExpressions") or []:
                if not isinstance(e, dict) or e.get("operator") not in Requirement.OPERATORS:
                    raise self.fail(obj, f"node affinity expression {e!r}: operator must be one of "
                                         f"{', '.join(Requirement.OPERATORS)}")
                expressions.append(Requirement(str(e.get("key", "")), e["operator"],
                                               tuple(str(v) for v in e.get("values") or ())))
            terms.append(tuple(expressions))
        return tuple(terms)

    def tolerations(self, obj: dict, spec: dict) -> tuple[Toleration, ...]:
        result = []
        for t in spec.get("tolerations") or []:
            if not isinstance(t, dict):
                raise self.fail(obj, f"toleration {t!r} must be a mapping")
            result.append(Toleration(str(t.get("key", "")), str(t.get("operator", "Equal")), str(t.get("value", "")),
                                     str(t.get("effect", ""))))
        return tuple(result)


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _name(reader: _Reader, obj: dict) -> str:
    name = _get(obj, "metadata", "name")
    if not isinstance(name, str) or not name:
        raise reader.fail(obj, "metadata.name is missing")
    return name


def read_manifest(path: str | Path) -> Cluster:
    """Nodes, pods and priority classes of a manifest file as a validated Cluster."""
    path = Path(path)
    text = read_text(path)
    objects = _objects(path, _documents(path, text))
    reader = _Reader(path, text)
    classes, default_priority = {}, 0
    for obj in objects:
        if isinstance(obj, dict) and obj.get("kind") == "PriorityClass":
            value = obj.get("value")
            if isinstance(value, bool) or not isinstance(value, int):
                raise reader.fail(obj, f"value must be an integer, found {value!r}", value)
            classes[_name(reader, obj)] = value
            if obj.get("globalDefault"):
                default_priority = value
    nodes, pods = [], []
    for number, obj in enumerate(objects, 1):
        if not isinstance(obj, dict):
            raise InstanceError(f"object {number}: expected a Kubernetes object (a mapping with a kind), "
                                f"found the {type(obj).__name__} {obj!r}", path, reader.line_of_item(obj))
        if obj.get("kind") == "Node":
            nodes.append(reader.node(obj))
        elif obj.get("kind") == "Pod":
            pod = reader.pod(obj, classes, default_priority)
            if pod is not None:
                pods.append(pod)
    if not nodes:
        raise InstanceError("no Node objects in the file (export them with kubectl get nodes,pods -o yaml)", path)
    try:
        return Cluster(tuple(nodes), tuple(pods), name=path.stem)
    except ModelError as exc:
        raise InstanceError(str(exc), path) from None
