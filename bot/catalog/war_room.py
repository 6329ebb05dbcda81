"""Who a service-bound incident brings in: the service's owners beside the severity's
responders, at setup (invited) and at escalation (called)."""

from __future__ import annotations

import logging
from typing import Any

from bot.catalog.policy import Service
from bot.chat import ChatError

log = logging.getLogger(__name__)


def service_of(policy: Any, inc: Any) -> Service | None:
    name = getattr(inc, "service", None)
    return (getattr(policy, "services", {}) or {}).get(name) if name else None


def invitees(rt: Any, inc: Any, responders: tuple[str, ...] | list[str]) -> list[str]:
    """The reporter, the severity's responders and the service's owners, user groups expanded
    (a group that cannot be read is logged and skipped: it must not keep the war room empty)."""
    users = [inc.reporter_id, *responders]
    svc = service_of(rt.policy, inc)
    if svc is not None:
        users += svc.owner_users()
        for group in svc.owner_groups():
            try:
                users += sorted(rt.chat.group_members(group))
            except ChatError as e:
                log.warning("owners of %s: user group %s not read: %s", svc.name, group, e.code)
    return list(dict.fromkeys(u for u in users if u))


def with_owners(policy: Any, inc: Any, notify: tuple[str, ...]) -> tuple[str, ...]:
    """An escalation step's people plus the service's owners (ids; groups stay groups)."""
    svc = service_of(policy, inc)
    return tuple(dict.fromkeys([*notify, *(svc.owners if svc else ())]))
