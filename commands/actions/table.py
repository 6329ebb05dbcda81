"""Plain-text tables for action output (they go into a code block or a file)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], width: int = 60) -> str:
    if not rows:
        return "(none)"
    cells = [[_cell(r.get(c), width) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    head = "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join([head.rstrip(), *lines])


def _cell(v: Any, width: int) -> str:
    s = "—" if v is None else " ".join(str(v).split())
    return s if len(s) <= width else s[: width - 1] + "…"
