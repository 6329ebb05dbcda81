"""The playbook checklist in the war room: `/incident checklist`, `/incident type <name>`, and
the checklist's Done, Run, Skip, Undo, Show and page buttons."""

from __future__ import annotations

import json

from bot.catalog import find as catalog
from bot.errors import UserError
from bot.mrkdwn import escape
from bot.playbooks import checklist, flows, ops
from bot.playbooks.messages import PHASE_TITLE, counts, progress
from bot.playbooks.models import ChecklistStep
from bot.runtime import Runtime
from commands import run as run_command
from commands.actions.registry import ACTIONS
from commands.base import Reply, Request, ok

TYPE_USAGE = "`/incident type <name>`, e.g. `/incident type database`"


def _said(st: ChecklistStep, rt: Runtime) -> str:
    when = st.at.astimezone(rt.policy.tz).strftime("%H:%M") if st.at else ""
    verb = {"done": "done", "run": "run", "skipped": "skipped"}.get(st.status)
    if verb is None:
        return f"“{escape(st.title)}” is open again (someone un-ticked it)."
    return f"“{escape(st.title)}” was already {verb} by <@{st.by_id}> at {when}."


def _refresh(rt: Runtime, incident_id: int):
    return lambda: flows.refresh(rt, incident_id)


def done(rt: Runtime, req: Request, value: str) -> Reply:
    inc, st = ops.step_of(rt, value)
    out = ops.change(rt, st.id, checklist.tick, req.user_id)
    if not out.changed:
        return Reply(f":information_source: {_said(out.step, rt)}", outcome="refused")
    return ok(f":white_check_mark: Done: “{escape(st.title)}”.", _refresh(rt, inc.id))


def undo(rt: Runtime, req: Request, value: str) -> Reply:
    inc, st = ops.step_of(rt, value)
    out = ops.change(rt, st.id, checklist.untick, req.user_id)
    if not out.changed:
        return Reply(
            f":information_source: “{escape(st.title)}” is open already.", outcome="refused"
        )
    return ok(f":leftwards_arrow_with_hook: Un-ticked “{escape(st.title)}”.", _refresh(rt, inc.id))


def skip_open(rt: Runtime, req: Request, value: str) -> Reply:
    """*Skip*: a form asking why (the reason goes on the timeline and into the post-mortem)."""
    inc, st = ops.step_of(rt, value)
    if st.status != "open":
        return Reply(f":information_source: {_said(st, rt)}", outcome="refused")
    if not req.trigger_id:
        raise UserError("Skipping needs the form; press *Skip* on the checklist again.")
    view = {
        "type": "modal",
        "callback_id": "checklist_skip",
        "private_metadata": json.dumps({"step": st.id, "channel": inc.channel_id}),
        "title": {"type": "plain_text", "text": "Skip a step"},
        "submit": {"type": "plain_text", "text": "Skip it"},
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*{escape(st.title[:200])}*"},
            },
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why is it skipped?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "max_length": checklist.MAX_REASON,
                },
            },
        ],
    }
    return Reply("", after=[lambda: rt.chat.open_view(req.trigger_id, view)])


def skip_submitted(rt: Runtime, req: Request, values: dict[str, str], metadata: str) -> Reply:
    meta = json.loads(metadata or "{}")
    req.channel_id = meta.get("channel") or req.channel_id
    inc, st = ops.step_of(rt, str(meta.get("step", "")))
    out = ops.change(rt, st.id, checklist.skip, req.user_id, values.get("reason", ""))
    if not out.changed:
        return Reply(f":information_source: {_said(out.step, rt)}", outcome="refused")
    return ok(f":fast_forward: Skipped “{escape(st.title)}”.", _refresh(rt, inc.id))


def run_step(rt: Runtime, req: Request, value: str) -> Reply:
    """*Run*: the normal approval request, with the step's arguments (filled from the service)."""
    inc, st = ops.step_of(rt, value)
    if inc.is_resolved:
        raise UserError(
            f"Incident {inc.number} is resolved: its checklist's actions no longer run. "
            "`/incident reopen` first if it needs more work."
        )
    why = flows.why_not(rt, inc)(st)
    if why:
        raise UserError(f"“{st.title}” cannot run: {why}.")
    clicked = rt.now()
    out = ops.change(rt, st.id, checklist.mark_run, req.user_id)
    if not out.changed:
        return Reply(f":information_source: {_said(out.step, rt)}", outcome="refused")
    req.channel_id = inc.channel_id or req.channel_id
    try:
        reply = run_command.request_action(rt, req, ACTIONS[st.action or ""], st.args)
    except Exception:
        ops.change(rt, st.id, checklist.untick, req.user_id)  # nothing was asked: open again
        raise

    def after() -> None:
        try:
            for fn in reply.after:
                fn()
        finally:
            ops.link_request(rt, st.id, req.user_id, clicked)
            flows.refresh(rt, inc.id)

    return Reply(f":arrow_forward: “{escape(st.title)}”: {reply.text}", after=[after])


def view_button(rt: Runtime, req: Request, value: str) -> Reply:
    """*Show* (value: a phase) and the page buttons (value: `phase:page`)."""
    phase, _, page = value.partition(":")
    if phase not in PHASE_TITLE or (page and not page.isdigit()):
        raise UserError("That checklist button is out of date; `/incident checklist` shows it.")
    inc, _ = ops.progress(rt, req.channel_id)
    ops.view_page(rt, inc.id, phase, int(page) if page else None)
    return Reply("", after=[_refresh(rt, inc.id)])


def _playbook(rt: Runtime, word: str):
    name = catalog.require_type(rt, word)
    pb = rt.playbooks.get(name)
    if pb is None:
        raise UserError(f"The `{name}` playbook is not loaded; `warroom playbook` lists them.")
    return pb


def type_command(rt: Runtime, req: Request, args: str) -> Reply:
    """`/incident type <name>`: the incident's type; its playbook's steps join the checklist."""
    word = args.strip()
    if not word:
        known = ", ".join(f"`{t}`" for t in catalog.known_types(rt))
        return Reply(f"Set the incident's type: {TYPE_USAGE}. Known types: {known}.")
    if " " in word:
        raise UserError(f"Give one type. {TYPE_USAGE}.")
    return _use(rt, req, _playbook(rt, word))


def use_type(rt: Runtime, req: Request, value: str) -> Reply:
    """The *Use the X playbook* button suggested after setup."""
    return _use(rt, req, _playbook(rt, value))


def _use(rt: Runtime, req: Request, pb) -> Reply:
    inc, before = ops.set_type(rt, req.channel_id, pb, req.user_id)

    def after() -> None:
        flows.settle_suggestion(rt, inc.id, pb, req.user_id)
        flows.refresh(rt, inc.id)

    if before and before != pb.name:
        text = (
            f"Type changed from `{escape(before)}` to `{pb.name}`: the checklist now follows the "
            f"{escape(pb.title)} playbook; steps already done stay on it."
        )
    elif before == pb.name:
        text = f"The incident already follows the `{pb.name}` playbook."
    else:
        text = f"Type set to `{pb.name}`: the {escape(pb.title)} checklist is pinned here."
    return ok(text, after)


def show(rt: Runtime, req: Request, args: str) -> Reply:
    """`/incident checklist`: progress, phase by phase, and what is still open now."""
    inc, rows = ops.progress(rt, req.channel_id)
    if not inc.type:
        known = ", ".join(f"`{t}`" for t in catalog.known_types(rt))
        return Reply(
            f"This incident has no type yet, so no checklist: {TYPE_USAGE}. Known: {known}."
        )
    lines = [f":clipboard: *{inc.number}* · `{escape(inc.type)}` playbook: {progress(rows)}"]
    for phase, title in PHASE_TITLE.items():
        steps = [st for st in rows if st.phase == phase]
        if not steps:
            continue
        c = counts(steps)
        lines.append(f"• *{title}*: {len(steps) - c['open']}/{len(steps)} finished")
    first_open = next((st for st in rows if st.status == "open"), None)
    if first_open:
        lines.append(
            f"Next open step: “{escape(first_open.title)}” ({PHASE_TITLE[first_open.phase]})"
        )
    else:
        lines.append("Every step is finished.")
    return Reply("\n".join(lines))
