"""Post-mortem commands: `postmortem`, `set <field>`, `action add|done|list`, `stats`."""

from __future__ import annotations

import re

from bot.errors import UserError
from bot.incident import action_items, flows, lifecycle, ops
from bot.mrkdwn import escape
from bot.postmortem import compile as pm_compile
from bot.postmortem import ops as pm_ops
from bot.runtime import Runtime
from commands import run
from commands.base import Reply, Request, ok, parse_user

ACTION_USAGE = (
    "`/incident action add <text> [@owner] [due:YYYY-MM-DD]`, "
    "`/incident action done <n>`, `/incident action list`"
)
_DUE = re.compile(r"\bdue:(\S+)")
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def postmortem(rt: Runtime, req: Request, args: str) -> Reply:
    # Compiling looks up every participant's name in Slack (users.info): that waits for after
    # the acknowledgement, which must not depend on Slack's speed or on how many took part.
    inc = ops.find_in_war_room(rt, req.channel_id)
    filename = f"postmortem-{inc.number}.md"

    def compile_and_upload() -> None:
        try:
            pm, note, current = pm_ops.compile_for(
                rt, inc.id, req.user_id, rt.chat.user_name, rt.chat.bot_user_id
            )
        except UserError as e:
            run.tell(rt, req, f":warning: {escape(str(e))}")
            return
        kind = "Draft" if pm.draft else "Post-mortem"
        rt.chat.upload(
            req.channel_id,
            filename,
            pm.content,
            title=f"{kind} v{pm.version}: {current.title}",
            comment=f":memo: {kind} v{pm.version} compiled by <@{req.user_id}> ({note}).",
        )

    return ok(
        f"Compiling the post-mortem of {inc.number}; it will be posted here as `{filename}`.",
        compile_and_upload,
    )


def set_field(rt: Runtime, req: Request, args: str) -> Reply:
    field, _, text = args.strip().partition(" ")
    if not field:
        raise UserError("Usage: `/incident set <root_cause|impact|resolution|lessons> <text>`")
    change = ops.in_war_room(rt, req.channel_id, lifecycle.set_field, field, text, req.user_id)
    return ok(change.text + " `/incident postmortem` recompiles the draft.")


def action(rt: Runtime, req: Request, args: str) -> Reply:
    sub, _, rest = args.strip().partition(" ")
    sub = sub.lower()
    if sub == "add":
        owner = None
        mention = _MENTION.search(rest)
        if mention:
            owner = parse_user(mention.group(0), ACTION_USAGE)
            rest = rest.replace(mention.group(0), " ")
        due = None
        m = _DUE.search(rest)
        if m:
            due = pm_compile.parse_due(m.group(1))
            rest = rest.replace(m.group(0), " ")
        change = ops.in_war_room(
            rt, req.channel_id, action_items.add, rest, owner, due, req.user_id, policy=rt.policy
        )
        return ok(change.text, lambda: flows.apply_change(rt, change, req.response_url))
    if sub == "done":
        if not rest.strip().isdigit():
            raise UserError(f"Which item? `/incident action done 2`. Usage: {ACTION_USAGE}")
        change = ops.in_war_room(rt, req.channel_id, action_items.done, int(rest), req.user_id)
        return ok(change.text, lambda: flows.apply_change(rt, change, req.response_url))
    if sub == "list":
        inc, items = ops.action_items_of(rt, req.channel_id)
        if not items:
            return Reply(f"No action items on {inc.number} yet. Usage: {ACTION_USAGE}")
        lines = [
            f"{'✅' if i.state == 'done' else '⬜'} *{i.number}.* {escape(i.text)} — "
            f"{f'<@{i.owner_id}>' if i.owner_id else 'no owner'}, due {i.due or '—'}"
            for i in items
        ]
        return Reply(f"*Action items of {inc.number}*\n" + "\n".join(lines))
    raise UserError(f"Usage: {ACTION_USAGE}")


def stats(rt: Runtime, req: Request, args: str) -> Reply:
    text = pm_ops.metrics(rt, args)
    return Reply(f"```\n{text}\n```")
