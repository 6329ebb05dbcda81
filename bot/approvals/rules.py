"""Approval rules as small pure functions over the policy (after sre-bot's policy checks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.config import ActionRule
from bot.models import ActionRequest


def refusal(
    rule: ActionRule,
    req: ActionRequest,
    approver: str,
    now: datetime,
    in_group: Callable[[str, str], bool],
) -> str | None:
    """Why `approver` may not approve `req` now, or None when they may."""
    if req.state != "pending":
        return already(req)
    if now >= req.expires_at:
        return "This request has expired; ask again with the same command."
    if approver == req.requester_id and not rule.allow_self_approval:
        return "You asked for this, so someone else must approve it (four eyes)."
    if approver in (req.approvers or []):
        return "You have already approved this; it needs another approver."
    return not_an_approver(rule, req, approver, in_group)


def deny_refusal(
    rule: ActionRule, req: ActionRequest, user: str, in_group: Callable[[str, str], bool]
) -> str | None:
    """Why `user` may not deny `req`: only approvers may, and the requester may cancel."""
    if user == req.requester_id or rule.anyone_may_deny:
        return None
    why = not_an_approver(rule, req, user, in_group)
    return why.replace("an approver for", "an approver of, so cannot deny,") if why else None


def not_an_approver(
    rule: ActionRule, req: ActionRequest, user: str, in_group: Callable[[str, str], bool]
) -> str | None:
    if rule.approvers and not any(
        user == a or (a.startswith("S") and in_group(a, user)) for a in rule.approvers
    ):
        who = ", ".join(
            f"<!subteam^{a}>" if a.startswith("S") else f"<@{a}>" for a in rule.approvers
        )
        return f"You are not an approver for `{req.action}`. Approvers: {who}."
    return None


def misplaced(req: ActionRequest, channel_id: str | None, message_ts: str | None) -> str | None:
    """A click counts only from the request's own message in its own war room."""
    if channel_id is not None and req.channel_id and channel_id != req.channel_id:
        return "That button belongs to another incident's request; nothing was decided."
    if message_ts is not None and req.message_ts and message_ts != req.message_ts:
        return "That button does not belong to this request's message; nothing was decided."
    return None


def already(req: ActionRequest) -> str:
    by = f" by <@{req.decided_by}>" if req.decided_by else ""
    return {
        "approved": f"Already approved{by}; it is running.",
        "running": f"Already approved{by}; it is running.",
        "succeeded": f"Already approved{by} and done.",
        "failed": f"Already approved{by}; it ran and failed.",
        "denied": f"Already denied{by}.",
        "expired": "This request has expired; ask again with the same command.",
    }.get(req.state, f"This request is {req.state}.")
