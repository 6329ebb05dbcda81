"""Compile, store and read post-mortems and metrics, each in short transactions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from bot.errors import UserError
from bot.incident import service as incidents
from bot.models import Incident, Postmortem
from bot.postmortem import compile as pm_compile
from bot.postmortem import service, stats
from bot.runtime import Runtime

_WINDOW = re.compile(r"^(\d{1,4})([dhw])$")


def compile_for(
    rt: Runtime,
    inc_id: int,
    actor: str | None,
    names: Callable[[str | None], str],
    bot_user: str = "",
) -> tuple[Postmortem, str, Incident]:
    with rt.db.read() as s:
        inc = incidents.by_id(s, inc_id)
        data = pm_compile.load(s, inc)
    room = f"#{inc.channel_name}" if inc.channel_name else ""
    content = pm_compile.render(
        inc,
        data,
        rt.policy,
        rt.now(),
        names,
        bot_user,
        room,
        rt.policy.postmortem_template,
    )
    with rt.db.session() as s:
        inc = incidents.by_id(s, inc_id, lock=True)
        pm, note = service.store(s, inc, content, actor, rt.now())
    return pm, note, inc


def metrics(rt: Runtime, window_text: str) -> str:
    m = _WINDOW.match(window_text.strip() or "30d")
    if not m:
        raise UserError(f"`{window_text}` is not a window; use e.g. `30d`, `12h` or `8w`.")
    n, unit = int(m.group(1)), m.group(2)
    window = {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[unit]
    if not timedelta(hours=1) <= window <= timedelta(days=3660):
        raise UserError("The window must be between 1 hour and 10 years.")
    with rt.db.read() as s:
        return stats.compute(s, rt.policy, rt.now(), window)
