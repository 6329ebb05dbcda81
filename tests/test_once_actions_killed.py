"""Approved actions whose `warroom serve` is SIGKILLed mid-run, on PostgreSQL and SQLite.

The Kubernetes stand-in holds each action's call at the worst moment: after the change is stored
and before the answer leaves (the far end applied, the database has not recorded it), or before
anything is done. The process is killed there and a new one started. It must find each run,
settle it once and say so in the request's thread: a change is never applied again (what
Kubernetes shows decides: applied, or not applied and nothing changed); a read-only diagnostic
runs again, once. Timeline and audit say it was interrupted.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.approvals.models import ActionRun
from bot.config import KubernetesTarget, Policy, Targets
from bot.models import ActionRequest, AuditEntry, TimelineEvent
from standins.kubernetes.api import K8sStandIn
from standins.kubernetes.demo import load_demo
from standins.slack.api import SlackStandIn
from standins.slack.driver import SlackDriver
from tests.conftest import SECRET
from tests.processes import Fleet
from tests.test_timer_processes import own_pg, proc_db, reader, rows, wait_ready

__all__ = ["own_pg", "proc_db"]  # fixtures used by name

APPS = "/apis/apps/v1/namespaces/shop"
# command, (method, path) of the call that is held, whether it changes something
ACTIONS = {
    "rollback": ("rollback deployment/checkout -n shop", ("PATCH", f"{APPS}/deployments/checkout")),
    "scale": (
        "scale deployment/payments 4 -n shop",
        ("PATCH", f"{APPS}/deployments/payments/scale"),
    ),
    "restart": ("restart statefulset/postgres -n shop", ("PATCH", f"{APPS}/statefulsets/postgres")),
    "pods": ("run pods -n shop", ("GET", "/api/v1/namespaces/shop/pods")),
}


@pytest.fixture
def cluster() -> K8sStandIn:
    k = K8sStandIn().start()
    load_demo(k)
    yield k
    k.stop()


def _policy(path: Path, k: K8sStandIn) -> Path:
    p = Policy(
        targets=Targets(kubernetes=KubernetesTarget(host=k.url, namespaces=["shop"])),
        rollout_poll_seconds=0.1,
        rollout_watch_seconds=2,
    ).model_dump(mode="json")
    path.write_text(yaml.safe_dump(p))
    return path


def _wait(what: str, ok, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        got = ok()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not after {timeout:g} s"
        time.sleep(0.1)


def _requests(eng) -> dict[str, ActionRequest]:
    return {r.action: r for r in rows(eng, ActionRequest)}


def _thread(standin: SlackStandIn, req: ActionRequest) -> list[str]:
    return [
        m["text"]
        for m in standin.messages(req.channel_id)
        if m.get("thread_ts") == req.message_ts and m["ts"] != req.message_ts
    ]


def _calls(k: K8sStandIn, method: str, path: str) -> int:
    return sum(1 for r in k.requests if r.method == method and r.path == path)


def _state(k: K8sStandIn) -> dict[str, object]:
    dep = k.get("Deployment", "shop", "checkout")
    sts = k.get("StatefulSet", "shop", "postgres")
    return {
        "checkout": (dep["metadata"]["generation"], dep["spec"]["template"]),
        "payments": k.get("Deployment", "shop", "payments")["spec"]["replicas"],
        "postgres": sts["spec"]["template"]["metadata"].get("annotations", {}),
    }


@pytest.mark.parametrize("applied", [True, False], ids=["far-end-applied", "before-far-end"])
def test_a_restart_settles_each_interrupted_action_once(
    proc_db: str, standin: SlackStandIn, cluster: K8sStandIn, tmp_path: Path, applied: bool
) -> None:
    fleet = Fleet(tmp_path, standin, proc_db, _policy(tmp_path / "policy.yaml", cluster))
    with fleet.running(), reader(proc_db) as eng:
        first = fleet.start("serve-1")
        first.wait_healthy()
        driver = SlackDriver(first.url + "/slack/events", SECRET, standin=standin)
        r = driver.command("declare P1 Checkout API returns 500s", "U0ALICE", "C0GENERAL")
        assert r.status == 200, r.body
        [inc] = wait_ready(eng, 1)
        for command, _ in ACTIONS.values():
            assert driver.command(command, "U0ALICE", inc.channel_id).status == 200
        reqs = _wait(
            "four requests waiting with their message",
            lambda: (
                (got := _requests(eng))
                and len(got) == 4
                and all(q.state == "pending" and q.message_ts for q in got.values())
                and got
            ),
        )
        before = _state(cluster)
        gen = before["checkout"][0]
        holds = {
            name: cluster.hold(method, path, applied=applied, timeout=120)
            for name, (_, (method, path)) in ACTIONS.items()
        }
        for q in reqs.values():
            assert (
                driver.press(inc.channel_id, q.message_ts, "approve_action", "U0BOB").status == 200
            )
        for name, h in holds.items():
            assert h.reached.wait(20), f"{name} never reached Kubernetes"
        assert {q.state for q in _requests(eng).values()} == {"running"}

        first.proc.kill()  # SIGKILL at the worst moment
        first.proc.wait(5)
        for h in holds.values():
            h.release()
        after_kill = _state(cluster)
        if applied:  # the far end has the changes; the database does not know
            assert after_kill["checkout"][0] == gen + 1
            assert after_kill["payments"] == 4
            assert "kubectl.kubernetes.io/restartedAt" in after_kill["postgres"]
        else:
            assert after_kill == before

        killed_at = time.monotonic()
        second = fleet.start("serve-2")
        second.wait_healthy()
        up_at = time.monotonic()
        done = _wait(
            "every interrupted request settled",
            lambda: (
                (got := _requests(eng))
                and all(q.state in ("succeeded", "failed") for q in got.values())
                and got
            ),
            timeout=45,
        )
        settled_at = time.monotonic()
        print(
            f"\nsettled {settled_at - killed_at:.1f} s after the kill, "
            f"{settled_at - up_at:.1f} s after the new process answered"
        )
        time.sleep(1.0)  # anything posted twice would land now

        # Never applied twice: exactly the one held write per change, ever.
        for name in ("rollback", "scale", "restart"):
            method, path = ACTIONS[name][1]
            assert _calls(cluster, method, path) == 1, f"{name} written again"
        assert _state(cluster) == after_kill

        for name in ("rollback", "scale", "restart"):
            q = done[name]
            said = "\n".join(_thread(standin, q))
            assert said.count("The process restarted while") == 1, said
            if applied:
                assert q.state == "succeeded", q.summary
                assert "Kubernetes shows it applied" in said and "not apply it again" in said
            else:
                assert q.state == "failed", q.summary
                assert "it was not applied. Nothing was changed" in said
        if applied:
            assert f"generation {gen} → {gen + 1}" in done["rollback"].summary
            assert "replicas 2 → 4" in done["scale"].summary
        else:
            assert f"unchanged (generation still {gen})" in done["rollback"].summary

        # The read-only diagnostic ran again, once, and its result is in the thread.
        pods = done["pods"]
        assert pods.state == "succeeded", pods.summary
        assert _calls(cluster, "GET", ACTIONS["pods"][1][1]) == 2
        said = _thread(standin, pods)
        assert sum("runs again now (once)" in t for t in said) == 1
        assert any("postgres-0" in t for t in said), said

        with Session(eng) as s:
            for q in done.values():
                audit = [
                    a.event
                    for a in s.scalars(select(AuditEntry).where(AuditEntry.request_id == q.id))
                ]
                assert audit.count("interrupted") == 1, (q.action, audit)
                kinds = [
                    e.kind
                    for e in s.scalars(
                        select(TimelineEvent).where(TimelineEvent.incident_id == inc.id)
                    )
                    if (e.data or {}).get("request") == q.id
                ]
                assert kinds.count("action_interrupted") == 1, (q.action, kinds)
                runs = list(
                    s.scalars(
                        select(ActionRun)
                        .where(ActionRun.request_id == q.id)
                        .order_by(ActionRun.attempt)
                    )
                )
                assert runs[0].outcome == "interrupted" and all(r.ended_at for r in runs)
                assert [r.purpose for r in runs] == (
                    ["run", "run"] if q.action == "pods" else ["run", "check"]
                )
