"""`warroom serve` as a subprocess for tests: start it against the Slack stand-in, wait for it,
stop it, and show its log when a test fails."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from standins.slack.api import SlackStandIn
from tests.conftest import SECRET, TOKEN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Serve:
    """One `warroom serve` subprocess; its stderr (the bot's log) goes to a file."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/healthz", timeout=1) as r,
            ):
                if r.status == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: /healthz not answering after {timeout:g} s")

    def terminate(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 10.0) -> int:
        """Wait for exit; kill it if it takes longer than `timeout`."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"{self.name} did not exit within {timeout:g} s") from None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(5)

    def stderr(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError as e:
            return f"(no log: {e})"


class Fleet:
    """Starts serve processes; on failure prints their logs; always leaves none running."""

    def __init__(self, tmp: Path, standin: SlackStandIn, db_url: str, policy: Path) -> None:
        self.tmp = tmp
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_APP_TOKEN": "",
            "SLACK_API_URL": standin.api_url,
            "DATABASE_URL": db_url,
            "REDIS_URL": "",
            "WARROOM_CONFIG": str(policy),
            "WARROOM_DATA_DIR": str(tmp / "data"),
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "text",
        }
        self.procs: list[Serve] = []

    def start(self, name: str) -> Serve:
        port = free_port()
        log = self.tmp / f"{name}.stderr.log"
        with log.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", "--migrate"],
                env={**self.env, "PORT": str(port)},
                cwd=self.tmp,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        serve = Serve(name, proc, port, log)
        self.procs.append(serve)
        return serve

    def dump(self) -> None:
        for p in self.procs:
            code = p.proc.returncode if p.proc.poll() is not None else "running"
            print(f"----- {p.name} (pid {p.proc.pid}, exit {code}) stderr -----")
            print(p.stderr()[-20000:])

    @contextlib.contextmanager
    def running(self) -> Iterator[Fleet]:
        try:
            yield self
        except BaseException:
            self.dump()
            raise
        finally:
            for p in self.procs:
                with contextlib.suppress(Exception):
                    p.kill()
