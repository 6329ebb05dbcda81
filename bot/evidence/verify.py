"""`warroom evidence verify FILE [--previous FILE]`: exit 0 when intact, 1 with what differs."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.evidence import archive


def main(file: str, previous: str | None = None) -> int:
    try:
        data = Path(file).read_bytes()
        before = Path(previous).read_bytes() if previous else None
    except OSError as e:
        print(f"warroom: cannot read {e.filename}: {e.strerror}", file=sys.stderr)
        return 1
    verdict = archive.verify(data, before)
    m = verdict.manifest
    if not verdict.intact:
        print(f"{file}: TAMPERED or damaged", file=sys.stderr)
        for p in verdict.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    chain = (
        f"; chained to {m.get('previous_manifest_sha256')}"
        if m.get("previous_manifest_sha256")
        else ""
    )
    print(
        f"{file}: intact — incident {m.get('incident')}, export {m.get('export')}, "
        f"{len(m.get('files') or {})} files, manifest sha256 {verdict.manifest_sha256}{chain}"
        + (" (chain checked)" if previous else "")
    )
    return 0
