"""An alert storm on one process: 10,000 Alertmanager alerts over 60 s in 20 groups, with repeats
(an alert re-sent in a later notification) and retries (a whole POST sent again), into the real
HTTP hooks, while someone types `/incident list` twice a second. The Slack stand-in enforces
Slack's rate tiers in real time.

Prints incidents opened (20 expected: every route declares a P1), services paged through the
PagerDuty stand-in (each once), alerts on timelines, lost and doubled alerts, war-room alert
posts (coalesced), webhook latency, slash-command acknowledgement latency, CPU and memory. CPU and
memory are the whole process's: the bot, the Slack stand-in and the load generator together.

    .venv/bin/python bench/alert_storm.py                      # SQLite
    .venv/bin/python bench/alert_storm.py --db postgresql
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))
from common import database, machine, pct

from bot.alerts import digest
from bot.alerts.models import Alert
from bot.config import Policy, Settings
from bot.models import Incident, TimelineEvent
from bot.paging.policy import PagingPolicy, PagingTarget
from bot.slack.app import build_app
from bot.slack.server import BackgroundServer, build_asgi
from bot.wiring import build_runtime
from standins.pagerduty.api import PagerDutyStandIn
from standins.slack.api import RateLimits, SlackStandIn
from standins.slack.driver import SlackDriver

SECRET = "bench-signing-secret"
TOKEN = "xoxb-sandbox"
HOOK_TOKEN = "bench-alertmanager-token"
PG_ADMIN = os.environ.get(
    "WARROOM_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PD_KEY = "R0UTINGKEYBENCHR0UTINGKEYBENCH32"


def alerts_policy(groups: int) -> dict:
    """One route per service (each a P1 for its catalog service, which pages its on-call)."""
    return {
        "sources": {"alertmanager": {"kind": "bearer", "secret": HOOK_TOKEN}},
        "routes": [
            {
                "name": f"storm{g:02d}",
                "match": {"service": f"svc{g:02d}"},
                "service": f"svc{g:02d}",
                "action": "declare",
                "severity": "P1",
                "group_by": ["alertname", "service"],
            }
            for g in range(groups)
        ],
    }


def alert(group: int, n: int) -> dict:
    labels = {"alertname": f"Storm{group:02d}", "service": f"svc{group:02d}", "pod": f"p{n}"}
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": f"Storm {group} on pod {n}"},
        "startsAt": "2026-11-22T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": hashlib.sha256(f"{group}/{n}".encode()).hexdigest()[:16],
    }


def notifications(total: int, groups: int, per_post: int, repeats: int, retry_share: float):
    """POST bodies in sending order: each has `per_post - repeats` new alerts of its group and
    `repeats` already sent ones; a share of the POSTs is sent twice (a retry)."""
    rng = random.Random(14)
    posts_wanted = total // per_post
    retries = int(posts_wanted * retry_share)
    firsts = posts_wanted - retries
    sent: dict[int, list[int]] = {g: [] for g in range(groups)}
    bodies = []
    for i in range(firsts):
        g = i % groups
        old = rng.sample(sent[g], min(repeats, len(sent[g])))
        start = len(sent[g])
        new = list(range(start, start + per_post - len(old)))
        sent[g] += new
        body = {
            "version": "4",
            "status": "firing",
            "receiver": "warroom",
            "truncatedAlerts": 0,
            "groupKey": f'{{}}:{{alertname="Storm{g:02d}"}}',
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": [alert(g, n) for n in new + old],
        }
        bodies.append(json.dumps(body).encode())
    for _ in range(retries):  # a retry follows its original closely
        j = rng.randrange(len(bodies))
        bodies.insert(min(j + rng.randrange(1, 5), len(bodies)), bodies[j])
    distinct = sum(len(v) for v in sent.values())
    return bodies, distinct


def post(url: str, body: bytes) -> tuple[int, float]:
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {HOOK_TOKEN}"},
    )
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()
        return r.status, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--alerts", type=int, default=10_000)
    ap.add_argument("--groups", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--per-post", type=int, default=20)
    args = ap.parse_args()
    bodies, distinct = notifications(args.alerts, args.groups, args.per_post, 5, 0.1)

    os.environ["WARROOM_BENCH_PD_KEY"] = PD_KEY
    pagerduty = PagerDutyStandIn({PD_KEY}).start()
    with database(args.db, PG_ADMIN) as url, SlackStandIn(rate_limits=RateLimits()) as slack:
        settings = Settings(
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
            database_url=url,
            redis_url="",
        )
        target = PagingTarget(
            provider="pagerduty", key_env="WARROOM_BENCH_PD_KEY", url=pagerduty.url
        )
        paging = PagingPolicy(targets={f"svc{g:02d}": target for g in range(args.groups)})
        rt = build_runtime(settings, Policy(alerts=alerts_policy(args.groups), paging=paging))
        server = BackgroundServer(build_asgi(build_app(rt, SECRET, TOKEN), rt)).start()
        driver = SlackDriver(
            bot_url=server.url + "/slack/events", signing_secret=SECRET, standin=slack
        )
        driver.forward_events_to_bot()
        hook = server.url + "/hooks/alertmanager"
        latencies: list[float] = []
        statuses: list[int] = []
        acks: list[float] = []
        stop = threading.Event()

        def typist() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                r = driver.command("list", user="U0ALICE", channel="C0GENERAL")
                if r.status == 200:
                    acks.append(time.perf_counter() - t0)
                stop.wait(0.5)

        cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        typing = threading.Thread(target=typist, daemon=True)
        typing.start()
        gap = args.seconds / len(bodies)
        with ThreadPoolExecutor(16) as pool:
            futures = []
            for i, body in enumerate(bodies):
                delay = wall0 + i * gap - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(post, hook, body))
            for f in futures:
                status, took = f.result()
                statuses.append(status)
                latencies.append(took)
        storm_wall = time.monotonic() - wall0
        stop.set()
        typing.join()
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        rt.wait_idle(120)
        time.sleep(digest.EVERY + 1)  # the last coalesced war-room posts
        rt.wait_idle(120)

        with rt.db.read() as s:
            incidents = s.scalar(select(func.count()).select_from(Incident))
            stored = s.scalar(select(func.count()).select_from(Alert))
            unattached = s.scalar(select(func.count()).where(Alert.incident_id.is_(None)))
            on_timeline = s.scalar(select(func.count()).where(TimelineEvent.kind.like("alert_%")))
            keys = s.scalars(
                select(TimelineEvent.source_key).where(TimelineEvent.kind.like("alert_%"))
            ).all()
            rooms = s.scalars(select(Incident.channel_id)).all()
        alert_posts = sum(
            1 for ch in rooms if ch for m in slack.messages(ch) if ":bell:" in m.get("text", "")
        )
        triggers = [a.triggers for a in pagerduty.alerts]
        server.stop()
        rt.shutdown()
        slack.event_sink = None
    pagerduty.stop()

    sent_alerts = sum(len(json.loads(b)["alerts"]) for b in bodies)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    print(
        f"# Alert storm ({args.db}): {sent_alerts} alerts in {len(bodies)} POSTs, "
        f"{args.groups} groups, {storm_wall:.1f} s"
    )
    print(f"# {machine()}")
    print(f"distinct alerts sent                {distinct:8d}")
    print(f"non-2xx answers                     {sum(s >= 300 for s in statuses):8d}")
    print(f"incidents opened                    {incidents:8d}   (expected {args.groups})")
    print(f"alerts stored                       {stored:8d}")
    print(f"alerts on timelines                 {on_timeline:8d}")
    print(f"lost (sent, not stored)             {distinct - stored:8d}")
    print(f"stored but on no incident           {unattached:8d}")
    print(f"doubled (twice on a timeline)       {len(keys) - len(set(keys)):8d}")
    print(f"war-room alert posts (coalesced)     {alert_posts:8d}")
    print(
        f"services paged (PagerDuty alerts)   {len(triggers):8d}   (expected {args.groups}, "
        f"each triggered once: {all(t == 1 for t in triggers)})"
    )
    print(
        f"webhook p50 / p95 / p99             {pct(latencies, 50) * 1000:6.1f} / "
        f"{pct(latencies, 95) * 1000:6.1f} / {pct(latencies, 99) * 1000:6.1f} ms"
    )
    print(
        f"slash-command ack p50 / p99 ({len(acks):3d})  {pct(acks, 50) * 1000:6.1f} / "
        f"{pct(acks, 99) * 1000:6.1f} ms"
    )
    print(
        f"process CPU during the storm        {cpu:8.1f} s "
        f"({cpu / storm_wall * 100:.0f} % of one core)"
    )
    print(f"process peak memory (RSS)           {cpu1.ru_maxrss / 1024:8.0f} MiB")


if __name__ == "__main__":
    main()
