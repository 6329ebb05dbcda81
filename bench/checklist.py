"""Benchmark: a checklist click until the pinned checklist shows it, and a 60-step playbook's size.

In one process: the bot over HTTP (uvicorn + Bolt), the Slack stand-in, SQLite or PostgreSQL.
An incident is declared for a catalog service with `--type outage`; each sample presses *Done*
(or *Undo*, alternately) on a step of the checklist, and the clock stops when the stand-in holds
the message updated in place (chat.update landed). Then a 60-step team playbook is attached and
its message's blocks and characters are counted, as Slack would see them. Not a test.

    .venv/bin/python bench/checklist.py --samples 200 --db sqlite --db postgresql
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from common import database, machine, pct

from bot.config import KubernetesTarget, Policy, Settings, Targets
from bot.models import Incident
from bot.playbooks import flows
from bot.playbooks.messages import _chars
from bot.playbooks.models import Checklist, ChecklistStep
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.wiring import build_runtime
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver

SECRET = "bench-secret"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def wait_for(pred, timeout: float = 10.0) -> float:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not pred():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.0005)
    return time.perf_counter()


def big_playbook(folder: Path) -> None:
    phases = []
    for pid in ("immediate", "investigation", "resolution", "recovery", "post_incident"):
        steps = []
        for i in range(12):
            step: dict = {"id": f"{pid[:4]}-{i}", "title": f"Step {i} of {pid}: " + "word " * 30}
            if pid in ("investigation", "resolution"):
                step.update(action="pods", args="{workload} -n {namespace}")
            elif pid == "post_incident":
                step["due_hours"] = 24
            else:
                step["code"] = "kubectl patch deployment checkout -p '{...}' " * 5
            steps.append(step)
        phases.append({"id": pid, "title": f"{pid} phase", "steps": steps})
    pb = {"name": "big", "title": "Sixty steps", "phases": phases}
    (folder / "big.yaml").write_text(yaml.safe_dump(pb))


def run(kind: str, samples: int) -> None:
    slack = SlackStandIn(token="xoxb-sandbox").start()
    tmp = tempfile.TemporaryDirectory()
    big_playbook(Path(tmp.name))
    with database(kind, PG_ADMIN) as url:
        k8s = KubernetesTarget(host="http://127.0.0.1:9", namespaces=["shop"])
        policy = Policy(
            targets=Targets(kubernetes=k8s),
            services={"checkout": {"namespace": "shop", "workloads": ["deployment/checkout"]}},
            playbooks_dir=tmp.name,
        )
        settings = Settings(
            slack_bot_token="xoxb-sandbox",
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            database_url=url,
        )
        rt = build_runtime(settings, policy)
        server = BackgroundServer(build_asgi(build_app(rt, SECRET, "xoxb-sandbox"), rt)).start()
        driver = SlackDriver(server.url + "/slack/events", SECRET, standin=slack)
        try:
            driver.command(
                "declare P1 checkout: Bench outage --type outage", user="U0ALICE", channel="C0GEN"
            )
            rt.wait_idle(15)
            with rt.db.read() as s:
                inc = s.scalars(select(Incident)).one()
                ts = s.get(Checklist, inc.id).message_ts
                sid = s.scalar(
                    select(ChecklistStep.id).where(
                        ChecklistStep.incident_id == inc.id, ChecklistStep.step_id == "acknowledge"
                    )
                )
            room = inc.channel_id
            times = []
            for i in range(samples):
                undo = i % 2 == 1
                button = f"cl_undo:{sid}" if undo else f"cl_done:{sid}"
                after = f"cl_done:{sid}" if undo else f"cl_undo:{sid}"
                t0 = time.perf_counter()
                driver.press(room, ts, button, "U0ALICE")
                t1 = wait_for(lambda a=after: a in str(slack.message(room, ts)["blocks"]))
                times.append(t1 - t0)
                rt.wait_idle(10)
            print(
                f"{kind:<11} click → message updated: p50 {pct(times, 50) * 1000:.1f} ms, "
                f"p95 {pct(times, 95) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
                f"({samples} clicks, Done/Undo alternating)"
            )
            driver.command("type big", user="U0ALICE", channel=room)
            rt.wait_idle(15)
            # The most it lists: two unfinished phases and a third opened with *Show*.
            driver.press(room, ts, "cl_show:post_incident", "U0ALICE")
            rt.wait_idle(15)
            blocks = slack.message(room, ts)["blocks"]
            longest = max(len((b.get("text") or {}).get("text", "")) for b in blocks)
            t0 = time.perf_counter()
            for _ in range(50):
                flows.render(rt, inc.id)
            per = (time.perf_counter() - t0) / 50
            print(
                f"{kind:<11} 60-step playbook (+30 kept steps): {len(blocks)} blocks (limit 50), "
                f"{len(json.dumps(blocks))} characters of blocks JSON ({_chars(blocks)} of text, "
                f"Slack refuses ~13,200), longest section "
                f"{longest} characters (limit 3000); render from the DB {per * 1000:.1f} ms"
            )
        finally:
            server.stop()
            rt.shutdown()
            slack.stop()
            tmp.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--db", action="append", choices=["sqlite", "postgresql"])
    a = ap.parse_args()
    print("Checklist click to message updated in place (in-process Slack stand-in)")
    print(f"Machine: {machine()}")
    for kind in a.db or ["sqlite", "postgresql"]:
        run(kind, a.samples)


if __name__ == "__main__":
    main()
