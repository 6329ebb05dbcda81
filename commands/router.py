"""`/incident <sub> …`: find the handler, turn errors into replies a person can act on."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from bot.errors import UserError
from bot.mrkdwn import escape
from bot.runtime import Runtime
from commands import (
    alerts,
    checklist,
    declare,
    evidence,
    notes,
    overview,
    paging,
    postmortem,
    private,
    reminders,
    roles,
    run,
    status,
    statuspage,
)
from commands.base import Reply, Request, control_character, control_refusal
from commands.private import screen

log = logging.getLogger(__name__)
Handler = Callable[[Runtime, Request, str], Reply]

SUBCOMMANDS: dict[str, Handler] = {
    "declare": declare.declare_command,
    "retry": declare.retry_setup,
    "status": status.status,
    "update": status.update,
    "severity": status.severity,
    "sev": status.severity,
    "resolve": status.resolve,
    "reopen": status.reopen,
    "lead": roles.lead,
    "role": roles.role,
    "note": notes.note,
    "page": paging.page,
    "statuspage": statuspage.draft,
    "remind": reminders.remind,
    "run": run.run,
    "rollback": run.remediation("rollback"),
    "restart": run.remediation("restart"),
    "scale": run.remediation("scale"),
    "kill-queries": run.remediation("kill-queries"),
    "postmortem": postmortem.postmortem,
    "evidence": evidence.evidence,
    "private": private.private,
    "public": private.public,
    "set": postmortem.set_field,
    "action": postmortem.action,
    "stats": postmortem.stats,
    "show": overview.show,
    "timeline": overview.timeline,
    "list": overview.list_,
    "help": overview.help_,
    "alerts": alerts.alerts,
    "checklist": checklist.show,
    "type": checklist.type_command,
}


def dispatch(rt: Runtime, req: Request, text: str) -> Reply:
    if char := control_character(text):
        return Reply(f":warning: {control_refusal(char)}", outcome="refused")
    parts = text.strip().split(None, 1)
    if not parts:
        return overview.help_(rt, req, "")
    sub, args = parts[0].lower(), parts[1] if len(parts) > 1 else ""
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        return Reply(
            f":warning: `{escape(sub[:40])}` is not a Warroom command.\n\n{overview.HELP}",
            outcome="refused",
        )
    # From a private war room one is not in: answered as from no war room at all.
    return guarded(lambda: screen(rt, req) or handler(rt, req, args))


def guarded(fn: Callable[[], Reply]) -> Reply:
    """Run a handler: user errors become the reply; anything else is logged, never shown raw.

    A UserError's message is plain text (it may quote what was typed): escaped here, once.
    """
    try:
        return fn()
    except UserError as e:
        return Reply(f":warning: {escape(str(e))}", outcome="refused")
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("handler failed (ref %s)", ref)
        return Reply(
            f":x: Something went wrong on our side (ref `{ref}`). Nothing was half-done; "
            "please try again, and tell your Warroom admins the ref if it persists.",
            outcome="error",
        )
