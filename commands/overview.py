"""Read-only commands: `/incident show`, `/incident list`, `/incident help`."""

from __future__ import annotations

from bot import messages
from bot.incident import ops, visibility
from bot.mrkdwn import escape
from bot.runtime import Runtime
from commands.base import Reply, Request

TIMELINE_SHOWN = 25
# Escaped: the `<placeholders>` would be read as Slack links.
HELP = escape("""*Warroom* — `/incident <command>`
*Anywhere*
• `declare <P0-P3> <title>` — declare an incident and open its war room (no title: a form)
• `list [all]` — open incidents (with `all`, resolved ones too)
• `stats [30d]` — counts, time to acknowledge and resolve, SLA breaches
• `retry <number>` — finish a war room whose setup failed
• `alerts` — unrouted alerts and suggestions waiting for Declare or Ignore
• `help` — this text
*In a war room*
• `status <investigating|identified|mitigating|monitoring|resolved> [message]`
• `update <message>` — post a status update (mirrored to the incidents channel for P0/P1)
• `severity <P0-P3>` — change the severity (SEV1-SEV4 work too)
• `lead @user` · `role comms|scribe @user`
• `page <service or team> [message]` — page an on-call through PagerDuty or Jira Service Management
• `statuspage` — post the status page draft here; *Publish* sends it
• `note <text>` — add a line to the timeline
• `remind <minutes>|off` — status-update reminder cadence for this incident
• `run <action> [args]` — a diagnostic, after approval (`run help` lists them)
• `rollback deployment/<name> [--to-revision N]` · `restart <kind>/<name>`
  · `scale deployment/<name> <n>` · `kill-queries <target> --older-than 5m` — after approval
• `postmortem` — compile the post-mortem draft from the timeline (posted as a file)
• `private` — move the incident into a closed room (a security breach) · `public` — lead only
• `evidence` — export the room's history, timeline and audit as an archive with a SHA-256 manifest
• `set <root_cause|impact|resolution|lessons> <text>` — post-mortem fields
• `action add <text> [@owner] [due:YYYY-MM-DD]` · `action done <n>` · `action list`
• `resolve [summary]` · `reopen` · `show` · `timeline`
Pin a message or react with :pushpin: to put it on the timeline.""")


def help_(rt: Runtime, req: Request, args: str) -> Reply:
    return Reply(HELP)


def show(rt: Runtime, req: Request, args: str) -> Reply:
    inc = ops.find_in_war_room(rt, req.channel_id)
    level = rt.policy.level(inc.severity)
    blocks = messages.card(inc, level, rt.policy.tz, rt.now())
    return Reply(f"{inc.number} {escape(inc.title)}: {inc.status}", blocks)


def timeline(rt: Runtime, req: Request, args: str) -> Reply:
    inc, events = ops.timeline_of(rt, req.channel_id)
    tz = rt.policy.tz
    lines = [
        f"`{messages.when(e.at, tz)}` {f'<@{e.actor_id}>' if e.actor_id else ''} "
        f"*{e.kind}* {escape(e.text)}"
        for e in events[-TIMELINE_SHOWN:]
    ]
    more = len(events) - TIMELINE_SHOWN
    head = f"*Timeline of {inc.number}* ({len(events)} events" + (
        f", the last {TIMELINE_SHOWN} shown)" if more > 0 else ")"
    )
    text = head + "\n" + "\n".join(lines)
    return Reply(text, [messages.section(text)])


def list_(rt: Runtime, req: Request, args: str) -> Reply:
    everything = args.strip().lower() == "all"
    incidents = ops.open_incidents(rt, include_resolved=everything)
    if not incidents:
        return Reply("No incidents." if everything else "No open incidents. :tada:")
    now = rt.now()
    hidden = visibility.hidden_from(rt, incidents, req.user_id)  # need to know
    lines = [
        f":lock: {visibility.label(i)}"
        if i.id in hidden
        else messages.incident_line(i, rt.policy.tz, now)
        for i in incidents
    ]
    head = "*Incidents*" if everything else f"*Open incidents ({len(lines)})*"
    return Reply(head + "\n" + "\n".join(lines), [messages.section(head + "\n" + "\n".join(lines))])
