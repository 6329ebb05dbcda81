"""The `warroom` command: serve, migrate, postmortem, stats, and subcommands other packages add."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from importlib.metadata import entry_points
from typing import Any

from bot import logs
from bot.config import ConfigError, load_policy, load_settings
from bot.errors import UserError

log = logging.getLogger("bot.cli")  # not __name__: it is __main__ under `python -m`


def _serve(args: argparse.Namespace) -> int:
    from bot.incident import flows
    from bot.paging.outbox import PageRunner
    from bot.slack.app import build_app
    from bot.slack.server import build_asgi, serve
    from bot.timers.runner import TimerRunner
    from bot.wiring import build_runtime

    settings = load_settings()
    if not settings.slack_signing_secret and not settings.socket_mode:
        raise ConfigError("environment: SLACK_SIGNING_SECRET: required in HTTP mode")
    if not settings.slack_bot_token:
        raise ConfigError("environment: SLACK_BOT_TOKEN: required (xoxb-…)")
    policy = load_policy(settings.warroom_config)
    rt = build_runtime(settings, policy, migrate=args.migrate)
    # A request thread back from the database waits for the GIL while effect threads run
    # Slack calls; Python hands it over every 5 ms by default, and an acknowledgement makes
    # about ten such round trips. At 1 ms the p99 at 50 declarations/s on PostgreSQL fell from
    # over a second to tens of milliseconds (bench/declare_split.py).
    sys.setswitchinterval(0.001)
    bolt = build_app(rt, settings.slack_signing_secret, settings.slack_bot_token)
    _check_playbooks(rt)
    _identify(rt)
    flows.resume_unfinished(rt)
    # Approved actions whose run died with a process: checked and said in their thread, once.
    from commands.actions import interrupted

    interrupted.watch(rt)
    timers = TimerRunner(rt).start()
    pages = PageRunner(rt).start()  # says missing paging keys now, then retries due pages
    for missing in policy.status_page.missing():
        log.error("status page is not ready: %s", missing)
    asgi = build_asgi(bolt, rt)
    # What start-up built (modules, the kubernetes client's models, the app) lives as long as
    # the process: out of the collector's sight, a full collection no longer walks it. Those
    # walks stalled every request for 40-100 ms a few times a minute.
    gc.collect()
    gc.freeze()
    try:
        if settings.socket_mode:
            _socket_mode(bolt, asgi, settings, rt)
        else:
            # uvicorn drains on SIGTERM, then re-raises the signal: a no-op handler lets the
            # clean-up below run instead of the default handler killing the process.
            signal.signal(signal.SIGTERM, lambda *_: None)
            log.info(
                "serving Slack events on http://%s:%s/slack/events", settings.host, settings.port
            )
            serve(asgi, settings.host, settings.port)
    finally:
        # Graceful: stop claiming timers, finish in-flight work, hand back any claim.
        timers.stop()
        pages.stop()
        rt.drain()
        handed_back = timers.release_claims()
        rt.shutdown()
        log.info("stopped: work in flight finished, %d timer claim(s) handed back", handed_back)
    return 0


def _identify(rt: Any) -> None:
    """Ask Slack who the bot is now, so no request waits for `auth.test` later."""
    from bot.chat import ChatError

    try:
        log.info("connected to Slack as %s", rt.chat.bot_user_id)
    except ChatError as e:
        log.warning("Slack did not say who the bot is (%s); asking again when needed", e)


def _socket_mode(bolt: Any, asgi: Any, settings: Any, rt: Any) -> None:
    """Socket Mode needs no public URL; health, readiness and metrics still listen on PORT."""
    import threading

    from bot.slack.server import BackgroundServer
    from bot.slack.socket_mode import WarroomSocketModeHandler

    health = BackgroundServer(asgi, settings.host, settings.port).start()
    handler = WarroomSocketModeHandler(bolt, settings.slack_app_token, rt)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    handler.connect()
    log.info("connected over Socket Mode")
    stop.wait()
    handler.close()
    health.stop()


def _migrate(args: argparse.Namespace) -> int:
    from bot.migrate import upgrade

    settings = load_settings()
    upgrade(settings.resolved_database_url(), args.revision)
    print(f"database at {args.revision}")
    return 0


def _offline_runtime():  # type: ignore[no-untyped-def]
    from bot.wiring import build_runtime

    settings = load_settings()
    return build_runtime(settings, load_policy(settings.warroom_config))


def _postmortem(args: argparse.Namespace) -> int:
    from bot.incident import ops
    from bot.postmortem import ops as pm_ops

    rt = _offline_runtime()
    try:
        inc = ops.by_number(rt, args.incident)
        # Names come from Slack when a token is configured; otherwise user ids are shown.
        online = bool(rt.settings.slack_bot_token)
        names = rt.chat.user_name if online else (lambda u: u or "—")
        bot_user = rt.chat.bot_user_id if online else ""
        pm, note, _ = pm_ops.compile_for(rt, inc.id, None, names, bot_user)
    finally:
        rt.shutdown()
    if args.output:
        with open(args.output, "w") as f:
            f.write(pm.content)
        print(f"{'draft ' if pm.draft else ''}v{pm.version} written to {args.output} ({note})")
    else:
        print(pm.content)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from bot.postmortem import ops as pm_ops

    rt = _offline_runtime()
    try:
        print(pm_ops.metrics(rt, args.window))
    finally:
        rt.shutdown()
    return 0


def _check_playbooks(rt: Any) -> None:
    """A bad team playbook stops the start with its file and line, not a surprise at 3 a.m."""
    from bot.catalog.policy import unknown_playbook
    from bot.playbooks.library import PlaybookError

    try:
        names = rt.playbooks.reload()
    except PlaybookError as e:
        raise ConfigError(f"playbooks: {e}") from None
    unknown = unknown_playbook(getattr(getattr(rt, "policy", None), "services", None) or {}, names)
    if unknown:
        raise ConfigError(unknown)  # a service's default playbook, mistyped or not loaded
    log.info("playbooks: %s", ", ".join(names))


def _playbook_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.playbooks.library import Library, PlaybookError, to_yaml
    from bot.playbooks.markdown import RunbookError, import_runbook
    from commands.actions.playbooks import registry_check

    src = Path(args.runbook)
    try:
        text = src.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"warroom: cannot read {src}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
        return 2
    check = registry_check(load_policy(os.environ.get("WARROOM_CONFIG", "")))
    try:
        result = import_runbook(text, str(src), check=check, name=args.name)
    except RunbookError as e:
        print(f"warroom: {e}", file=sys.stderr)
        return 2
    out = Path(args.output or f"{src.stem}.yaml")
    out.write_text(to_yaml(result.playbooks))
    print(result.report_text())
    try:  # what was written loads back, checked like a team's own file
        names = Library([out], check=check, shipped=False).reload()
    except PlaybookError as e:
        print(f"warroom: the written file does not load: {e}", file=sys.stderr)
        return 2
    print(f"written {out}: {', '.join(names)}")
    return 0


def _evidence_verify(args: argparse.Namespace) -> int:
    from bot.evidence.verify import main as verify

    return verify(args.file, args.previous)


def _add_plugins(sub: argparse._SubParsersAction) -> None:
    """Subcommands other packages add (the sandbox, from `standins`), so the core imports none."""
    for ep in entry_points(group="warroom.cli"):
        ep.load()(sub)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="warroom", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve", help="run the bot (HTTP on /slack/events, or Socket Mode)")
    p.add_argument("--migrate", action="store_true", help="apply migrations before serving")
    p.set_defaults(fn=_serve)
    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(fn=_migrate)
    p = sub.add_parser("postmortem", help="compile an incident's post-mortem (Markdown)")
    p.add_argument("incident", help="the incident number, e.g. 2026-11-22-001")
    p.add_argument("-o", "--output", help="write to FILE instead of standard output")
    p.set_defaults(fn=_postmortem)
    p = sub.add_parser("stats", help="incident metrics over a window")
    p.add_argument("window", nargs="?", default="30d", help="e.g. 30d, 12h, 8w")
    p.set_defaults(fn=_stats)
    p = sub.add_parser("playbook", help="playbooks: import a Markdown runbook")
    psub = p.add_subparsers(dest="playbook_cmd", required=True)
    p = psub.add_parser("import", help="turn a Markdown runbook into playbook YAML, with a report")
    p.add_argument("runbook", help="the runbook, e.g. runbooks/incident-response.md")
    p.add_argument("-o", "--output", help="the YAML file to write (default: RUNBOOK-NAME.yaml)")
    p.add_argument("--name", help="the playbook's name (a prefix when the runbook has several)")
    p.set_defaults(fn=_playbook_import)
    p = sub.add_parser("evidence", help="evidence archives: verify one")
    esub = p.add_subparsers(dest="evidence_cmd", required=True)
    p = esub.add_parser("verify", help="check an archive's manifest and, with --previous, chain")
    p.add_argument("file", help="the archive, e.g. evidence-2026-11-22-001-01.zip")
    p.add_argument("--previous", help="the export before it, to check the chain")
    p.set_defaults(fn=_evidence_verify)
    _add_plugins(sub)
    args = parser.parse_args(argv)
    # A transcript-printing subcommand (the sandbox) asks for quiet text logs; the server logs
    # JSON at LOG_LEVEL.
    if getattr(args, "quiet_logs", False):
        logs.configure("WARNING", "text")
    else:
        level = os.environ.get("LOG_LEVEL", "INFO").upper()
        fmt = os.environ.get("LOG_FORMAT", "json").lower()
        logs.configure(
            level if level in logging.getLevelNamesMapping() else "INFO",
            fmt if fmt in ("json", "text") else "json",
        )
    try:
        return int(args.fn(args))
    except ConfigError as e:
        print(f"warroom: configuration error: {e}", file=sys.stderr)
        return 2
    except UserError as e:
        print(f"warroom: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
