"""The post-mortem's Response section: the playbook followed, and what became of each step —
done, run, skipped (with why) or left open — by whom, when, and how long after declaration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.models import ActionRequest, Incident
from bot.playbooks.model import PHASES
from bot.playbooks.models import ChecklistStep

PHASE_TITLE = {
    "immediate": "Immediate actions",
    "investigation": "Investigation",
    "resolution": "Resolution",
    "recovery": "Recovery verification",
    "post_incident": "Post-incident actions",
}
MARK = {"done": "[x]", "run": "[x]", "skipped": "[-]", "open": "[ ]"}


@dataclass
class Phase:
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Response:
    playbook: str = ""
    summary: str = ""
    phases: list[Phase] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # acted-on steps of an earlier type


def _after(inc: Incident, at: datetime) -> str:
    m = max(0, int((at - inc.declared_at).total_seconds() // 60))
    return f"+{m // 60} h {m % 60} min" if m >= 60 else f"+{m} min"


def _line(
    inc: Incident,
    st: ChecklistStep,
    requests: dict[int, ActionRequest],
    stamp: Callable[[datetime], str],
    names: Callable[[str | None], str],
) -> str:
    title = st.title.replace("\n", " ")
    what = f" (`{st.action} {st.args}`)".replace("\n", " ") if st.action else ""
    if st.status == "open" or st.at is None:
        return f"{MARK['open']} {title}{what} — left open"
    who = f"by {names(st.by_id)} at {stamp(st.at)} ({_after(inc, st.at)} after declaration)"
    if st.status == "skipped":
        why = (st.skip_reason or "").replace("\n", " ")
        return f"{MARK['skipped']} {title}{what} — skipped {who}: {why}"
    if st.status == "run":
        req = requests.get(st.request_id or 0)
        how = f", request #{req.id} {req.state}" if req else ""
        return f"{MARK['run']} {title}{what} — run {who}{how}"
    return f"{MARK['done']} {title}{what} — done {who}"


def response(
    inc: Incident,
    steps: Sequence[ChecklistStep],
    actions: Sequence[ActionRequest],
    stamp: Callable[[datetime], str],
    names: Callable[[str | None], str],
) -> Response:
    if not inc.type:
        return Response()
    requests = {a.id: a for a in actions}
    mine = sorted(
        (st for st in steps if st.playbook == inc.type),
        key=lambda st: (PHASES.index(st.phase), st.position),
    )
    counts: dict[str, Any] = {k: 0 for k in MARK}
    for st in mine:
        counts[st.status] += 1
    out = Response(
        playbook=inc.type,
        summary=(
            f"Playbook `{inc.type}`: {counts['done']} of {len(mine)} steps done, "
            f"{counts['run']} run, {counts['skipped']} skipped, {counts['open']} left open."
        ),
    )
    for p in PHASES:
        lines = [_line(inc, st, requests, stamp, names) for st in mine if st.phase == p]
        if lines:
            out.phases.append(Phase(PHASE_TITLE[p], lines))
    for st in steps:
        if st.playbook != inc.type and st.status != "open":
            out.others.append(
                f"From the `{st.playbook}` playbook: " + _line(inc, st, requests, stamp, names)
            )
    return out
