"""The status-page offer as Slack shows it: the draft and its *Publish* button."""

from __future__ import annotations

from typing import Any

from bot.mrkdwn import escape
from bot.statuspage.models import StatusPost

TITLES = {
    "open": "Status page: first post",
    "update": "Status page update",
    "resolve": "Status page: resolution notice",
}


def offer(post: StatusPost, who: str | None) -> tuple[str, list[dict[str, Any]]]:
    title = TITLES[post.kind]
    to = f"<@{who}>, " if who else ""
    text = f"{title} ({post.status}) drafted for the status page"
    lines = [
        f":globe_with_meridians: *{title}* — {to}review and publish when it is right.",
        f"*{escape(post.name)}* · status *{post.status}*",
        f">{escape(post.body)}",
    ]
    if post.component_id:
        lines.append(f"Component `{escape(post.component_id)}` → {post.component_status}")
    if post.state == "requested":
        lines.append(f"<@{post.requested_by}> asked to publish; another person approves.")
        label = "Approve and publish"
    else:
        label = "Publish"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        {
            "type": "actions",
            "block_id": f"statuspage:{post.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "statuspage_publish",
                    "text": {"type": "plain_text", "text": label},
                    "style": "primary",
                    "value": str(post.id),
                }
            ],
        },
    ]
    return text, blocks


def published(post: StatusPost) -> tuple[str, list[dict[str, Any]]]:
    title = TITLES[post.kind]
    by = f"<@{post.published_by}>" + (
        f" (approved by <@{post.approved_by}>)" if post.approved_by else ""
    )
    when = post.published_at.strftime("%H:%M UTC") if post.published_at else ""
    text = f"{title} ({post.status}) published by {by} at {when}"
    section = f":white_check_mark: *{title}* published by {by} at {when}:\n>{escape(post.body)}"
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": section}}]
