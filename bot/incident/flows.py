"""Orchestration after the acknowledgement: open the war room, and tell Slack what changed.

Flows call the chat port; each step's result is stored so a retry resumes where it stopped.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot import messages
from bot.chat import ChatError, Metadata, mark
from bot.errors import DatabaseUnreachable
from bot.evidence import flows as evidence
from bot.incident import leases, service, timeline, visibility
from bot.incident.cadence import next_update_due
from bot.incident.leases import SetupLeases
from bot.incident.lifecycle import Change
from bot.incident.naming import channel_name
from bot.models import Incident
from bot.mrkdwn import escape
from bot.playbooks import flows as checklist
from bot.runtime import Runtime

log = logging.getLogger(__name__)
# A setup's lease is renewed by its process while it runs (a burst's rate limits may hold one
# Slack call for minutes), so one whose process died is free again within SETUP_LEASE, and the
# next process's timer loop resumes it (resume_lapsed).
SETUP_LEASE = timedelta(seconds=90)
# Pauses between tries of a setup cut by a database outage: about a minute, within the lease.
DB_RETRY_PAUSES = (0.5, 1, 2, 4, 8, 15, 15, 15)
LEASES = SetupLeases(SETUP_LEASE, renew=timedelta(seconds=15))
MAX_NAME_SUFFIX = 5
# Setup's posts carry {"incident": id, "step": …} under this event type: a resumed setup finds
# in Slack what a dead process posted but never recorded, instead of posting it again.
SETUP_EVENT = "warroom_setup"
SKEW = timedelta(seconds=60)  # Slack's clock against ours


def start_war_room(rt: Runtime, incident_id: int, response_url: str | None = None) -> None:
    """Queue the war room's setup on the setups pool (see `Runtime.setups`)."""
    rt.submit(open_war_room, rt, incident_id, response_url, pool=rt.setups)


def open_war_room(rt: Runtime, incident_id: int, response_url: str | None = None) -> bool:
    """Create or finish the war room; True when it is ready. Safe to call again after failure."""
    with rt.db.session() as s:
        # Claimed before and never finished, or failed: its posts may have landed unrecorded.
        before = s.execute(
            select(Incident.setup_claim_until, Incident.setup_error).where(
                Incident.id == incident_id
            )
        ).first()
        resumed = before is not None and any(v is not None for v in before)
        if not service.claim_setup(s, incident_id, rt.now(), LEASES.lease):
            return False  # ready already, or another worker is on it
        inc = service.by_id(s, incident_id)
    with LEASES.held(rt, incident_id):
        for pause in (*DB_RETRY_PAUSES, None):
            try:
                if resumed:
                    _find_landed(rt, inc)
                _setup(rt, inc)
                return True
            except ChatError as e:
                _setup_failed(rt, inc, e, response_url)
                return False
            except DatabaseUnreachable:
                # The database went away mid-setup (a restart): this process is alive and holds
                # the lease, so it finishes the room itself once the database is back, looking
                # up what landed meanwhile, instead of leaving it half made until the lease lapses.
                if pause is None:
                    raise
                log.warning("database unreachable during setup of %s; retrying", incident_id)
                resumed = True
                time.sleep(pause)
    return False


def resume_unfinished(rt: Runtime) -> list[int]:
    """At start: finish war rooms that a dead process left half set up."""
    with rt.db.read() as s:
        pending = service.unfinished_setups(s, rt.now())
    for incident_id in pending:
        start_war_room(rt, incident_id)
    return pending


def resume_lapsed(rt: Runtime) -> list[int]:
    """While serving: finish war rooms whose setup's process died (its lease lapsed)."""
    pending = leases.lapsed(rt, rt.now())
    for incident_id in pending:
        start_war_room(rt, incident_id)
    return pending


def _save(
    rt: Runtime, incident_id: int, kind: str | None = None, text: str = "", **values: Any
) -> None:
    # Plain statements, no load of the incident: setup saves three times per war room.
    with rt.db.session() as s:
        if values:
            table = Incident.__table__
            s.execute(update(table).where(table.c.id == incident_id).values(**values))
        if kind:
            timeline.record(s, incident_id, kind, at=rt.now(), actor=rt.chat.bot_user_id, text=text)


def _find_landed(rt: Runtime, inc: Incident) -> None:
    """Record the alert and announcement an earlier attempt posted but did not record."""
    oldest = (inc.declared_at - SKEW).timestamp()
    wanted = {"alert": inc.channel_id if inc.alert_ts is None else None}
    if inc.announce_ts is None:
        wanted["announce"] = rt.chat.channel_id(rt.policy.announcement_channel)
    values: dict[str, Any] = {}
    for step, channel in wanted.items():
        if channel is None:
            continue
        for ts, payload in rt.chat.marked(channel, SETUP_EVENT, oldest):
            if payload.get("incident") == inc.id and payload.get("step") == step:
                values[f"{step}_ts"] = ts
                setattr(inc, f"{step}_ts", ts)
                log.info("war room %s: the %s already posted at %s", inc.number, step, ts)
                break
    if values:
        _save(rt, inc.id, **values)


def _create_channel(rt: Runtime, inc: Incident) -> None:
    for attempt in range(MAX_NAME_SUFFIX):
        suffix = attempt + 1 if attempt else 0  # the name, then name-2, name-3, …
        # A private room's name says nothing of the incident: no slug from its title.
        slug = "" if inc.private else inc.slug
        name = channel_name(rt.policy.channel_prefix, inc.day, inc.seq, slug, suffix)
        try:
            cid = rt.chat.create_channel(name, private=inc.private)
        except ChatError as e:
            if e.code != "name_taken":
                raise
            # Ours from an attempt that died before saving? The name is unique to this incident.
            ch = rt.chat.find_channel(name)
            if ch and ch.get("creator") == rt.chat.bot_user_id and not ch.get("is_archived"):
                cid = ch["id"]
            else:
                continue
        inc.channel_id, inc.channel_name = cid, name
        _save(
            rt,
            inc.id,
            "war_room_created",
            f"War room #{name} created",
            channel_id=cid,
            channel_name=name,
        )
        return
    raise ChatError("conversations.create", "name_taken")


def _setup(rt: Runtime, inc: Incident) -> None:
    if inc.channel_id is None:
        _create_channel(rt, inc)
    level = rt.policy.level(inc.severity)
    ch = inc.channel_id
    assert ch is not None
    jobs: dict[str, Future[Any]] = {}
    jobs["topic"] = rt.fanout.submit(rt.chat.set_topic, ch, _topic(rt, inc))
    jobs["purpose"] = rt.fanout.submit(
        rt.chat.set_purpose, ch, f"War room for {inc.number}: {escape(inc.title)}"
    )
    people = visibility.invitees(rt, inc, level.responders)
    if not inc.invited:
        jobs["invite"] = rt.fanout.submit(lambda: rt.chat.invite(ch, people))
    pinned: Future[None] | None = None
    if inc.alert_ts is None:
        text, blocks = messages.alert(inc, level, rt.policy.tz, next_update_due(inc, level))
        meta = mark(SETUP_EVENT, incident=inc.id, step="alert")
        jobs["alert"], pinned = _post_then_pin(rt, ch, text, blocks, meta)
    if inc.announce_ts is None and not (inc.private and rt.policy.private_announcement == "none"):
        text, blocks = visibility.announcement(rt, inc, level)
        announce_to = rt.chat.channel_id(rt.policy.announcement_channel)
        meta = mark(SETUP_EVENT, incident=inc.id, step="announce")
        jobs["announce"] = rt.fanout.submit(rt.chat.post, announce_to, text, blocks, None, meta)

    failure: ChatError | None = None
    results: dict[str, Any] = {}
    for name, job in jobs.items():
        try:
            results[name] = job.result()
        except ChatError as e:
            if name in ("topic", "purpose"):  # cosmetic: note it and carry on
                log.warning("war room %s: %s failed: %s", inc.number, name, e.code)
            else:
                failure = failure or e
    values: dict[str, Any] = {}
    if "invite" in results:
        visibility.record_members(rt, ch, [*people, rt.chat.bot_user_id])
        values["invited"] = True
    if "alert" in results:
        values["alert_ts"] = inc.alert_ts = results["alert"]
    if "announce" in results:
        values["announce_ts"] = inc.announce_ts = results["announce"]
    if values:
        _save(rt, inc.id, **values)
    if failure:
        raise failure
    if inc.ready_at is None:
        # Ready is when people can work in it; the pin needs the alert's ts, a third round
        # trip, so it follows (and a restart resumes it: the setup is unfinished until pinned).
        who = ", ".join(f"<@{u}>" for u in people)
        inc.ready_at = rt.now()
        _save(
            rt,
            inc.id,
            "war_room_ready",
            f"War room ready: alert posted, announced in #{rt.policy.announcement_channel}, "
            f"invited {who}",
            ready_at=inc.ready_at,
            setup_error=None,
        )
    if pinned is not None:
        pinned.result()  # pinned meanwhile, as soon as the alert's ts was known
    elif not inc.alert_pinned:
        assert inc.alert_ts is not None
        rt.chat.pin(ch, inc.alert_ts)
    _save(rt, inc.id, alert_pinned=True, setup_error=None, setup_claim_until=None)
    rt.submit(checklist.after_setup, rt, inc.id)  # the type's checklist, or a type suggested


def _post_then_pin(
    rt: Runtime, ch: str, text: str, blocks: list[dict[str, Any]], metadata: Metadata
) -> tuple[Future[str], Future[None]]:
    """Post the alert and pin it as soon as Slack returns its ts: the pin's round trip overlaps
    the rest of the setup instead of following it. Two futures: posted (its ts), and pinned."""
    posted: Future[str] = Future()

    def run() -> None:
        try:
            ts = rt.chat.post(ch, text, blocks, metadata=metadata)
        except BaseException as e:
            posted.set_exception(e)
            raise
        posted.set_result(ts)
        rt.chat.pin(ch, ts)

    return posted, rt.fanout.submit(run)


def _setup_failed(rt: Runtime, inc: Incident, err: ChatError, response_url: str | None) -> None:
    reason = _plain(err)
    _save(
        rt,
        inc.id,
        "war_room_failed",
        f"War room setup failed: {reason}",
        setup_error=reason,
        setup_claim_until=None,
    )
    text = (
        f":warning: Incident *{inc.number}* ({escape(inc.title)}) is recorded, but setting up "
        "its war "
        f"room failed: {reason}. Press *Retry* or type `/incident retry {inc.number}`."
    )
    blocks = [
        messages.section(text),
        messages.actions("setup_retry", messages.button("Retry", "retry_setup", str(inc.id))),
    ]
    _tell(rt, inc.reporter_id, inc.origin_channel_id, response_url, text, blocks)


def _plain(err: ChatError) -> str:
    known = {
        "name_taken": "every channel name for it is taken",
        "invalid_auth": "Slack rejected the bot token (check SLACK_BOT_TOKEN)",
        "not_in_channel": "the bot is not a member of the channel",
        "channel_not_found": "a channel was not found (check announcement_channel in the policy)",
        "ratelimited": "Slack is rate-limiting us",
    }
    for code, words in known.items():
        if err.code.startswith(code):
            return f"{words} ({err.method})"
    return f"Slack answered `{err.code}` to {err.method}"


def _tell(
    rt: Runtime,
    user: str,
    channel: str,
    response_url: str | None,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    try:
        if response_url:
            rt.chat.respond(response_url, text, blocks)
        elif channel:
            rt.chat.ephemeral(channel, user, text, blocks)
    except ChatError as e:
        log.error("could not tell %s: %s", user, e)


def apply_change(rt: Runtime, change: Change, response_url: str | None = None) -> None:
    """Tell the war room (and the incidents channel where the policy says) what changed."""
    inc = change.incident
    if inc.channel_id is None:
        return
    level = rt.policy.level(inc.severity)
    tz = rt.policy.tz
    try:
        _announce_change(rt, change, level, tz)
        if change.kind in ("status", "severity", "role", "resolved", "reopened"):
            rt.chat.set_topic(inc.channel_id, _topic(rt, inc))
            _refresh_alert(rt, inc)
        if change.kind == "role" and change.after:
            rt.chat.invite(inc.channel_id, [change.after])
            visibility.record_members(rt, inc.channel_id, [change.after])
        if change.kind in ("resolved", "action_item") and inc.type:
            checklist.refresh(rt, inc.id)  # post-incident steps became, or follow, action items
    except ChatError as e:
        _tell(
            rt,
            change.actor or inc.reporter_id,
            inc.channel_id,
            response_url,
            f":warning: Recorded on the timeline, but posting it to Slack failed: {_plain(e)}.",
        )


def _topic(rt: Runtime, inc: Incident) -> str:
    return messages.topic(inc, rt.chat.user_name(inc.lead_id) if inc.lead_id else None)


def _refresh_alert(rt: Runtime, inc: Incident) -> None:
    if inc.alert_ts and inc.channel_id:
        level = rt.policy.level(inc.severity)
        text, blocks = messages.alert(inc, level, rt.policy.tz, next_update_due(inc, level))
        rt.chat.update(inc.channel_id, inc.alert_ts, text, blocks)


def _mirror(rt: Runtime, inc: Incident, text: str, blocks: list[dict[str, Any]], what: str) -> None:
    if inc.private:
        return  # need to know: nothing of a private incident goes to the incidents channel
    target = rt.chat.channel_id(rt.policy.announcement_channel)
    rt.chat.post(target, text, blocks)
    _save(rt, inc.id, "bot_post", f"{what} posted to #{rt.policy.announcement_channel}")


def _announce_change(rt: Runtime, change: Change, level: Any, tz: Any) -> None:
    inc, ch, actor = change.incident, change.incident.channel_id, change.actor
    assert ch is not None
    nxt = next_update_due(inc, level)
    if change.kind == "update" or (change.kind == "status" and change.text):
        text, blocks = messages.status_update(inc, level, change.text, actor or "", tz, nxt)
        rt.chat.post(ch, text, blocks)
        if level.mirror_updates:
            _mirror(rt, inc, text, blocks, "Status update")
        return
    if change.kind == "resolved":
        text, blocks = messages.resolution(inc, level, tz)
        rt.chat.post(ch, text, blocks)
        _mirror(rt, inc, text, blocks, "Resolution")
        if inc.private:  # a breach's record is preserved as it stood at resolution
            rt.submit(evidence.export, rt, inc.id, actor)
        return
    lines = {
        "status": f":arrows_counterclockwise: <@{actor}> changed the status: "
        f"*{change.before}* → *{change.after}*",
        "severity": f":rotating_light: <@{actor}> changed the severity: "
        f"*{change.before}* → *{change.after}*",
        "role": f":bust_in_silhouette: <@{change.after}> is now the *{change.text}*"
        + (f" (assigned by <@{actor}>)" if actor != change.after else ""),
        "note": f":memo: Note from <@{actor}>: {escape(change.text)}",
        "reminders": f":alarm_clock: {change.text} (set by <@{actor}>)",
        "snooze": f":zzz: {change.text} (by <@{actor}>)",
        "reopened": f":leftwards_arrow_with_hook: <@{actor}> reopened the incident; "
        "status *investigating*.",
    }
    line = lines.get(change.kind)
    if line:
        rt.chat.post(ch, line, [messages.section(line)])
    if change.kind == "severity":
        if not inc.private:  # a private room's members are invited by its members only
            rt.chat.invite(ch, list(level.responders))
        text = (
            f"{messages.EMOJI.get(inc.severity, '')} {inc.number} {escape(inc.title)}: "
            f"severity {change.before} → {change.after} · <#{ch}>"
        )
        _mirror(rt, inc, text, [messages.section(text)], "Severity change")
    elif change.kind == "reopened":
        title = escape(inc.title)
        text = f":leftwards_arrow_with_hook: {inc.number} {title} was reopened · <#{ch}>"
        _mirror(rt, inc, text, [messages.section(text)], "Reopening")
