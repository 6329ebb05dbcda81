"""managedFields of the Kubernetes API stand-in: who changed which fields, and when.

A simplification of server-side field management for Update operations: each write records,
under its manager (the ``fieldManager`` query parameter, else the User-Agent's product), the
leaf fields it changed (lists as a whole), in ``FieldsV1`` form; those fields leave every other
manager's entry, and an entry left with no field is dropped."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

# Written by the server itself, never owned by a manager.
UNOWNED = {"resourceVersion", "generation", "managedFields", "uid", "creationTimestamp"} | {
    "name",
    "namespace",
}
Path = tuple[str, ...]


def manager_from_agent(user_agent: str) -> str:
    """The server's default manager: the User-Agent up to its first "/" (prefixFromUserAgent)."""
    return (user_agent or "unknown").split("/", 1)[0][:128] or "unknown"


def changed_paths(old: Any, new: Any, prefix: Path = ()) -> set[Path]:
    if isinstance(new, dict) and new and (old is None or isinstance(old, dict)):
        old = old or {}
        out: set[Path] = set()
        for key in set(old) | set(new):
            if not prefix and key in ("kind", "apiVersion"):
                continue
            if prefix == ("metadata",) and key in UNOWNED:
                continue
            if key in new and old.get(key) != new[key]:
                out |= changed_paths(old.get(key), new[key], (*prefix, key))
        return out
    return set() if old == new else {prefix}


def _render(paths: set[Path]) -> Obj:
    tree: Obj = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return tree


def _parse(tree: Obj, prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    for key, sub in tree.items():
        path = (*prefix, key[2:])
        out |= _parse(sub, path) if sub else {path}
    return out


def record(
    obj: Obj,
    old: Obj | None,
    manager: str,
    operation: str,
    subresource: str,
    stamp: str,
) -> None:
    """Add this write to ``obj``'s managedFields (``old`` None: a create)."""
    meta = obj["metadata"]
    entries = list((old or {}).get("metadata", {}).get("managedFields") or [])
    changed = changed_paths(old or {}, obj)
    if not changed:
        meta["managedFields"] = entries
        return
    kept = []
    mine: set[Path] = set()
    for e in entries:
        fields = _parse(e.get("fieldsV1") or {})
        if (e["manager"], e["operation"], e.get("subresource", "")) == (
            manager,
            operation,
            subresource,
        ):
            mine = fields
            continue
        fields = {f for f in fields if not any(f[: len(c)] == c for c in changed)}
        if fields:
            kept.append(e | {"fieldsV1": _render(fields)})
    entry: Obj = {
        "manager": manager,
        "operation": operation,
        "apiVersion": obj.get("apiVersion", ""),
        "time": stamp,
        "fieldsType": "FieldsV1",
        "fieldsV1": _render(mine | changed),
    }
    if subresource:
        entry["subresource"] = subresource
    meta["managedFields"] = [*kept, entry]
