"""`/incident run <action> [args]`, the request's Approve/Deny buttons and the Diagnose menu."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.approvals import flows, ops
from bot.approvals.service import Decision
from bot.catalog import defaults as catalog_defaults
from bot.errors import UserError
from bot.incident import ops as incident_ops
from bot.models import ActionRequest
from bot.mrkdwn import escape
from bot.runtime import Runtime
from commands.actions.registry import ACTIONS, Action, Output, Plan, load
from commands.base import Reply, Request, ok

load()


def help_text(kind: str | None = None) -> str:
    rows = [
        f"• `{a.name}` — {escape(a.summary)}\n   {escape(a.usage)}"
        for a in ACTIONS.values()
        if kind in (None, a.kind)
    ]
    return "*Actions* (each asks for approval unless the policy says `auto`)\n" + "\n".join(rows)


def _action(name: str) -> Action:
    action = ACTIONS.get(name.lower())
    if action is None:
        names = ", ".join(f"`{n}`" for n in sorted(ACTIONS))
        raise UserError(
            f"`{name[:40]}` is not an action Warroom can run. Actions: {names}. "
            "`/incident run help` shows their arguments."
        )
    return action


def run(rt: Runtime, req: Request, args: str) -> Reply:
    name, _, rest = args.strip().partition(" ")
    if not name or name.lower() == "help":
        return Reply(help_text())
    return request_action(rt, req, _action(name), rest)


def request_action(rt: Runtime, req: Request, action: Action, args: str) -> Reply:
    # In a service's war room, what was left out comes from the catalog (said in the reply).
    plan, defaulted = catalog_defaults.parse(rt, req.channel_id, action, args)
    if action.prepare is None:
        text, after = _request(rt, req, action, plan)
        return ok(text + defaulted, after)
    prepare = action.prepare
    incident_ops.find_in_war_room(rt, req.channel_id)  # refuse outside a war room at once

    def prepare_and_request() -> None:
        # The preview needs the live object, so it is built after the ack.
        try:
            _request(rt, req, action, prepare(rt.targets, plan, rt.policy))[1]()
        except UserError as e:
            tell(rt, req, f":warning: {escape(str(e))}")

    return ok(f"Preparing the `{action.name}` preview…{defaulted}", prepare_and_request)


def tell(rt: Runtime, req: Request, text: str) -> None:
    if req.response_url:
        rt.chat.respond(req.response_url, text)
    else:
        rt.chat.ephemeral(req.channel_id, req.user_id, text)


def _request(
    rt: Runtime, req: Request, action: Action, plan: Plan
) -> tuple[str, Callable[[], None]]:
    areq = ops.request(
        rt,
        req.channel_id,
        action=action.name,
        params=plan.params,
        target=plan.target,
        preview=plan.preview,
        requester=req.user_id,
        mutating=action.mutating,
    )

    def after() -> None:
        flows.show(rt, areq, action.kind)
        if areq.state == "approved":  # policy: auto
            execute(rt, areq, action)

    auto = areq.state == "approved"
    return (
        f"Request #{areq.id} for `{action.name}` "
        + ("is running (policy: auto)." if auto else "is waiting for approval."),
        after,
    )


def execute(rt: Runtime, areq: ActionRequest, action: Action) -> None:
    timeout = rt.policy.rule(action.name).timeout_seconds

    def run() -> Output:
        try:
            return action.run(rt.targets, areq.params)
        except UserError as e:
            # A runner's one write is its last call: a refusal means it did not happen.
            said = str(e)
            if action.mutating and "Nothing was" not in said:
                said += " Nothing was changed."
            raise UserError(said) from None

    flows.execute(rt, areq.id, action.kind, run, timeout)


def _decide(approve: bool):
    def handler(rt: Runtime, req: Request, request_id: str) -> Reply:
        d: Decision = ops.decide(
            rt,
            int(request_id),
            req.user_id,
            approve,
            lambda group, user: user in rt.chat.group_members(group),
            req.channel_id,
            req.message_ts,
        )
        action = _action(d.req.action)

        def after() -> None:
            flows.show(rt, d.req, action.kind)
            if d.run:
                execute(rt, d.req, action)

        return ok(d.message, after)

    return handler


approve = _decide(True)
deny = _decide(False)


def remediation(name: str):
    """`/incident rollback|restart|scale|kill-queries …`: the same engine as `run`."""

    def handler(rt: Runtime, req: Request, args: str) -> Reply:
        return request_action(rt, req, _action(name), args)

    return handler


def run_again(rt: Runtime, req: Request, value: str) -> Reply:
    """*Run again* under an interrupted change that was not applied: the same change, asked for
    afresh (a new preview against the live object, a new approval), never re-applied blindly."""
    old = ops.find(rt, int(value), req.channel_id)
    action = _action(old.action)
    if action.again is None:
        raise UserError(f"`{action.name}` cannot be asked for again from here; type the command.")
    return request_action(rt, req, action, action.again(old.params))


def rollback_to(rt: Runtime, req: Request, value: str) -> Reply:
    """The *Roll back to this revision* button under rollout-history: `ns/name/revision`."""
    ns, name, rev = value.split("/")
    return request_action(
        rt, req, _action("rollback"), f"deployment/{name} -n {ns} --to-revision {int(rev)}"
    )


def open_menu(rt: Runtime, req: Request, incident_id: str) -> Reply:
    """The *Diagnose* button on the alert: a form to pick a diagnostic and its arguments."""
    if not req.trigger_id:
        raise UserError("Use `/incident run help` in the war room.")
    options = [
        {"text": {"type": "plain_text", "text": a.name}, "value": a.name}
        for a in ACTIONS.values()
        if a.kind == "diagnostic"
    ][:100]
    view = {
        "type": "modal",
        "callback_id": "diagnose_modal",
        "private_metadata": json.dumps({"channel": req.channel_id}),
        "title": {"type": "plain_text", "text": "Diagnose"},
        "submit": {"type": "plain_text", "text": "Request"},
        "blocks": [
            {
                "type": "input",
                "block_id": "action",
                "label": {"type": "plain_text", "text": "Diagnostic"},
                "element": {"type": "static_select", "action_id": "action", "options": options},
            },
            {
                "type": "input",
                "block_id": "args",
                "optional": True,
                "label": {"type": "plain_text", "text": "Arguments"},
                "hint": {"type": "plain_text", "text": "e.g. -n shop -l app=checkout"},
                "element": {"type": "plain_text_input", "action_id": "args", "max_length": 500},
            },
        ],
    }
    return ok("Opening the Diagnose form…", lambda: rt.chat.open_view(req.trigger_id, view))


def menu_submitted(rt: Runtime, req: Request, values: dict[str, str], metadata: str) -> Reply:
    req.channel_id = json.loads(metadata or "{}").get("channel", req.channel_id)
    return request_action(rt, req, _action(values.get("action", "")), values.get("args", ""))
