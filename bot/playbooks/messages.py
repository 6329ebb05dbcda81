"""The checklist as Slack blocks: each phase a section, each step a line with its buttons.

Slack takes at most 50 blocks and 3,000 characters a section. So finished phases fold into one
line, at most EXPANDED unfinished phases (plus one opened with *Show*) list their steps, and a
long phase is paged PAGE steps at a time. Whatever the playbook, the message stays under
MAX_BLOCKS; `render` checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from bot.models import Incident
from bot.mrkdwn import escape
from bot.playbooks.model import PHASES, Playbook
from bot.playbooks.models import Checklist, ChecklistStep

Blocks = list[dict[str, Any]]
PAGE = 5  # steps listed per phase at a time (two blocks each)
EXPANDED = 2  # unfinished phases listed at once, besides the one opened with *Show*
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_CHARS = 12_000  # Slack refuses ~13.2k characters of text in a message's blocks
ICON = {"open": ":white_square:", "done": ":white_check_mark:", "run": ":arrow_forward:",
        "skipped": ":fast_forward:"}  # fmt: skip
PHASE_TITLE = {
    "immediate": "Immediate actions",
    "investigation": "Investigation",
    "resolution": "Resolution",
    "recovery": "Recovery verification",
    "post_incident": "Post-incident actions",
}
WhyNot = Callable[[ChecklistStep], "str | None"]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if accessory:
        b["accessory"] = accessory
    return b


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        b["style"] = style
    return b


def counts(rows: Sequence[ChecklistStep]) -> dict[str, int]:
    out = {"open": 0, "done": 0, "run": 0, "skipped": 0}
    for r in rows:
        out[r.status] += 1
    return out


def progress(rows: Sequence[ChecklistStep]) -> str:
    c = counts(rows)
    return (
        f"{len(rows) - c['open']} of {len(rows)} steps finished · {c['done']} done · "
        f"{c['run']} run · {c['skipped']} skipped"
    )


def step_line(
    st: ChecklistStep, n: int, why: str | None, tz: tzinfo, item: int | None = None
) -> str:
    """`item`: the number of the action item the step became (what `action done N` takes)."""
    lines = [f"{ICON[st.status]} *{n}.* {escape(_cut(st.title, 200))}"]
    if st.action:
        lines.append(f"`{escape(_cut(f'{st.action} {st.args}'.strip(), 300))}`")
        if why and st.status == "open":
            lines.append(f":no_entry: Not runnable: {escape(_cut(why, 400))}")
    if st.code:
        lines.append(f"```{escape(_cut(st.code, 400))}```")
    if st.due_hours and st.status == "open":
        due = f"{st.due_hours:g} h"
        lines.append(
            f"_Action item {item} (`/incident action done {item}`)_"
            if st.action_item_id and item
            else f"_Becomes an action item, due {due} after resolution_"
        )
    when = st.at.astimezone(tz).strftime("%H:%M") if st.at else ""
    if st.status == "done":
        lines.append(f"_Done by <@{st.by_id}> at {when}_")
    elif st.status == "skipped":
        lines.append(
            f"_Skipped by <@{st.by_id}> at {when}: {escape(_cut(st.skip_reason or '', 300))}_"
        )
    elif st.status == "run":
        req = f" — request #{st.request_id}" if st.request_id else ""
        lines.append(f"_Run by <@{st.by_id}> at {when}{req}_")
    return "\n".join(lines)


def _step_blocks(
    st: ChecklistStep, n: int, why: str | None, tz: tzinfo, item: int | None = None
) -> Blocks:
    text = step_line(st, n, why, tz, item)
    if st.status != "open":
        return [section(text, button("Undo", f"cl_undo:{st.id}", str(st.id)))]
    runnable = st.action is not None and why is None
    first = (
        button("Run", f"cl_run:{st.id}", str(st.id), "primary")
        if runnable
        else button("Done", f"cl_done:{st.id}", str(st.id), "primary")
    )
    skip = button("Skip", f"cl_skip:{st.id}", str(st.id))
    return [section(text), {"type": "actions", "elements": [first, skip]}]


def render(
    inc: Incident,
    pb: Playbook | None,
    rows: Sequence[ChecklistStep],
    others: Sequence[ChecklistStep],
    cl: Checklist,
    why_not: WhyNot,
    tz: tzinfo,
    now: datetime,
    items: Mapping[int, int] | None = None,  # action item id -> its number on the incident
) -> tuple[str, Blocks]:
    """`rows`: the current type's steps in order; `others`: steps of earlier types. Long step
    texts list fewer steps a page, so the whole message stays under Slack's text budget."""
    whys = {st.id: why_not(st) for st in rows}
    for size in (PAGE, 3, 2, 1):
        blocks = _blocks(inc, pb, rows, others, cl, whys, tz, now, size, items or {})
        if _chars(blocks) <= MAX_CHARS:
            break
    for b in blocks:
        t = b.get("text", {}).get("text", "")
        assert len(t) <= MAX_SECTION, f"section of {len(t)} characters"
    assert len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks"
    return f"Checklist for {inc.number} ({inc.type}): {progress(rows)}", blocks


def _chars(node: Any) -> int:
    """Text characters as Slack counts them for msg_blocks_too_long."""
    if isinstance(node, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else _chars(v) for k, v in node.items()
        )
    if isinstance(node, list):
        return sum(_chars(v) for v in node)
    return 0


def _blocks(
    inc: Incident,
    pb: Playbook | None,
    rows: Sequence[ChecklistStep],
    others: Sequence[ChecklistStep],
    cl: Checklist,
    whys: dict[int, str | None],
    tz: tzinfo,
    now: datetime,
    size: int,  # steps a page
    items: Mapping[int, int],
) -> Blocks:
    name = pb.title if pb else (inc.type or "")
    head = (
        f":clipboard: *Checklist — {escape(name)}* (`{escape(inc.type or '')}` playbook)\n"
        f"{progress(rows)}"
    )
    blocks: Blocks = [section(head)]
    number = {st.id: i + 1 for i, st in enumerate(rows)}
    by_phase = {p: [st for st in rows if st.phase == p] for p in PHASES}
    titles = {p.id: p.title for p in pb.phases} if pb else {}
    windows = {p.id: p.window_minutes for p in pb.phases} if pb else {}
    unfinished = [p for p in PHASES if any(st.status == "open" for st in by_phase[p])]
    shown = set(unfinished[:EXPANDED]) | ({cl.focus} if cl.focus else set())
    for p in PHASES:
        steps = by_phase[p]
        if not steps:
            continue
        c = counts(steps)
        title = escape(_cut(titles.get(p, PHASE_TITLE[p]), 150))
        tally = f"{len(steps) - c['open']}/{len(steps)} finished"
        if p not in shown:
            icon = ":white_check_mark: " if not c["open"] else ""
            blocks.append(section(f"{icon}*{title}* — {tally}", button("Show", f"cl_show:{p}", p)))
            continue
        extra = ""
        if windows.get(p) and c["open"]:
            until = inc.declared_at.timestamp() + windows[p] * 60
            late = now.timestamp() > until
            local = datetime.fromtimestamp(until, tz).strftime("%H:%M")
            extra = f" · window {'passed at' if late else 'until'} {local}"
        blocks.append(section(f"*{title}* — {tally}{extra}"))
        pages = max(1, -(-len(steps) // size))
        page = min(int((cl.pages or {}).get(p, 0)), pages - 1)
        for st in steps[page * size : (page + 1) * size]:
            item = items.get(st.action_item_id) if st.action_item_id else None
            blocks += _step_blocks(st, number[st.id], whys.get(st.id), tz, item)
        if pages > 1:
            nav = []
            if page > 0:
                nav.append(button("◀ Previous", f"cl_page:{p}:{page - 1}", f"{p}:{page - 1}"))
            if page < pages - 1:
                rest = len(steps) - (page + 1) * size
                nav.append(
                    button(f"Show more ({rest})", f"cl_page:{p}:{page + 1}", f"{p}:{page + 1}")
                )
            blocks.append(
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": f"Steps {page * size + 1}–"
                         f"{min((page + 1) * size, len(steps))} of {len(steps)}"}
                    ],
                }
            )  # fmt: skip
            blocks.append({"type": "actions", "elements": nav})
    acted = [st for st in others if st.status != "open"]
    if acted:
        kinds = sorted({st.playbook for st in acted})
        c = counts(acted)
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"Kept from the {', '.join(kinds)} playbook: {c['done']} done, "
                        f"{c['run']} run, {c['skipped']} skipped",
                    }
                ],
            }
        )
    return blocks


def suggestion(inc: Incident, pb: Playbook, known: Sequence[str]) -> tuple[str, Blocks]:
    text = (
        f":bulb: This looks like a *{escape(pb.title)}* incident. Use the `{pb.name}` playbook? "
        "Its checklist gets posted and pinned here."
    )
    others = ", ".join(f"`{escape(k)}`" for k in known if k != pb.name)
    blocks: Blocks = [
        section(text),
        {
            "type": "actions",
            "elements": [button(f"Use the {pb.name} playbook", "cl_use_type", pb.name, "primary")],
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Or `/incident type <name>`: {others}"}],
        },
    ]
    return f"Use the {pb.name} playbook?", blocks


def chosen(pb: Playbook, user: str) -> tuple[str, Blocks]:
    text = (
        f":clipboard: Using the *{escape(pb.title)}* playbook (`{pb.name}`), chosen by <@{user}>."
    )
    return text, [section(text)]


def window_reminder(
    inc: Incident, rows: Sequence[ChecklistStep], minutes: int
) -> tuple[str, Blocks]:
    who = f"<@{inc.lead_id}>" if inc.lead_id else "<!here> (no lead yet)"
    items = "\n".join(f"• {escape(_cut(st.title, 200))}" for st in rows[:20])
    more = f"\n…and {len(rows) - 20} more" if len(rows) > 20 else ""
    text = (
        f":hourglass: {who} the first {minutes} minutes of *{inc.number}* have passed and "
        f"{len(rows)} immediate step{'s are' if len(rows) != 1 else ' is'} still open:\n"
        f"{items}{more}\nTick them on the pinned checklist, or *Skip* with a reason."
    )
    return text, [section(_cut(text, MAX_SECTION))]
