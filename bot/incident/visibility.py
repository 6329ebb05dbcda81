"""Need to know: a private incident's details are for the members of its war room only.

Membership is what Warroom saw: the people it invited and Slack's member_joined_channel /
member_left_channel events. Everyone else sees at most "private incident NNN", and a command
or button about it from outside answers exactly as if it did not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import messages
from bot.catalog import war_room
from bot.chat import ChatError
from bot.db import insert_for
from bot.evidence.models import WarRoomMember
from bot.incident.service import IncidentError
from bot.models import Incident

log = logging.getLogger(__name__)


def members(s: Session, channel_id: str) -> set[str]:
    rows = s.scalars(select(WarRoomMember.user_id).where(WarRoomMember.channel_id == channel_id))
    return set(rows)


def can_see(s: Session, inc: Incident, user_id: str | None) -> bool:
    """Anyone sees a public incident; a private one only the members of its war room."""
    if not inc.private:
        return True
    if not inc.channel_id or not user_id:
        return user_id is not None and user_id == inc.reporter_id  # room not made yet
    row = s.get(WarRoomMember, (inc.channel_id, user_id))
    return row is not None


def check(rt: Any, inc: Incident, user_id: str, refusal: str) -> Incident:
    """`inc` if the user may see it; else the refusal an unknown incident gets, word for word."""
    with rt.db.read() as s:
        if can_see(s, inc, user_id):
            return inc
    raise IncidentError(refusal)


def hidden_from(rt: Any, incidents: Iterable[Incident], user_id: str) -> set[int]:
    """Ids of the private incidents among `incidents` that `user_id` may not see."""
    private = [i for i in incidents if i.private]
    if not private:
        return set()
    with rt.db.read() as s:
        rooms = set(
            s.scalars(
                select(WarRoomMember.channel_id).where(
                    WarRoomMember.user_id == user_id,
                    WarRoomMember.channel_id.in_([i.channel_id for i in private if i.channel_id]),
                )
            )
        )
    return {
        i.id
        for i in private
        if ((i.channel_id not in rooms) if i.channel_id else i.reporter_id != user_id)
    }


def label(inc: Incident) -> str:
    """All an outsider learns of a private incident."""
    return f"private incident {inc.number}"


def clause(user_id: str | None) -> Any:
    """The same rule as a query's WHERE: public, or private with `user_id` in its war room."""
    rooms = select(WarRoomMember.channel_id).where(WarRoomMember.user_id == (user_id or ""))
    return Incident.private.is_(False) | Incident.channel_id.in_(rooms)


def outsider(rt: Any, channel_id: str, user_id: str) -> bool:
    """True when `channel_id` is a private incident's war room and `user_id` is not in it."""
    if not channel_id:
        return False
    with rt.db.read() as s:
        inc = s.scalar(select(Incident).where(Incident.channel_id == channel_id))
        return inc is not None and not can_see(s, inc, user_id)


def record_members(rt: Any, channel_id: str, users: Iterable[str]) -> None:
    users = [u for u in dict.fromkeys(users) if u]
    if not users or not channel_id:
        return
    with rt.db.session() as s:
        table = WarRoomMember.__table__
        stmt = insert_for(s.get_bind())(table).values(
            [{"channel_id": channel_id, "user_id": u, "since": rt.now()} for u in users]
        )
        s.execute(stmt.on_conflict_do_nothing(index_elements=["channel_id", "user_id"]))


def forget_member(rt: Any, channel_id: str, user_id: str) -> None:
    with rt.db.session() as s:
        s.execute(
            delete(WarRoomMember).where(
                WarRoomMember.channel_id == channel_id, WarRoomMember.user_id == user_id
            )
        )


def is_war_room(rt: Any, channel_id: str) -> bool:
    """Membership is kept for war rooms only (events arrive for every channel the bot is in)."""
    with rt.db.read() as s:
        return s.scalar(select(Incident.id).where(Incident.channel_id == channel_id)) is not None


def invitees(rt: Any, inc: Incident, responders: tuple[str, ...]) -> list[str]:
    """Who a war room brings in; a private one: the reporter and the security responders only."""
    if not inc.private:
        return war_room.invitees(rt, inc, responders)
    users = [inc.reporter_id]
    for who in rt.policy.security_responders:
        if not who.startswith("S"):
            users.append(who)
            continue
        try:
            users += sorted(rt.chat.group_members(who))
        except ChatError as e:
            log.warning("security responders: user group %s not read: %s", who, e.code)
    return list(dict.fromkeys(u for u in users if u))


def announcement(rt: Any, inc: Incident, level: Any) -> tuple[str, list[dict[str, Any]]]:
    """The incidents channel's post: for a private incident its number, severity and whom to
    contact; never its title, impact, service or people (no *Join war room* either)."""
    if not inc.private:
        return messages.announcement(inc, level)
    return messages.private_announcement(inc, rt.policy.security_lead or None)
