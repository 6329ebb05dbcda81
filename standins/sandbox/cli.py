"""`warroom sandbox`, added to the `warroom` command through the `warroom.cli` entry point."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sandbox", help="try Warroom in the terminal against a local Slack stand-in")
    p.add_argument("--script", help="play a scripted session from FILE and print the transcript")
    p.add_argument("--latency-ms", type=int, default=0, help="added to every Slack call")
    p.add_argument("--web", action="store_true", help="a Slack-like page instead of the terminal")
    p.add_argument("--port", type=int, default=8025, help="the page's port (with --web)")
    p.add_argument("--demo", action="store_true", help="with --web: play the scripted demo")
    # The transcript is the output: logs stay quiet.
    p.set_defaults(fn=_sandbox, quiet_logs=True)


def _sandbox(args: argparse.Namespace) -> int:
    if args.web:
        from standins.sandbox import web

        return web.run(args.port, args.latency_ms, demo=args.demo, script=args.script)
    from standins.sandbox.terminal import run

    return run(script=args.script, latency_ms=args.latency_ms)
