"""Settling runs whose process died, in process, on both databases: kill-queries is checked
against the previewed backends in real PostgreSQL; a request approved but never started is not
applied late (a change) or runs now (a diagnostic). The SIGKILL tests through `warroom serve`
are in test_once_actions_killed.py; here the dead process is a run row whose lease lapsed."""

from __future__ import annotations

import html
import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy import create_engine, text, update

from bot.approvals import ops, runs, service
from bot.approvals.models import ActionRun
from bot.models import ActionRequest
from commands.actions import interrupted
from tests import test_kubernetes_actions as base
from tests.conftest import PG_ADMIN
from tests.test_kubernetes_actions import requests, thread_texts

k8s, kbot = base.k8s, base.kbot
VICTIM = f"victim-{uuid.uuid4().hex[:8]}"  # other suites run long queries on the same server


def _approved_not_run(bot, req: ActionRequest) -> None:
    d = ops.decide(bot.rt, req.id, "U0BOB", True, lambda g, u: False, bot.room, req.message_ts)
    assert d.run  # approved; the effect that would run it is never started


def _died_running(bot, req: ActionRequest) -> None:
    """Approved and started by a process that is gone: its lease lapsed."""
    _approved_not_run(bot, req)
    with bot.rt.db.session() as s:
        started = service.start(
            s, req.id, bot.rt.now() - timedelta(minutes=1), "gone:1:dead", timedelta(seconds=15)
        )
        assert started is not None


def _fresh(bot, req: ActionRequest) -> ActionRequest:
    return next(r for r in requests(bot) if r.id == req.id)


def _said(bot, req: ActionRequest) -> str:
    return html.unescape("\n".join(thread_texts(bot, req)))


def _only_victim(bot, req: ActionRequest) -> ActionRequest:
    """Other suites' long queries on the shared server may be previewed too: keep ours only."""
    with create_engine(PG_ADMIN).connect() as c:
        pid = c.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"), {"a": VICTIM}
        ).scalar_one()
    mine = [b for b in req.params["backends"] if b[0] == pid]
    assert mine, (pid, req.params["backends"])
    with bot.rt.db.session() as s:
        s.execute(
            update(ActionRequest)
            .where(ActionRequest.id == req.id)
            .values(params={**req.params, "backends": mine})
        )
    return _fresh(bot, req)


def test_kill_queries_interrupted_is_judged_by_the_previewed_backends(kbot) -> None:
    eng = create_engine(PG_ADMIN, connect_args={"application_name": VICTIM})
    errors: list[str] = []

    def long_query() -> None:
        try:
            with eng.connect() as c:
                c.execute(text("SELECT pg_sleep(30)"))
        except Exception as e:
            errors.append(str(e))

    t = threading.Thread(target=long_query)
    t.start()
    try:
        time.sleep(1.5)
        kbot.cmd("kill-queries main --older-than 1s", channel=kbot.room)
        kbot.settle()
        first = _only_victim(kbot, requests(kbot)[-1])
        [[pid, _]] = first.params["backends"]
        _died_running(kbot, first)
        assert interrupted.sweep(kbot.rt) == 1
        first = _fresh(kbot, first)
        assert first.state == "failed", first.summary
        assert f"1 of the 1 previewed backend(s) still there (pids {pid})" in first.summary
        assert "it was not applied. Nothing was changed" in _said(kbot, first)
        assert t.is_alive(), "the check terminated the backend"
        assert interrupted.sweep(kbot.rt) == 0  # settled once

        kbot.cmd("kill-queries main --older-than 1s", channel=kbot.room)
        kbot.settle()
        second = _only_victim(kbot, requests(kbot)[-1])
        _died_running(kbot, second)
        with create_engine(PG_ADMIN).connect() as c:  # what the dead run did before it died
            c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        t.join(10)
        assert interrupted.sweep(kbot.rt) == 1
        second = _fresh(kbot, second)
        assert second.state == "succeeded", second.summary
        assert "none of the 1 previewed backend(s) still there" in _said(kbot, second)
    finally:
        t.join(timeout=35)
        eng.dispose()


def test_an_approved_change_that_never_began_is_not_applied_late(kbot) -> None:
    kbot.cmd("scale deployment/payments 4 -n shop", channel=kbot.room)
    kbot.settle()
    req = requests(kbot)[-1]
    _approved_not_run(kbot, req)
    assert interrupted.sweep(kbot.rt) == 0  # just approved: its process may be about to start
    with kbot.rt.db.session() as s:
        s.execute(
            update(ActionRequest)
            .where(ActionRequest.id == req.id)
            .values(decided_at=kbot.rt.now() - timedelta(minutes=5))
        )
    assert interrupted.sweep(kbot.rt) == 1
    req = _fresh(kbot, req)
    assert req.state == "failed" and "it had not begun" in req.summary
    assert "it was not applied. Nothing was changed" in _said(kbot, req)
    assert kbot.k8s.get("Deployment", "shop", "payments")["spec"]["replicas"] == 2
    assert not [r for r in kbot.k8s.requests if r.method == "PATCH"]


def test_an_approved_diagnostic_that_never_began_runs_now(kbot) -> None:
    kbot.cmd("run pods -n shop", channel=kbot.room)
    kbot.settle()
    req = requests(kbot)[-1]
    _approved_not_run(kbot, req)
    with kbot.rt.db.session() as s:
        s.execute(
            update(ActionRequest)
            .where(ActionRequest.id == req.id)
            .values(decided_at=kbot.rt.now() - timedelta(minutes=5))
        )
    assert interrupted.sweep(kbot.rt) == 1
    req = _fresh(kbot, req)
    assert req.state == "succeeded", req.summary
    assert "CrashLoopBackOff" in _said(kbot, req)


def test_a_diagnostic_interrupted_twice_is_not_run_a_third_time(kbot) -> None:
    kbot.cmd("run pods -n shop", channel=kbot.room)
    kbot.settle()
    req = requests(kbot)[-1]
    _died_running(kbot, req)
    with kbot.rt.db.session() as s:  # the re-run died too
        s.execute(update(ActionRequest).where(ActionRequest.id == req.id).values(state="approved"))
        service.start(
            s, req.id, kbot.rt.now() - timedelta(minutes=1), "gone:2:dead", timedelta(seconds=15)
        )
    gets = len([r for r in kbot.k8s.requests if r.path.endswith("/namespaces/shop/pods")])
    assert interrupted.sweep(kbot.rt) == 1
    req = _fresh(kbot, req)
    assert req.state == "failed" and "interrupted 2 time(s)" in req.summary
    assert len([r for r in kbot.k8s.requests if r.path.endswith("/namespaces/shop/pods")]) == gets


def test_run_again_asks_for_the_same_change_afresh(kbot) -> None:
    kbot.cmd("scale deployment/payments 4 -n shop", channel=kbot.room)
    kbot.settle()
    req = requests(kbot)[-1]
    _died_running(kbot, req)  # died before its write: payments still has 2 replicas
    assert interrupted.sweep(kbot.rt) == 1
    [note] = [
        m
        for m in kbot.slack.messages(kbot.room)
        if m.get("thread_ts") == req.message_ts and "Run again" in str(m.get("blocks"))
    ]
    kbot.driver.press(kbot.room, note["ts"], "run_again", "U0ALICE")
    kbot.settle()
    fresh = requests(kbot)[-1]
    assert fresh.id != req.id and fresh.state == "pending"  # a new approval, never a re-apply
    assert fresh.params["replicas"] == 4 and "from 2 to 4 replicas" in fresh.preview
    assert not [r for r in kbot.k8s.requests if r.method == "PATCH"]


def test_a_run_from_before_leases_is_found_after_an_upgrade(kbot) -> None:
    """A request left `running` by a version that kept no run rows is settled like the rest."""
    kbot.cmd("scale deployment/payments 4 -n shop", channel=kbot.room)
    kbot.settle()
    req = requests(kbot)[-1]
    _approved_not_run(kbot, req)
    with kbot.rt.db.session() as s:
        s.execute(
            update(ActionRequest)
            .where(ActionRequest.id == req.id)
            .values(state="running", started_at=kbot.rt.now() - timedelta(minutes=2))
        )
    assert interrupted.sweep(kbot.rt) == 1
    req = _fresh(kbot, req)
    assert req.state == "failed" and "still at 2 replicas" in req.summary
    assert interrupted.sweep(kbot.rt) == 0


def test_a_diagnostic_put_back_to_run_again_is_not_lost_if_that_process_dies_too(kbot) -> None:
    kbot.cmd("run pods -n shop", channel=kbot.room)
    kbot.settle()
    req = requests(kbot)[-1]
    _died_running(kbot, req)
    with kbot.rt.db.session() as s:  # settled as "run again", then that process died too
        assert runs.take_over(s, req.id, None, kbot.rt.now()) is True
        s.execute(update(ActionRequest).where(ActionRequest.id == req.id).values(state="approved"))
    assert interrupted.sweep(kbot.rt) == 0  # just put back: its process may be starting it
    with kbot.rt.db.session() as s:
        s.execute(
            update(ActionRun)
            .where(ActionRun.request_id == req.id)
            .values(ended_at=kbot.rt.now() - timedelta(minutes=2))
        )
    assert interrupted.sweep(kbot.rt) == 1
    req = _fresh(kbot, req)
    assert req.state == "succeeded", req.summary
