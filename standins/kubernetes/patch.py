"""Patches the API server accepts: JSON patch (RFC 6902), merge patch (RFC 7386), strategic."""

from __future__ import annotations

import copy
import json
from typing import Any

from standins.kubernetes.store import ApiError, Obj

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH)

# patchMergeKey of the lists that strategic merge merges item by item; other lists are replaced.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "resourceClaims": "name",
}


class _Failed(Exception):
    pass


def apply_patch(content_type: str, doc: Obj, body: bytes) -> Obj:
    """Return a patched deep copy of ``doc``; raise ApiError as the API server would."""
    try:
        patch = json.loads(body or b"null")
    except ValueError as exc:
        raise ApiError.bad_request(f"error decoding patch: {exc}") from None
    if content_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise ApiError.bad_request(
                "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
            )
        try:
            return json_patch(doc, patch)
        except _Failed:
            raise ApiError.patch_failed() from None
    if not isinstance(patch, dict):
        raise ApiError.bad_request("error decoding patch: the patch is not a JSON object")
    if content_type == MERGE_PATCH:
        return merge_patch(copy.deepcopy(doc), patch)
    return strategic_merge(copy.deepcopy(doc), patch)


# ---------------------------------------------------------------------------- RFC 6902
def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise _Failed(f"invalid path {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _index(container: list[Any], token: str, *, adding: bool) -> int:
    if adding and token == "-":
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise _Failed(f"bad index {token!r}")
    i = int(token)
    if i > len(container) or (i == len(container) and not adding):
        raise _Failed(f"index {i} out of range")
    return i


def _parent(doc: Any, parts: list[str]) -> Any:
    node = doc
    for token in parts[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, adding=False)]
        else:
            raise _Failed(f"missing {token!r}")
    return node


def _get(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return doc
    parent, last = _parent(doc, parts), parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, adding=False)]
    raise _Failed(f"missing {last!r}")


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent, last = _parent(doc, parts), parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, adding=True), value)
    else:
        raise _Failed("parent is not a container")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise _Failed("cannot remove the root")
    parent, last = _parent(doc, parts), parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, adding=False))
    raise _Failed(f"missing {last!r}")


def json_patch(doc: Obj, ops: list[Any]) -> Obj:
    out: Any = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict):
            raise _Failed("operation is not an object")
        kind, parts = op.get("op"), _pointer(op.get("path"))
        if kind in ("add", "replace", "test") and "value" not in op:
            raise _Failed("missing value")
        if kind == "add":
            out = _add(out, parts, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(out, parts)
        elif kind == "replace":
            _get(out, parts)  # replace requires the target to exist
            if parts:
                _remove(out, parts)
            out = _add(out, parts, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from"))
            value = _remove(out, source) if kind == "move" else copy.deepcopy(_get(out, source))
            out = _add(out, parts, value)
        elif kind == "test":
            if _get(out, parts) != op["value"]:
                raise _Failed(f"testing value {op.get('path')} failed")
        else:
            raise _Failed(f"Unexpected kind: {kind}")
    if not isinstance(out, dict):
        raise _Failed("the patched document is not an object")
    return out


# ---------------------------------------------------------------------------- RFC 7386
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------------- strategic merge
def _clean(value: Any) -> Any:
    """Drop ``$``-directives from values that are inserted as they are."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _merge_list(orig: list[Any], patch: list[Any], key: str) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [_clean(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    result = list(orig)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(_clean(item))
            continue
        at = next(
            (i for i, o in enumerate(result) if isinstance(o, dict) and o.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if at is not None:
                result.pop(at)
        elif at is None:
            result.append(_clean(item))
        else:
            result[at] = strategic_merge(result[at], item)
    return result


def strategic_merge(target: Any, patch: Any) -> Any:
    """Good-enough strategic merge: merges keyed lists (containers by name), replaces others."""
    if not isinstance(patch, dict):
        return _clean(patch)
    if patch.get("$patch") == "replace":
        return _clean(patch)
    result = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):  # $setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...
            continue
        if value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
            result.pop(key, None)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, MERGE_KEYS[key])
        elif isinstance(value, dict):
            result[key] = strategic_merge(result.get(key), value)
        else:
            result[key] = _clean(value)
    return result
