"""Severity levels P0-P3 with the runbooks' SLAs, and parsing of what people type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.errors import UserError

CODES = ("P0", "P1", "P2", "P3")
# The runbooks number SEV1-SEV4 from the top: SEV1 is the most severe, P0.
ALIASES = {"SEV1": "P0", "SEV2": "P1", "SEV3": "P2", "SEV4": "P3"}


@dataclass(frozen=True)
class SeverityLevel:
    code: str
    label: str
    respond: timedelta
    resolve: timedelta
    update_every: timedelta | None  # None: no status-update cadence
    responders: tuple[str, ...] = ()
    mirror_updates: bool = False  # copy status updates to the incidents channel
    # (delay after the response time ran out, who to call) per step
    escalation: tuple[tuple[timedelta, tuple[str, ...]], ...] = ()


class UnknownSeverity(UserError):
    def __init__(self, given: str) -> None:
        super().__init__(
            f"`{given}` is not a severity. Use P0 (critical), P1 (high), P2 (medium) or "
            "P3 (low); SEV1-SEV4 also work (SEV1 = P0)."
        )
        self.given = given


_SHAPE = re.compile(r"^(?:P[0-9]+|SEV-?[0-9]+)$", re.IGNORECASE)


def looks_like_severity(token: str) -> bool:
    """True for anything shaped like a severity, valid or not (P7, sev9)."""
    return bool(_SHAPE.match(token))


def normalize(token: str) -> str:
    """Map `p1`, `SEV2`, `sev-2` to a code, or raise UnknownSeverity."""
    t = token.strip().upper().replace("-", "")
    if t in CODES:
        return t
    if t in ALIASES:
        return ALIASES[t]
    raise UnknownSeverity(token)
