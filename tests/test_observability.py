"""Metrics, structured logs that never carry secrets, and a graceful SIGTERM."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from bot.config import Policy, PostgresTarget, Targets
from bot.logs import JsonFormatter
from standins.slack.api import SlackStandIn
from tests.conftest import make_bot
from tests.helpers import incidents


def _metrics(bot) -> str:
    with urllib.request.urlopen(bot.url + "/metrics") as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
        return r.read().decode()


def test_metrics_count_commands_slack_calls_and_open_incidents(bot) -> None:
    bot.cmd("declare P1 Checkout API returns 500s")
    bot.cmd("frobnicate")
    bot.cmd("declare P9 Nope")
    text = _metrics(bot)
    assert 'warroom_commands_total{command="declare",outcome="ok"} 1.0' in text
    assert 'warroom_commands_total{command="declare",outcome="refused"} 1.0' in text
    assert 'warroom_commands_total{command="unknown",outcome="refused"} 1.0' in text
    assert 'warroom_open_incidents{severity="P1"} 1.0' in text
    assert 'warroom_slack_calls_total{method="conversations.create",outcome="ok"} 1.0' in text
    assert "warroom_ack_seconds_count 3.0" in text
    room = incidents(bot.rt)[0].channel_id
    bot.cmd("resolve done", channel=room)
    assert 'warroom_open_incidents{severity="P1"} 0.0' in _metrics(bot)


def test_logs_are_json_with_request_ids_and_never_carry_secrets(db_url) -> None:
    token = "xoxb-2048-4096-SuperSecretBotToken"
    secret = "s3cr3t-signing-value-42"
    pg_password = "pgpa55w0rd-very-secret"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    slack = SlackStandIn(token=token).start()
    policy = Policy(
        targets=Targets(
            postgres={
                "main": PostgresTarget(dsn=f"postgresql://app:{pg_password}@127.0.0.1:1/shop")
            }
        )
    )
    try:
        import tests.conftest as c

        saved = (c.TOKEN, c.SECRET)
        c.TOKEN, c.SECRET = token, secret
        try:
            for bot in make_bot(db_url, slack, policy):
                bot.cmd("declare P1 Checkout API returns 500s")
                room = incidents(bot.rt)[0].channel_id
                bot.cmd("run pg-sizes main", channel=room)
                req_msg = [
                    m for m in slack.messages(room) if "approve_action" in str(m.get("blocks"))
                ]
                bot.driver.press(room, req_msg[0]["ts"], "approve_action", "U0BOB")
                bot.settle()
                bot.driver.command(
                    "declare P1 forged", user="U0ALICE", channel="C0GENERAL", sign=False
                )
        finally:
            c.TOKEN, c.SECRET = saved
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        slack.stop()
    out = stream.getvalue()
    assert out, "nothing was logged"
    assert token not in out and secret not in out and pg_password not in out
    lines = [json.loads(line) for line in out.splitlines()]
    assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    assert any("request_id" in line for line in lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_knows_who_it_is_before_serving_and_stops_cleanly_on_sigterm(
    tmp_path, standin
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-sandbox",
        "SLACK_SIGNING_SECRET": "x",
        "SLACK_API_URL": standin.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "REDIS_URL": "",
        "WARROOM_CONFIG": "",
    }
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--migrate"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    assert r.read() == b"ready"
                    break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        # Who the bot is was asked at start-up, not by the first request to need it.
        assert len(standin.calls_to("auth.test")) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, (tmp_path / "serve.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    lines = (tmp_path / "serve.log").read_text().splitlines()
    assert lines and all(json.loads(line)["level"] for line in lines if line.startswith("{"))
