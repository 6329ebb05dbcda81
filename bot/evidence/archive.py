"""The evidence archive: a zip of JSON files and a manifest of their SHA-256 digests, whose own
digest the next export of the same incident repeats, so a changed or replaced archive shows.

Pure: no database, no Slack. `verify` is what `warroom evidence verify FILE` runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

FORMAT = "warroom-evidence/1"
MANIFEST = "manifest.json"
_STAMP = (2000, 1, 1, 0, 0, 0)  # fixed zip entry times: the same content, the same bytes


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def to_json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str).encode()


@dataclass
class Built:
    data: bytes  # the zip
    manifest_sha256: str


def build(contents: dict[str, Any], head: dict[str, Any], previous: str | None) -> Built:
    """Zip `contents` (name -> JSON-able value) with a manifest: `head` (incident, export
    number, time), each file's digest and size, and the previous export's manifest digest."""
    files = {name: to_json(value) for name, value in contents.items()}
    manifest = {
        **head,
        "format": FORMAT,
        "previous_manifest_sha256": previous,
        "files": {n: {"sha256": sha256(b), "size": len(b)} for n, b in sorted(files.items())},
    }
    raw = to_json(manifest)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in [*sorted(files.items()), (MANIFEST, raw)]:
            z.writestr(zipfile.ZipInfo(name, _STAMP), data)
    return Built(buf.getvalue(), sha256(raw))


@dataclass
class Verdict:
    problems: list[str]
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(data: bytes, previous: bytes | None = None) -> Verdict:
    """Every file as the manifest says (none missing, changed or added); with `previous` (the
    export before it), the chain: this manifest names the previous manifest's digest."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = set(z.namelist())
        raw = z.read(MANIFEST)
        manifest = json.loads(raw)
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        return Verdict([f"not an evidence archive ({e.__class__.__name__}: {e})"], {}, "")
    problems: list[str] = []
    if raw != to_json(manifest):  # written canonically: any edit to it shows
        problems.append(f"{MANIFEST}: changed (not as written: its bytes differ from its content)")
    if manifest.get("format") != FORMAT:
        problems.append(f"{MANIFEST}: format is {manifest.get('format')!r}, expected {FORMAT}")
    listed = manifest.get("files") or {}
    for name, want in sorted(listed.items()):
        if name not in names:
            problems.append(f"{name}: missing (the manifest lists it)")
            continue
        got = sha256(z.read(name))
        if got != want.get("sha256"):
            problems.append(
                f"{name}: changed (sha256 {got}, the manifest says {want.get('sha256')})"
            )
    for name in sorted(names - set(listed) - {MANIFEST}):
        problems.append(f"{name}: added (not in the manifest)")
    if previous is not None:
        before = verify(previous)
        problems += [f"previous archive: {p}" for p in before.problems]
        said = manifest.get("previous_manifest_sha256")
        if said != before.manifest_sha256:
            problems.append(
                f"chain broken: this manifest names previous {said}, "
                f"the previous archive's manifest is {before.manifest_sha256}"
            )
    return Verdict(problems, manifest, sha256(raw))
