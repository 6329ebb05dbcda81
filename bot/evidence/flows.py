"""`/incident evidence`: read the war room's whole history, zip it with the timeline and the
audit of actions under a chained manifest, keep it in the database and post it to the room."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select

from bot.chat import ChatError
from bot.evidence import archive
from bot.evidence.models import EvidenceExport
from bot.incident import service, timeline
from bot.models import AuditEntry, Incident

log = logging.getLogger(__name__)
PROGRESS_EVERY = 5  # pages of 200 messages between progress notes in a big room
_FILE_KEYS = ("id", "name", "title", "mimetype", "filetype", "size", "user", "created")


def export(rt: Any, incident_id: int, user: str | None) -> EvidenceExport | None:
    """One export, end to end; a Slack failure is said in the room and nothing is stored."""
    with rt.db.read() as s:
        inc = service.by_id(s, incident_id)
    if not inc.channel_id:
        return None
    try:
        messages = _history(rt, inc)
    except ChatError as e:
        _say(rt, inc, f":warning: The evidence export stopped: Slack answered `{e.code}`.")
        return None
    row = _store(rt, inc, user, messages)
    comment = (
        f":closed_lock_with_key: Evidence export {row.seq} of {inc.number}: {len(messages)} "
        f"messages, the timeline and the audit of actions. Manifest SHA-256 "
        f"`{row.manifest_sha256}`"
        + (f", chained to `{row.previous_sha256}`" if row.previous_sha256 else "")
        + ". Check it with `warroom evidence verify FILE`."
    )
    try:
        rt.chat.upload(inc.channel_id, row.file_name, row.archive, row.file_name, comment)
    except ChatError as e:
        _say(
            rt,
            inc,
            f":warning: Evidence export {row.seq} is stored, but posting it failed "
            f"(`{e.code}`); `warroom` administrators can read it from the database.",
        )
    return row


def _history(rt: Any, inc: Incident) -> list[dict[str, Any]]:
    """Every message, oldest first, with thread replies; progress noted for a big room."""
    assert inc.channel_id
    seen: dict[str, dict[str, Any]] = {}
    cursor, pages, note = None, 0, None
    while True:
        page, cursor = rt.chat.history(inc.channel_id, cursor)
        pages += 1
        for m in page:
            seen.setdefault(m.get("ts", ""), m)
            if m.get("reply_count"):
                for r in _replies(rt, inc.channel_id, m["ts"]):
                    seen.setdefault(r.get("ts", ""), r)
        if not cursor:
            break
        if pages % PROGRESS_EVERY == 1:
            note = _progress(rt, inc, note, len(seen))
    if note:
        _progress(rt, inc, note, len(seen), done=True)
    return sorted(seen.values(), key=lambda m: float(m.get("ts") or 0))


def _replies(rt: Any, channel: str, ts: str) -> list[dict[str, Any]]:
    out, cursor = [], None
    while True:
        page, cursor = rt.chat.history(channel, cursor, thread_ts=ts)
        out += [m for m in page if m.get("ts") != ts]
        if not cursor:
            return out


def _progress(rt: Any, inc: Incident, note: str | None, n: int, done: bool = False) -> str:
    text = f":hourglass_flowing_sand: Exporting evidence: {n} messages read" + (
        ", writing the archive." if done else " so far…"
    )
    if note is None:
        return rt.chat.post(inc.channel_id, text)
    rt.chat.update(inc.channel_id, note, text)
    return note


def _contents(inc: Incident, messages: list[dict[str, Any]], s: Any) -> dict[str, Any]:
    events = timeline.events(s, inc.id)
    audit = s.scalars(
        select(AuditEntry).where(AuditEntry.incident_id == inc.id).order_by(AuditEntry.id)
    )
    return {
        "incident.json": {c.name: getattr(inc, c.name) for c in Incident.__table__.columns},
        "messages.json": messages,
        "files.json": [
            {"message_ts": m.get("ts"), **{k: f.get(k) for k in _FILE_KEYS}}
            for m in messages
            for f in m.get("files") or []
        ],
        "reactions.json": [
            {"message_ts": m.get("ts"), **r} for m in messages for r in m.get("reactions") or []
        ],
        "edits_and_deletions.json": [
            _event(e) for e in events if e.kind in ("message_edited", "message_deleted")
        ],
        "timeline.json": [_event(e) for e in events],
        "audit.json": [
            {c.name: getattr(a, c.name) for c in AuditEntry.__table__.columns} for a in audit
        ],
    }


def _event(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at,
        "recorded_at": e.recorded_at,
        "kind": e.kind,
        "actor": e.actor_id,
        "text": e.text,
        "data": e.data,
    }


def _store(
    rt: Any, inc: Incident, user: str | None, messages: list[dict[str, Any]]
) -> EvidenceExport:
    now = rt.now()
    with rt.db.session() as s:
        s.get(Incident, inc.id, with_for_update=True)  # one export numbered at a time
        seq = (
            s.scalar(
                select(func.max(EvidenceExport.seq)).where(EvidenceExport.incident_id == inc.id)
            )
            or 0
        ) + 1
        previous = s.scalar(
            select(EvidenceExport.manifest_sha256).where(
                EvidenceExport.incident_id == inc.id, EvidenceExport.seq == seq - 1
            )
        )
        head = {"incident": inc.number, "export": seq, "created_at": now.isoformat(), "by": user}
        built = archive.build(_contents(inc, messages, s), head, previous)
        row = EvidenceExport(
            incident_id=inc.id,
            seq=seq,
            created_at=now,
            created_by=user,
            file_name=f"evidence-{inc.number}-{seq:02d}.zip",
            archive=built.data,
            archive_sha256=archive.sha256(built.data),
            manifest_sha256=built.manifest_sha256,
            previous_sha256=previous,
        )
        s.add(row)
        timeline.record(
            s,
            inc.id,
            "evidence",
            at=now,
            actor=user,
            text=f"Evidence export {seq}: {len(messages)} messages, manifest sha256 "
            f"{built.manifest_sha256}",
            data={"manifest_sha256": built.manifest_sha256, "previous": previous},
        )
        s.flush()
        s.expunge(row)
    return row


def _say(rt: Any, inc: Incident, text: str) -> None:
    try:
        rt.chat.post(inc.channel_id, text)
    except ChatError as e:
        log.error("evidence of incident %s: could not say so: %s", inc.id, e.code)


def latest(rt: Any, incident_id: int) -> EvidenceExport | None:
    with rt.db.read() as s:
        return s.scalar(
            select(EvidenceExport)
            .where(EvidenceExport.incident_id == incident_id)
            .order_by(EvidenceExport.seq.desc())
            .limit(1)
        )
