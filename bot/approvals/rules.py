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
    if rule.approvers and not any(
        approver == a or (a.startswith("S") and in_group(a, approver)) for a in rule.approvers
    ):
        who = ", ".join(
            f"<!subteam^{a}>" if a.startswith("S") else f"<@{a}>" for a in rule.approvers
        )
        return f"You are not an approver for `{req.action}`. Approvers: {who}."
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
