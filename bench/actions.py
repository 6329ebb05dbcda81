"""Benchmark: approve click to result, for diagnostics and remediations.

In one process: the bot over HTTP (uvicorn + Bolt), the Slack stand-in, the Kubernetes API
stand-in with the demo cluster, SQLite. For each sample a request is made and settled, then
the clock starts when the signed *Approve* click is sent and stops when
- diagnostics (`pods`, `logs`): the result is posted in the request's thread;
- remediations (`scale`, `rollback`): the Kubernetes stand-in has received the PATCH.
Not a test; figures depend on the machine.

    .venv/bin/python bench/actions.py --samples 50
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import machine, pct

from bot.config import KubernetesTarget, Policy, Settings, Targets
from bot.migrate import upgrade
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.wiring import build_runtime
from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import load_demo
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver

SECRET = "bench-secret"


def wait_for(pred, timeout: float = 10.0) -> float:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not pred():
        if time.perf_counter() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.0005)
    return time.perf_counter()


def patches(k8s: K8sStandIn) -> int:
    return sum(1 for r in k8s.requests if r.method == "PATCH")


def sample(driver, slack, k8s, rt, room: str, text: str, mutating: bool) -> float:  # type: ignore[no-untyped-def]
    before = len(slack.messages(room))
    driver.command(text, user="U0ALICE", channel=room)
    wait_for(lambda: len(slack.messages(room)) > before)  # the request message
    rt.wait_idle(10)
    msg = next(
        m for m in reversed(slack.messages(room)) if "approve_action" in str(m.get("blocks"))
    )
    n_patches, n_msgs = patches(k8s), len(slack.messages(room))
    t0 = time.perf_counter()
    driver.press(room, msg["ts"], "approve_action", "U0BOB")
    if mutating:
        t1 = wait_for(lambda: patches(k8s) > n_patches)
    else:
        t1 = wait_for(
            lambda: any(m.get("thread_ts") == msg["ts"] for m in slack.messages(room)[n_msgs - 1 :])
        )
    rt.wait_idle(15)  # let the rollout watch finish before the next sample
    return t1 - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=50)
    a = ap.parse_args()
    slack = SlackStandIn(token="xoxb-sandbox").start()
    k8s = K8sStandIn().start()
    load_demo(k8s)
    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite:///{tmp.name}/bench.db"
    upgrade(url)
    policy = Policy(
        targets=Targets(kubernetes=KubernetesTarget(host=k8s.url, namespaces=["shop"])),
        rollout_watch_seconds=0.5,
        rollout_poll_seconds=0.05,
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
        driver.command("declare P1 Bench incident", user="U0ALICE", channel="C0GENERAL")
        rt.wait_idle(10)
        room = next(
            c["id"]
            for c in (
                slack.channel_by_name(n)
                for n in [call.params["name"] for call in slack.calls_to("conversations.create")]
            )
            if c
        )
        pod = next(
            p["metadata"]["name"]
            for p in k8s.objects("Pod", "shop")
            if p["metadata"]["name"].startswith("checkout")
        )
        cases = {
            "pods (diagnostic)": lambda i: "run pods deployment/checkout",
            "logs (diagnostic)": lambda i: f"run logs pod/{pod} --tail 100",
            "scale (remediation)": lambda i: f"scale deployment/payments {2 + i % 2 + 1}",
            "rollback (remediation)": lambda i: "rollback deployment/checkout",
        }
        print(f"Approve click to result, {a.samples} samples each (SQLite, in-process stand-ins)")
        print(f"Machine: {machine()}")
        print(f"{'action':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  measured until")
        for label, text in cases.items():
            mutating = "remediation" in label
            times = []
            for i in range(a.samples):
                times.append(sample(driver, slack, k8s, rt, room, text(i), mutating))
            until = "PATCH received by the API" if mutating else "result posted in thread"
            print(
                f"{label:<24} {pct(times, 50) * 1000:>8.1f} {pct(times, 95) * 1000:>8.1f} "
                f"{max(times) * 1000:>8.1f}  {until}"
            )
    finally:
        server.stop()
        rt.shutdown()
        k8s.stop()
        slack.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
