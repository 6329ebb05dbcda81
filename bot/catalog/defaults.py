"""Action arguments a service fills in: `/incident run pods` in checkout's war room means
checkout's pods. Only what was left out is filled; anything typed wins.

`defaults(service, action, args)` is pure; `in_war_room` finds the channel's incident first.
The note it returns says what was filled in, for the reply.
"""

from __future__ import annotations

import shlex
from typing import Any

from bot.catalog.policy import Service
from bot.errors import UserError

# Options that take a value, across the actions (so their value is not read as a target).
_VALUED = {
    "n",
    "namespace",
    "l",
    "selector",
    "tail",
    "since",
    "c",
    "container",
    "for",
    "to-revision",
    "replicas",
    "limit",
    "samples",
    "count",
    "older-than",
}
KUBERNETES = {
    "pods",
    "describe",
    "logs",
    "events",
    "top",
    "rollout-history",
    "rollout-status",
    "restart",
    "rollback",
    "scale",
}
_ONE_DEPLOYMENT = {"rollout-history", "rollout-status", "restart", "rollback", "scale"}
_TARGETS = {"postgres": "PostgreSQL", "redis": "Redis", "health": "health-check"}


def _read(args: str) -> tuple[list[str], set[str]]:
    """(positional words, option names given); quotes as a shell reads them, nothing run."""
    try:
        tokens = shlex.split(args)
    except ValueError:
        return [], {"?"}  # unreadable: fill nothing, let the action's parser say why
    positional, options = [], set()
    it = iter(tokens)
    for tok in it:
        if tok.startswith("-") and not tok.lstrip("-").isdigit():
            name, eq, _ = tok.partition("=")
            key = name.lstrip("-")
            options.add(key)
            if key in _VALUED and not eq:
                next(it, None)
        else:
            positional.append(tok)
    return positional, options


def _only(svc: Service, what: str, names: list[str], usage: str) -> str:
    if len(names) > 1:
        listed = ", ".join(f"`{n}`" for n in names)
        raise UserError(f"Service `{svc.name}` has several {what} ({listed}): name one. {usage}")
    return names[0]


def _target_kind(action: str) -> str | None:
    if action.startswith("pg-") or action == "kill-queries":
        return "postgres"
    if action.startswith("redis-"):
        return "redis"
    if action == "health":
        return "health"
    return None


def defaults(svc: Service, action: str, args: str) -> tuple[str, list[str]]:
    """(args with the service's defaults, the words added); args unchanged when complete."""
    pos, opts = _read(args)
    if "?" in opts:
        return args, []
    added: list[str] = []
    kind = _target_kind(action)
    if kind is not None:
        names = getattr(svc, kind)
        if not pos and names:
            added.append(_only(svc, f"{_TARGETS[kind]} targets", names, _usage(action, "<target>")))
        return _join(added, args), added
    if action not in KUBERNETES or not svc.namespace:
        return args, []
    given_ns = _option(args, ("n", "namespace"))
    if given_ns and given_ns != svc.namespace:
        return args, []  # another namespace: not the service's objects
    refs = svc.workload_refs()
    deployments = svc.deployments
    workload = None
    if action == "pods" and not pos and not opts & {"l", "selector"}:
        if svc.selector:
            added += ["-l", svc.selector]
        elif len(deployments) == 1:
            workload = f"deployment/{deployments[0]}"
    elif action == "top" and pos in ([], ["pods"]) and not opts & {"l", "selector"}:
        if not pos:
            added.append("pods")
        if svc.selector:
            added += ["-l", svc.selector]
    elif action == "events" and not pos and "for" not in opts and len(refs) == 1:
        added += ["--for", f"{refs[0][0]}/{refs[0][1]}"]
    elif action == "logs" and not pos and refs:
        workload = _only(
            svc, "workloads", [f"{k}/{n}" for k, n in refs], _usage(action, "pod/<name>")
        )
    elif action in _ONE_DEPLOYMENT and deployments:
        scale_count = action == "scale" and (
            (len(pos) == 1 and pos[0].isdigit()) or (not pos and "replicas" in opts)
        )
        if not pos or scale_count:
            name = _only(svc, "deployments", deployments, _usage(action, "deployment/<name>"))
            workload = f"deployment/{name}"
    if workload:
        added.insert(0, workload)
    if "n" not in opts and "namespace" not in opts and not (action == "top" and pos == ["nodes"]):
        added += ["-n", svc.namespace]
    # The workload goes first: scale reads `deployment/x <replicas>`.
    if workload:
        return _join([workload], args, added[1:]), added
    return _join(added, args), added


def _option(args: str, names: tuple[str, ...]) -> str | None:
    tokens = shlex.split(args)  # readable: _read checked
    for i, tok in enumerate(tokens):
        name, eq, inline = tok.partition("=")
        if name.lstrip("-") in names and name.startswith("-"):
            return inline if eq else (tokens[i + 1] if i + 1 < len(tokens) else None)
    return None


def _usage(action: str, what: str) -> str:
    run = "" if action in ("restart", "rollback", "scale", "kill-queries") else "run "
    return f"`/incident {run}{action} {what}`"


def _join(before: list[str], args: str, after: list[str] | None = None) -> str:
    words = [shlex.quote(w) for w in before]
    tail = [shlex.quote(w) for w in after or []]
    return " ".join(w for w in [*words, args.strip(), *tail] if w)


def parse(rt: Any, channel_id: str, action: Any, args: str) -> tuple[Any, str]:
    """`action.parse` of the args with the war room's service defaults: (plan, note). The one
    hook `/incident run` calls."""
    full, note = in_war_room(rt, channel_id, action.name, args)
    if not note:
        return action.parse(args, rt.policy), ""
    try:
        return action.parse(full, rt.policy), note
    except UserError:
        # A default the action does not take (`logs` reads pods, not deployments): the request
        # as typed, with its own answer.
        return action.parse(args, rt.policy), ""


def in_war_room(rt: Any, channel_id: str, action: str, args: str) -> tuple[str, str]:
    """(args, a note for the reply) for a request made in a service's war room; unchanged
    elsewhere (outside a war room the request is refused further on, as before)."""
    from bot.incident import service as incidents

    with rt.db.read() as s:
        inc = incidents.by_channel(s, channel_id)
        name = inc.service if inc is not None else None
    svc = (getattr(rt.policy, "services", {}) or {}).get(name) if name else None
    if svc is None:
        return args, ""
    new, added = defaults(svc, action, args)
    if not added:
        return args, ""
    return new, f" Defaults from service `{svc.name}`: `{' '.join(added)}`."
