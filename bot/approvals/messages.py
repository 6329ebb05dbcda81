"""The approval request message, updated in place as it is decided and run."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.config import ActionRule
from bot.messages import Block, actions, button, context, section, when
from bot.models import ActionRequest
from bot.mrkdwn import escape

ICON = {"diagnostic": ":mag:", "remediation": ":hammer_and_wrench:"}


def who_approves(rule: ActionRule) -> str:
    if rule.mode == "auto":
        return "runs without approval (policy: auto)"
    people = (
        ", ".join(f"<!subteam^{a}>" if a.startswith("S") else f"<@{a}>" for a in rule.approvers)
        or "anyone"
    )
    four_eyes = "" if rule.allow_self_approval else " except the requester"
    n = f"{rule.min_approvals} approvals from " if rule.min_approvals > 1 else ""
    return f"needs {n}{people}{four_eyes}"


def request(
    req: ActionRequest, kind: str, rule: ActionRule, tz: ZoneInfo
) -> tuple[str, list[Block]]:
    title = f"{ICON.get(kind, ':gear:')} *{kind.capitalize()} request #{req.id}*: `{req.action}`"
    body = (
        f"{title} — asked by <@{req.requester_id}>\n"
        f"*Will run:* {escape(req.preview)}\n*Target:* {escape(req.target)}"
    )
    blocks: list[Block] = [section(body)]
    state = _state_line(req, tz)
    if req.state == "pending":
        got = f" ({len(req.approvers)}/{req.approvals_needed} approvals)" if req.approvers else ""
        blocks.append(
            context(f"{who_approves(rule).capitalize()}{got} · expires {when(req.expires_at, tz)}")
        )
        blocks.append(
            actions(
                f"approval_{req.id}",
                button("Approve", "approve_action", str(req.id), "primary"),
                button("Deny", "deny_action", str(req.id), "danger"),
            )
        )
    else:
        blocks.append(section(state))
    return (
        f"{kind.capitalize()} request #{req.id}: {req.action} on {escape(req.target)} — "
        f"{req.state}",
        blocks,
    )


def _state_line(req: ActionRequest, tz: ZoneInfo) -> str:
    by = f" by <@{req.decided_by}>" if req.decided_by else " (policy: auto)"
    took, summary = "", escape(req.summary or "")
    if req.started_at and req.finished_at:
        took = f" in {int((req.finished_at - req.started_at).total_seconds() * 1000)} ms"
    return {
        "approved": f":white_check_mark: Approved{by} at {when(req.decided_at, tz)} — starting…",
        "running": f":hourglass_flowing_sand: Approved{by} — running…",
        "succeeded": f":white_check_mark: Approved{by}; done{took}: {summary}",
        "failed": f":warning: Approved{by}; failed{took}: {summary}",
        "denied": f":no_entry: Denied{by} at {when(req.decided_at, tz)}",
        "expired": f":hourglass: Expired at {when(req.expires_at, tz)} without a decision",
    }.get(req.state, req.state)
