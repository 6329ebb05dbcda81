"""A post-incident step and the action item it became move together, over the wire on both
databases: ticking the step closes the item (un-ticking opens it again), and `/incident action
done N` ticks the step; the pinned checklist is updated either way."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import ActionItem
from tests.helpers import events, incidents
from tests.test_checklist import declare, press, steps
from tests.test_checklist import the_checklist as checklist_of
from tests.test_checklist_after import clock, ids, tbot  # noqa: F401 (fixtures)


def items(bot, inc) -> dict[str, ActionItem]:
    with bot.rt.db.read() as s:
        rows = s.scalars(select(ActionItem).where(ActionItem.incident_id == inc.id))
        return {i.text: i for i in rows}


def test_ticking_a_post_incident_step_closes_its_action_item_and_undo_opens_it(tbot) -> None:  # noqa: F811
    inc = declare(tbot)
    tbot.cmd("lead @dan", channel=inc.channel_id)
    tbot.cmd("resolve Rolled back", channel=inc.channel_id)
    tbot.settle()
    sid = ids(tbot, inc)
    item = items(tbot, inc)["Confirm full service restoration"]
    assert item.state == "open"
    assert steps(tbot, inc)["outage/confirm-restored"].action_item_id == item.id
    # The pinned checklist was updated at resolution: the steps name their action items.
    press(tbot, inc, "cl_show:post_incident")
    assert f"_Action item {item.number} (`/incident action done {item.number}`)_" in str(
        checklist_of(tbot, inc)["blocks"]
    )

    press(tbot, inc, f"cl_done:{sid['confirm-restored']}", "U0DAN")
    item = items(tbot, inc)["Confirm full service restoration"]
    assert (item.state, item.done_by) == ("done", "U0DAN")
    texts = [e.text for e in events(tbot.rt, inc.id)]
    assert (
        f"Action item {item.number} done: Confirm full service restoration "
        "(checklist step “Confirm full service restoration”)" in texts
    )
    # Done already: `/incident action done` says so rather than closing it twice.
    r = tbot.cmd(f"action done {item.number}", channel=inc.channel_id, user="U0DAN")
    assert "is already done" in r.json["text"]

    press(tbot, inc, f"cl_undo:{sid['confirm-restored']}", "U0DAN")
    item = items(tbot, inc)["Confirm full service restoration"]
    assert (item.state, item.done_by, item.done_at) == ("open", None, None)
    # A step with no action item changes none.
    press(tbot, inc, f"cl_done:{sid['acknowledge']}", "U0DAN")
    assert sum(i.state == "done" for i in items(tbot, inc).values()) == 0


def test_marking_the_action_item_done_ticks_its_step_and_updates_the_checklist(tbot) -> None:  # noqa: F811
    # Another incident's action item first, so ids and per-incident numbers differ.
    tbot.cmd("declare P3 Search results stale")
    [other] = incidents(tbot.rt)
    tbot.cmd("action add Reindex nightly", channel=other.channel_id)
    tbot.cmd("declare P1 checkout: Checkout API returns 500s --type outage")
    inc = next(i for i in incidents(tbot.rt) if i.id != other.id)
    tbot.cmd("resolve Rolled back", channel=inc.channel_id)
    tbot.settle()
    item = items(tbot, inc)["Create the detailed incident timeline"]
    assert (item.number, item.id) == (4, 5)
    before = checklist_of(tbot, inc)
    assert "0 of 30 steps finished" in before["text"]
    # The checklist names the item by the number `/incident action done` takes.
    press(tbot, inc, "cl_show:post_incident")
    [line] = [
        b["text"]["text"]
        for b in checklist_of(tbot, inc)["blocks"]
        if "Create the detailed incident timeline" in b.get("text", {}).get("text", "")
    ]
    assert line.endswith("_Action item 4 (`/incident action done 4`)_")

    tbot.cmd(f"action done {item.number}", channel=inc.channel_id, user="U0CAROL")
    tbot.settle()
    st = steps(tbot, inc)["outage/timeline"]
    assert (st.status, st.by_id) == ("done", "U0CAROL")
    assert "1 of 30 steps finished · 1 done" in checklist_of(tbot, inc)["text"]
    texts = [e.text for e in events(tbot.rt, inc.id)]
    assert (
        f"Checklist: done “Create the detailed incident timeline” (action item {item.number} done)"
        in texts
    )
    # The others stay open, and the item is not closed a second time by the tick.
    assert [e for e in texts if e.startswith(f"Action item {item.number} done")] == [
        f"Action item {item.number} done: Create the detailed incident timeline"
    ]
    assert steps(tbot, inc)["outage/root-cause"].status == "open"
