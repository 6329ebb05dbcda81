"""The status page around an incident's life: drafts offered to the comms role (or the lead) on
P0/P1, the matching update on each status change, the resolution notice; *Publish* sends one.

Drafts are written in the incident's own transaction; Slack and Statuspage are told after it."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from bot.chat import ChatError
from bot.errors import UserError
from bot.incident import service as incidents
from bot.incident import timeline
from bot.incident.lifecycle import Change
from bot.models import Incident
from bot.paging.base import PageError
from bot.redact import redact
from bot.runtime import Runtime
from bot.statuspage import messages, service
from bot.statuspage.atlassian import AtlassianStatuspage
from bot.statuspage.base import StatusPage
from bot.statuspage.models import StatusPost

log = logging.getLogger(__name__)
MAX_TRIES = 3
NOT_A_WAR_ROOM = "Use this in the incident's war room: `/incident statuspage`."


def status_page(rt: Runtime) -> StatusPage:
    p = rt.policy.status_page
    key = p.key()
    if not key:
        raise PageError(f"no key: environment variable {p.api_key_env} is not set", retry=False)
    return AtlassianStatuspage(p.url, p.page_id, key, p.timeout_seconds)


def _wanted(rt: Runtime, inc: Incident) -> bool:
    p = rt.policy.status_page
    # A private incident is never offered to the public status page on its own.
    return p.enabled and inc.severity in p.severities and not getattr(inc, "private", False)


def _offer_after_commit(s: Session, rt: Runtime, incident_id: int) -> None:
    if not s.info.get("statuspage_offer"):
        s.info["statuspage_offer"] = True
        event.listen(
            s, "after_commit", lambda _s: rt.submit(post_offers, rt, incident_id), once=True
        )


def after_change(s: Session, rt: Runtime, change: Change, now: datetime) -> None:
    inc = change.incident
    if not _wanted(rt, inc):
        return
    policy = rt.policy.status_page
    drafted = False
    if change.kind == "role" and change.text in ("comms", "lead"):
        drafted = service.offer(s, policy, inc, "investigating", now)
    elif change.kind == "status" and change.after in ("identified", "monitoring"):
        drafted = service.offer(s, policy, inc, change.after, now, change.text)
    elif change.kind == "resolved":
        drafted = service.offer(s, policy, inc, "resolved", now)
    if drafted:
        _offer_after_commit(s, rt, inc.id)


def draft_on_request(rt: Runtime, channel_id: str) -> str:
    """`/incident statuspage`: the first post's draft now, whatever the severity."""
    if not rt.policy.status_page.enabled:
        raise UserError("No status page is configured (`status_page.page_id` in the policy).")
    with rt.db.session() as s:
        inc = incidents.by_channel(s, channel_id, lock=True)
        if inc is None:
            raise UserError(NOT_A_WAR_ROOM)
        status = "resolved" if inc.is_resolved else "investigating"
        if not service.offer(s, rt.policy.status_page, inc, status, rt.now()):
            s.execute(
                update(StatusPost)
                .where(StatusPost.incident_id == inc.id, StatusPost.state == "draft")
                .values(message_ts=None)  # post the pending draft again
            )
        _offer_after_commit(s, rt, inc.id)
        return inc.number


def post_offers(rt: Runtime, incident_id: int) -> None:
    """Post each draft not yet shown, addressed to the comms role, else the lead."""
    with rt.db.read() as s:
        inc = s.get(Incident, incident_id)
        posts = [
            p for p in service.posts_of(s, incident_id) if p.state == "draft" and not p.message_ts
        ]
    if inc is None or not inc.channel_id:
        return
    for post in posts:
        text, blocks = messages.offer(post, inc.comms_id or inc.lead_id)
        try:
            ts = rt.chat.post(inc.channel_id, text, blocks)
        except ChatError as e:
            log.error("could not offer the status page draft: %s", e)
            continue
        with rt.db.session() as s:
            s.execute(
                update(StatusPost)
                .where(StatusPost.id == post.id)
                .values(message_ts=ts, channel_id=inc.channel_id)
            )


def ask_publish(rt: Runtime, post_id: int, user: str) -> tuple[StatusPost, bool]:
    """A *Publish* click; True when it is this click that publishes (else it asked approval)."""
    need_second = rt.policy.status_page.require_approval
    with rt.db.session() as s:
        post = s.scalar(select(StatusPost).where(StatusPost.id == post_id).with_for_update())
        if post is None:
            raise UserError("That status page draft no longer exists.")
        if post.state in ("publishing", "published"):
            raise UserError(f"This status page post is already {post.state}.")
        if post.kind != "open" and service.opened(s, post.incident_id) is None:
            raise UserError("Publish the first status page post before its updates.")
        if need_second and post.state == "draft":
            post.state, post.requested_by = "requested", user
            timeline.record(
                s,
                post.incident_id,
                "status_page_request",
                at=rt.now(),
                actor=user,
                text=f"Asked to publish the status page {post.kind} ({post.status})",
            )
            return post, False
        if need_second and post.requested_by == user:
            raise UserError("Someone else must approve this post; you asked to publish it.")
        if need_second:
            post.approved_by = user
        post.state, post.published_by, post.error = "publishing", user, None
        return post, True


def publish(rt: Runtime, post_id: int) -> None:
    """Send a claimed post to the status page (after the ack); the answer on the timeline."""
    with rt.db.read() as s:
        post = s.get(StatusPost, post_id)
        first = service.opened(s, post.incident_id) if post else None
    if post is None or post.state != "publishing":
        return
    components = {post.component_id: post.component_status} if post.component_id else {}
    error, external = None, None
    for attempt in range(1, MAX_TRIES + 1):
        try:
            page = status_page(rt)
            if post.kind == "open":
                external = page.open(post.name, post.status, post.body, components)  # type: ignore[arg-type]
            else:
                assert first is not None and first.external_id
                external = page.update(first.external_id, post.status, post.body, components)  # type: ignore[arg-type]
            break
        except PageError as e:
            error = redact(str(e))
            if not e.retry or attempt == MAX_TRIES:
                break
            time.sleep(min(e.retry_after if e.retry_after is not None else attempt, 10))
    now = rt.now()
    with rt.db.session() as s:
        row = s.get(StatusPost, post_id)
        if external is not None:
            row.state, row.published_at, row.external_id = "published", now, external
            who = f"<@{row.published_by}>" + (
                f", approved by <@{row.approved_by}>" if row.approved_by else ""
            )
            text = f"Published to the status page ({row.status}) by {who}: {row.body}"
        else:
            row.state, row.error = "draft", error
            text = f"Publishing to the status page failed: {error}"
        timeline.record(
            s,
            row.incident_id,
            "status_page",
            at=now,
            actor=row.published_by,
            text=text,
            data={"status": row.status, "kind": row.kind, "published": external is not None},
        )
    if row.channel_id and row.message_ts:
        try:
            if external is not None:
                rt.chat.update(row.channel_id, row.message_ts, *messages.published(row))
            else:
                rt.chat.post(
                    row.channel_id,
                    f":warning: The status page did not take the {row.kind} post: {error}. "
                    "Nothing was published; press *Publish* again when it is fixed.",
                )
        except ChatError as e:
            log.error("could not show the status page result: %s", e)
