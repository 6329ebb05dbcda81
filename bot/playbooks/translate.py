"""One runbook line (shell or SQL) to an allow-listed action, or the reason it stays manual.

Nothing here runs anything: a line is read as text and matched against the few shapes that
have an equivalent in the registry (`kubectl get pods`, `psql … pg_stat_activity`,
`redis-cli info`, `curl -f URL`, …). Everything else stays a manual step shown as code.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

FILTERS = {"grep", "head", "tail", "wc", "sort", "less", "jq"}
_PLACEHOLDER = re.compile(r"^(<[^>]*>|\[[^\]]*\])$")  # <pod-name>, [name]
_HEALTH_PATH = re.compile(r"^/?$|/(health|healthz|healthcheck|ready|readyz|livez|ping|status)/?$")
_INTERVAL = re.compile(r"interval\s+'(\d+)\s*(second|minute|hour|day)s?'", re.I)
_LIMIT = re.compile(r"\blimit\s+(\d+)", re.I)


@dataclass
class Mapped:
    """An action and its argument text, or (action None) the reason the line stays manual."""

    action: str | None
    args: str = ""
    why: str = ""  # manual: why; mapped: what was left out or generalised
    notes: list[str] = field(default_factory=list)
    url: str = ""  # the health URL a `health` step stands for


def manual(why: str) -> Mapped:
    return Mapped(None, why=why)


def _tokens(line: str) -> list[str] | None:
    # `<pod-name>` is a runbook's placeholder, not a redirection: hide it from the lexer.
    hidden = re.sub(r"<([\w.:-]+)>", "\x01\\1\x02", line)
    lex = shlex.shlex(hidden, posix=True, punctuation_chars="|&;<>()")
    lex.whitespace_split = True
    lex.commenters = ""
    try:
        return [t.replace("\x01", "<").replace("\x02", ">") for t in lex]
    except ValueError:
        return None


def translate(line: str, sql: bool = False) -> Mapped:
    """Map one command line. `sql`: the line is a statement from an SQL block."""
    text = line.strip()
    if sql:
        return _sql(text)
    toks = _tokens(text)
    if toks is None:
        return manual("unbalanced quotes: not a command Warroom can read")
    notes: list[str] = []
    for i, t in enumerate(toks):
        if t in ("|", "||") and i:
            rest = toks[i + 1 :]
            if t == "|" and rest and rest[0] in FILTERS and not any(x in rest for x in "|;&><"):
                notes.append(f"the filter `{' '.join(rest)}` is left out: the action shows it all")
                toks = toks[:i]
                break
            return manual("a shell pipeline: Warroom runs no shell")
        if t in (";", "&", "&&", ">", ">>", "<", "(", ")") or t.startswith("$("):
            return manual("shell syntax (redirection, `;`, `&&`, `$(…)`): Warroom runs no shell")
    if not toks:
        return manual("empty")
    m = _command(toks)
    m.notes = notes + m.notes
    return m


def _command(toks: list[str]) -> Mapped:
    prog = toks[0]
    if prog == "sudo":
        return manual("no allow-listed equivalent: sudo is not allowed")
    if prog == "kubectl":
        return _kubectl(toks[1:])
    if prog == "psql":
        return _psql(toks[1:])
    if prog == "redis-cli":
        return _redis(toks[1:])
    if prog == "curl":
        return _curl(toks[1:])
    if prog in ("docker", "docker-compose"):
        inner = _compose_exec(toks)
        if inner and inner[0] in ("psql", "redis-cli"):
            m = _command(inner)
            if m.action:
                m.notes.insert(0, "the target is the service's, not the container named here")
            return m
        verb = "docker compose" if prog == "docker-compose" or toks[1:2] == ["compose"] else prog
        return manual(f"no allow-listed equivalent: {verb} is not allowed")
    return manual(f"no allow-listed equivalent: {prog} is not allowed")


def _compose_exec(toks: list[str]) -> list[str] | None:
    rest = toks[2:] if toks[0] == "docker" and toks[1:2] == ["compose"] else toks[1:]
    if not rest or rest[0] != "exec":
        return None
    args = [a for a in rest[1:] if not a.startswith("-")]
    return args[1:] if len(args) > 1 else None


# kubectl ---------------------------------------------------------------------------------
_VALUE_FLAGS = {"-n", "--namespace", "-l", "--selector", "--tail", "--since", "-c", "--container"}
_VALUE_FLAGS |= {"-o", "--output", "--sort-by", "--replicas", "--to-revision", "-p", "--for"}


def _kflags(args: list[str]) -> tuple[list[str], dict[str, str]]:
    pos: list[str] = []
    opts: dict[str, str] = {}
    it = iter(args)
    for a in it:
        if a == "--":
            pos.append("--")
            pos.extend(it)
            break
        if a.startswith("-") and not a.lstrip("-").isdigit():
            name, eq, val = a.partition("=")
            if name in _VALUE_FLAGS and not eq:
                val = next(it, "")
            opts[name] = val if (eq or name in _VALUE_FLAGS) else "true"
        else:
            pos.append(a)
    return pos, opts


def _object(pos: list[str], kinds: tuple[str, ...]) -> tuple[str, str] | None:
    """`deployment/x` or `deployment x` -> ("deployment", "x")."""
    aliases = {"deploy": "deployment", "deployments": "deployment", "po": "pod", "pods": "pod"}
    if not pos:
        return None
    if "/" in pos[0]:
        kind, _, name = pos[0].partition("/")
    elif len(pos) >= 2:
        kind, name = pos[0], pos[1]
    else:
        return None
    kind = aliases.get(kind, kind)
    return (kind, name) if kind in kinds else None


def _workload(kind: str, name: str, notes: list[str]) -> str:
    if _PLACEHOLDER.match(name):
        notes.append(f"`{name}` is the incident service's workload: {{workload}}")
        return "{workload}"
    return f"{kind}/{name}"


def _kubectl(args: list[str]) -> Mapped:
    if not args:
        return manual("kubectl with no verb")
    verb, rest = args[0], args[1:]
    if verb == "exec":
        pos, _ = _kflags(rest)
        inner = pos[pos.index("--") + 1 :] if "--" in pos else []
        if inner and inner[0] in ("psql", "redis-cli"):
            m = _command(inner)
            if m.action:
                m.notes.insert(0, "the target is the service's, not the pod named here")
            return m
        return manual("no allow-listed equivalent: kubectl exec is not allowed (no shell)")
    if verb == "rollout" and rest:
        verb, rest = f"rollout {rest[0]}", rest[1:]
    pos, opts = _kflags(rest)
    notes: list[str] = []
    if "-A" in opts or "--all-namespaces" in opts:
        return manual("all namespaces: Warroom reads only the namespaces the policy allows")
    ns = opts.get("-n") or opts.get("--namespace")
    if ns:
        notes.append(f"namespace `{ns}` is the incident service's: {{namespace}}")
    nsarg = " -n {namespace}"  # always: a policy may allow several namespaces
    handler = _KUBECTL.get(verb)
    if handler is None:
        return manual(f"no allow-listed equivalent: kubectl {verb} is not allowed")
    m = handler(pos, opts, notes)
    if m.action and m.args != "nodes":  # nodes are cluster-wide
        m.args = (m.args + nsarg).strip()
        m.notes = notes + m.notes
    return m


def _k_get(pos: list[str], opts: dict[str, str], notes: list[str]) -> Mapped:
    what = pos[0] if pos else ""
    if what in ("events", "event", "ev"):
        if "--sort-by" in opts:
            notes.append("--sort-by is left out: events are shown newest first")
        return Mapped("events")
    if what not in ("pods", "pod", "po"):
        return manual(f"no allow-listed equivalent: kubectl get {what} is not allowed")
    out = opts.get("-o") or opts.get("--output") or ""
    if out and out != "wide":
        return manual(f"-o {out}: Warroom shows the pod table, not raw fields")
    if len(pos) > 1:
        return manual("one pod by name: `describe pod/NAME` shows it")
    sel = opts.get("-l") or opts.get("--selector")
    return Mapped("pods", f"-l {sel}" if sel else "")


def _k_describe(pos: list[str], opts: dict[str, str], notes: list[str]) -> Mapped:
    obj = _object(pos, ("pod",))
    if obj is None:
        return manual("describe covers pods only (`describe pod/NAME`)")
    if _PLACEHOLDER.match(obj[1]):
        return manual(f"names one pod to pick at the time ({obj[1]}): no placeholder for a pod")
    return Mapped("describe", f"pod/{obj[1]}")


def _k_logs(pos: list[str], opts: dict[str, str], notes: list[str]) -> Mapped:
    if not pos:
        return manual("logs of what? no pod or deployment named")
    target = pos[0] if "/" in pos[0] else f"pod/{pos[0]}"
    kind, _, name = target.partition("/")
    if _PLACEHOLDER.match(name):
        if kind == "pod":
            return manual(f"names one pod to pick at the time ({name}): no placeholder for a pod")
        target = _workload(kind, name, notes)
    if "-f" in opts or "--follow" in opts:
        notes.append("-f is left out: the action shows the last lines, it does not follow")
    args = [target]
    for flag in ("--tail", "--since"):
        if opts.get(flag):
            args.append(f"{flag} {opts[flag]}")
    if "--previous" in opts or "-p" in opts:
        args.append("--previous")
    c = opts.get("-c") or opts.get("--container")
    if c:
        args.append(f"-c {c}")
    return Mapped("logs", " ".join(args))


def _k_top(pos: list[str], opts: dict[str, str], notes: list[str]) -> Mapped:
    what = pos[0] if pos else ""
    if what in ("node", "nodes", "no"):
        return Mapped("top", "nodes")
    if what not in ("pod", "pods", "po"):
        return manual(f"top {what}: only `top pods` and `top nodes`")
    if "--sort-by" in opts:
        notes.append(f"--sort-by={opts['--sort-by']} is left out")
    sel = opts.get("-l") or opts.get("--selector")
    return Mapped("top", "pods" + (f" -l {sel}" if sel else ""))


def _deploy_verb(action: str, keep: tuple[str, ...] = ()):
    def handle(pos: list[str], opts: dict[str, str], notes: list[str]) -> Mapped:
        kinds = (
            ("deployment", "statefulset", "daemonset") if action == "restart" else ("deployment",)
        )
        obj = _object(pos, kinds)
        if obj is None:
            return manual(f"{action} needs one named workload (`deployment/NAME`); this names none")
        args = [_workload(*obj, notes)]
        args += [f"{k} {opts[k]}" for k in keep if opts.get(k)]
        return Mapped(action, " ".join(args))

    return handle


def _k_scale(pos: list[str], opts: dict[str, str], notes: list[str]) -> Mapped:
    obj = _object(pos, ("deployment",))
    if obj is None:
        return manual("scale needs one named deployment (`deployment/NAME`)")
    replicas = opts.get("--replicas", "")
    if not replicas.isdigit():
        return manual(f"the replica count is a placeholder ({replicas or 'none'}): say a number")
    return Mapped("scale", f"{_workload(*obj, notes)} {replicas}")


_KUBECTL = {
    "get": _k_get,
    "describe": _k_describe,
    "logs": _k_logs,
    "top": _k_top,
    "scale": _k_scale,
    "rollout restart": _deploy_verb("restart"),
    "rollout undo": _deploy_verb("rollback", ("--to-revision",)),
    "rollout history": _deploy_verb("rollout-history"),
    "rollout status": _deploy_verb("rollout-status"),
}


# psql, SQL, redis-cli, curl ---------------------------------------------------------------
def _psql(args: list[str]) -> Mapped:
    sql = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-c", "--command")), None)
    if sql is None:
        return manual("an interactive psql session: Warroom runs named queries only")
    m = _sql(sql)
    if m.action:
        m.notes.insert(0, "the database is the incident service's: {postgres}")
    return m


def _sql(sql: str) -> Mapped:
    low = sql.lower()
    limit = _LIMIT.search(sql)
    lim = f" --limit {limit.group(1)}" if limit else ""
    if "pg_terminate_backend" in low:
        iv = _INTERVAL.search(sql)
        if not iv:
            return manual("kill-queries needs an age (--older-than); this statement gives none")
        n, unit = int(iv.group(1)), iv.group(2).lower()
        age = {"second": f"{n}s", "minute": f"{n}m", "hour": f"{n}h", "day": f"{n * 24}h"}[unit]
        extra = ["only active queries are terminated"] if "state" not in low else []
        return Mapped("kill-queries", f"{{postgres}} --older-than {age}", notes=extra)
    if "pg_locks" in low:
        return Mapped("pg-locks", "{postgres}" + lim)
    if "pg_stat_statements" in low:
        return Mapped("pg-slow-queries", "{postgres}" + lim)
    if "pg_stat_activity" in low:
        if re.search(r"select\s+count\(\*\)\s+from\s+pg_stat_activity\s*;?\s*$", low):
            return Mapped("pg-connections", "{postgres}")
        return Mapped("pg-activity", "{postgres}" + lim)
    first = sql.split()[0].upper() if sql.split() else ""
    return manual(f"no allow-listed equivalent: arbitrary SQL ({first} …) is not run")


def _redis(args: list[str]) -> Mapped:
    words: list[str] = []
    it = iter(args)
    for a in it:
        if a in ("-h", "-p", "-a", "-n", "-u", "-s", "--user", "--pass", "--tls-cert"):
            next(it, None)  # connection options: the target is the service's
        elif not a.startswith("-"):
            words.append(a)
    sub = words[0].lower() if words else ""
    if sub == "info":
        notes = [f"section `{words[1]}` left out: all of INFO is shown"] if len(words) > 1 else []
        return Mapped("redis-info", "{redis}", notes=notes)
    if sub == "slowlog":
        n = words[2] if len(words) > 2 and words[2].isdigit() else ""
        return Mapped("redis-slowlog", "{redis}" + (f" --count {n}" if n else ""))
    if sub == "ping":
        return Mapped("redis-ping", "{redis}")
    if not sub:
        return manual("an interactive redis-cli session: Warroom runs named commands only")
    return manual(f"no allow-listed equivalent: redis-cli {words[0]} is not allowed")


def _curl(args: list[str]) -> Mapped:
    urls = [a for a in args if re.match(r"^https?://", a)]
    method = "GET"
    for i, a in enumerate(args):
        if a in ("-X", "--request") and i + 1 < len(args):
            method = args[i + 1].upper()
        if a in ("-d", "--data", "--data-raw", "-F", "--form", "-T"):
            method = "POST"
        if a in ("-w", "--write-out", "-o", "--output"):
            return manual("curl timing/output options: not a health check Warroom runs")
    if len(urls) != 1:
        return manual("curl without one http(s) URL: not a health check")
    if method not in ("GET", "HEAD"):
        return manual(f"curl -X {method}: Warroom only reads health endpoints")
    path = urlsplit(urls[0]).path
    if not _HEALTH_PATH.search(path):
        return manual(f"{path} is not a health endpoint")
    return Mapped("health", "{health}", url=urls[0])
