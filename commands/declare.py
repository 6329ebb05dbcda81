"""`/incident declare`, the declare modal and shortcuts, *Join war room* and setup retry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot import messages
from bot.catalog import find as catalog
from bot.errors import UserError
from bot.incident import flows, ops, visibility
from bot.incident.service import IncidentError
from bot.mrkdwn import escape
from bot.runtime import Runtime
from bot.severity import looks_like_severity, normalize
from commands.base import Reply, Request, ok

USAGE = (
    "`/incident declare <P0-P3> <title>`, e.g. `/incident declare P1 Checkout API returns 500s`; "
    "for a service `/incident declare P1 checkout: <title>` or `--service <name>`, and "
    "`--type <type>`; `--private` for a closed war room (a security incident)"
)
FLAGS = ("service", "type", "private")


@dataclass
class Declaration:
    """What `/incident declare …` asked for, before the catalog is consulted."""

    severity: str | None = None
    title: str = ""
    options: dict[str, str] = field(default_factory=dict)
    literal: bool = False  # `--` before the title: no service prefix read from it


def _option(tok: str, nxt: str | None) -> tuple[str, str, int] | None:
    """`--service x` / `--service=x` -> (name, value, tokens used); None if not an option."""
    if not tok.startswith("--") or tok == "--":
        return None
    name, eq, value = tok[2:].partition("=")
    if name.lower() not in FLAGS:
        raise UserError(
            f"`{tok[:40]}` is not an option of declare (it takes --service, --type and "
            f"--private). {USAGE}"
        )
    if name.lower() == "private":
        if eq:
            raise UserError(f"`--private` takes no value; type just `--private`. {USAGE}")
        return "private", "yes", 1
    if not eq:
        if not nxt or nxt.startswith("--"):
            raise UserError(f"`{tok}` needs a value, e.g. `{tok} checkout`. {USAGE}")
        value = nxt
    return name.lower(), value, 1 if eq else 2


def parse(args: str) -> Declaration:
    """Options and the severity lead; options may also close the text. The rest is the title."""
    d, tokens, i = Declaration(), args.split(), 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "--":
            d.literal, i = True, i + 1
            break
        opt = _option(tok, tokens[i + 1] if i + 1 < len(tokens) else None)
        if opt:
            d.options[opt[0]], i = opt[1], i + opt[2]
        elif d.severity is None and looks_like_severity(tok):
            d.severity, i = tok, i + 1
        else:
            break
    rest = tokens[i:]
    while not d.literal and rest:
        last = rest[-1].lower()
        if last == "--private":
            d.options["private"], rest = "yes", rest[:-1]
        elif last in ("--service", "--type"):
            raise UserError(f"`{rest[-1]}` needs a value, e.g. `{last} checkout`. {USAGE}")
        if len(rest) >= 2 and rest[-2].lower() in ("--service", "--type"):
            d.options[rest[-2].lower()[2:]] = rest[-1]
            rest = rest[:-2]
        elif last.startswith(("--service=", "--type=")):
            name, _, value = rest[-1][2:].partition("=")
            d.options[name.lower()] = value
            rest = rest[:-1]
        else:
            break
    d.title = " ".join(rest)
    return d


def _service_and_type(rt: Runtime, d: Declaration) -> tuple[str, str | None, str | None]:
    """(title, service name, type), each checked against the catalog and the known types."""
    svc = catalog.require(rt.policy, d.options["service"]) if "service" in d.options else None
    title = d.title
    if not d.literal and title:
        named, title = catalog.split_prefix(rt.policy, title)
        if named is not None and svc is not None and named.name != svc.name:
            raise UserError(
                f"The title names service `{named.name}` and --service says `{svc.name}`; give one."
            )
        svc = svc or named
    kind = catalog.require_type(rt, d.options["type"]) if "type" in d.options else None
    return title, svc.name if svc else None, kind


def declare_command(rt: Runtime, req: Request, args: str) -> Reply:
    d = parse(args)
    title, service_name, kind = _service_and_type(rt, d)
    if not title:
        # No title: ask for one in the modal (severity, service and type pre-selected if given).
        sev = normalize(d.severity) if d.severity else "P2"
        if not req.trigger_id:
            raise UserError(f"Give a severity and a title: {USAGE}")
        meta = json.dumps({"channel": req.channel_id})
        view = _modal(rt, meta, severity=sev, service=service_name, type=kind)
        return ok("Opening the declaration form…", lambda: rt.chat.open_view(req.trigger_id, view))
    if d.severity is None:
        raise UserError(f"Start with the severity: {USAGE}")
    return declare(
        rt,
        req,
        severity=normalize(d.severity),
        title=title,
        impact="",
        service_name=service_name,
        type=kind,
        private="private" in d.options or _private_type(rt, kind),
    )


def _private_type(rt: Runtime, kind: str | None) -> bool:
    """Types private by default: the policy's `private_types`, or a playbook marked private."""
    if not kind:
        return False
    library = getattr(rt, "playbooks", None)
    pb = library.get(kind) if library is not None and hasattr(library, "get") else None
    return kind in rt.policy.private_types or bool(getattr(pb, "private", False))


def _modal(rt: Runtime, meta: str, **kwargs: Any) -> dict[str, Any]:
    services = [
        (s.name, s.label) for s in sorted(rt.policy.services.values(), key=lambda s: s.name)
    ]
    library = getattr(rt, "playbooks", None)

    def label(t: str) -> str:
        pb = library.get(t) if library is not None and hasattr(library, "get") else None
        return f"{t} — {pb.title}" if pb is not None else t

    types = [(t, label(t)) for t in catalog.known_types(rt)]
    return messages.declare_modal(meta, services=services, types=types, **kwargs)


def declare(
    rt: Runtime,
    req: Request,
    *,
    severity: str,
    title: str,
    impact: str,
    source_link: str = "",
    service_name: str | None = None,
    type: str | None = None,
    private: bool = False,
) -> Reply:
    d = ops.declare(
        rt,
        title=title,
        severity=severity,
        impact=impact,
        reporter=req.user_id,
        team_id=req.team_id,
        channel=req.channel_id,
        source_link=source_link,
        service_name=service_name,
        type=type,
        private=private,
    )
    inc = d.incident
    if d.duplicate:
        where = f"<#{inc.channel_id}>" if inc.channel_id else "its war room (being set up)"
        return ok(
            f"You already declared this: *{inc.number}* {escape(inc.title)} ({inc.severity}) — "
            f"{where}. "
            "Nothing new was created."
        )
    if inc.private:
        return ok(
            _private_declared(rt, inc), lambda: flows.start_war_room(rt, inc.id, req.response_url)
        )
    bound = f" for service `{escape(service_name)}`" if service_name else ""
    kind = f", type `{escape(type)}`" if type else ""
    return ok(
        f":rotating_light: Declared *{inc.number}* ({severity}) {escape(inc.title)}{bound}{kind}. "
        "Opening the war room…",
        lambda: flows.start_war_room(rt, inc.id, req.response_url),
    )


def declare_submitted(
    rt: Runtime, req: Request, values: dict[str, str], private_metadata: str
) -> Reply:
    meta = json.loads(private_metadata or "{}")
    req.channel_id = meta.get("channel", req.channel_id)
    # The form's selects came from the catalog, which may have been reloaded since: check again.
    service = values.get("service") or None
    kind = values.get("type") or None
    return declare(
        rt,
        req,
        severity=normalize(values.get("severity") or "P2"),
        title=values.get("title", ""),
        impact=values.get("impact", ""),
        source_link=meta.get("source", ""),
        service_name=catalog.require(rt.policy, service).name if service else None,
        type=catalog.require_type(rt, kind) if kind else None,
        private=values.get("private") == "private" or _private_type(rt, kind),
    )


def _private_declared(rt: Runtime, inc: Any) -> str:
    """Said to the reporter only; who is invited, and when that is nobody but them."""
    head = (
        f":lock: Declared private incident *{inc.number}* ({inc.severity}) {escape(inc.title)}. "
        "Opening a closed war room: "
    )
    if not rt.policy.security_responders:
        return head + (
            "only you are invited, as no security responders are configured "
            "(`security_responders` in the policy). Invite the people who need to know from the "
            "room."
        )
    return head + "you and the security responders are invited; nobody else is told more."


def declare_from_message(rt: Runtime, req: Request, message_text: str, permalink: str) -> Reply:
    first_line = (message_text.strip().splitlines() or [""])[0][:150]
    meta = json.dumps({"channel": req.channel_id, "source": permalink})
    # The service the message names, when it names exactly one; else none is pre-selected.
    named = catalog.infer(rt.policy, message_text)
    view = _modal(
        rt,
        meta,
        title=first_line,
        impact=message_text[:2000],
        service=named.name if named else None,
    )
    return ok("Opening the declaration form…", lambda: rt.chat.open_view(req.trigger_id, view))


def join_war_room(rt: Runtime, req: Request, incident_id: str) -> Reply:
    inc = ops.get(rt, int(incident_id))
    if inc.private:  # joined by a member's invitation only; answered as if it did not exist
        raise IncidentError(f"No incident with id {incident_id}.")
    if not inc.channel_id:
        raise UserError("The war room is still being set up; try again in a moment.")
    return ok(
        f"Adding you to <#{inc.channel_id}>…", lambda: rt.chat.invite(inc.channel_id, [req.user_id])
    )


def retry_setup(rt: Runtime, req: Request, incident_ref: str) -> Reply:
    ref = incident_ref.strip()
    if not ref:
        raise UserError("Which incident? `/incident retry 2026-11-22-001`")
    if ref.isdigit():
        inc = visibility.check(
            rt, ops.get(rt, int(ref)), req.user_id, f"No incident with id {ref}."
        )
    else:
        inc = ops.by_number(rt, ref)
        visibility.check(rt, inc, req.user_id, f"There is no incident {inc.number}.")
    if inc.ready_at is not None and inc.alert_pinned:
        return ok(f"The war room <#{inc.channel_id}> is already set up.")
    return ok(
        f"Retrying the war-room setup for *{inc.number}*…",
        lambda: flows.start_war_room(rt, inc.id, req.response_url),
    )
