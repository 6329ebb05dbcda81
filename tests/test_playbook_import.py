"""Importing the five runbooks of ../shared/runbooks, checked line by line against golden tables
written from reading them: each fenced line's action and arguments, or why it stays manual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.playbooks.library import Library, to_yaml
from bot.playbooks.markdown import import_runbook
from commands.actions.playbooks import registry_check

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = ROOT.parent / "shared" / "runbooks"

# line: (the line's text, as it starts, action, args) for a mapped line;
# line: (text, None, part of the reason) for a line that stays a manual step.
RUNBOOK_000 = {
    45: ("curl -f http://localhost:8080/health", "health", "{health}"),
    48: ("htop", None, "htop is not allowed"),
    49: ("docker stats", None, "docker is not allowed"),
    58: ("tail -f /var/log/ai-scientist/app.log", None, "tail is not allowed"),
    61: ("journalctl -u ai-scientist -f", None, "journalctl is not allowed"),
    72: ("git log --oneline -10", None, "git is not allowed"),
    84: ("docker-compose restart ai-scientist", None, "docker compose is not allowed"),
    87: ("sudo systemctl restart ai-scientist", None, "sudo is not allowed"),
    93: ("git checkout <previous-tag>", None, "git is not allowed"),
    94: ("docker-compose up -d --build", None, "docker compose is not allowed"),
    103: ("top -p $(pgrep -f ai-scientist)", None, "Warroom runs no shell"),
    106: ("nvidia-smi", None, "nvidia-smi is not allowed"),
    112: ("SELECT * FROM pg_stat_activity WHERE state = 'acti", "pg-activity", "{postgres}"),
}
SKIPPED_000 = [178, 181, 184, 190, 193, 196, 199, 205, 208, 211]
RUNBOOK_001 = {
    96: (
        "kubectl get pods -l app=active-inference-api",
        "pods",
        "-l app=active-inference-api -n {namespace}",
    ),
    97: ("kubectl describe pod <pod-name>", None, "no placeholder for a pod"),
    100: (
        "kubectl logs -f deployment/active-inference-api --",
        "logs",
        "deployment/active-inference-api --tail 100 -n {namespace}",
    ),
    103: (
        "kubectl top pods -l app=active-inference-api",
        "top",
        "pods -l app=active-inference-api -n {namespace}",
    ),
    106: ("curl -f https://database.internal/health", None, "a dependency's endpoint"),
    107: ("curl -f https://cache.internal/health", None, "a dependency's endpoint"),
    113: (
        "kubectl rollout restart deployment/active-inferenc",
        "restart",
        "deployment/active-inference-api -n {namespace}",
    ),
    116: (
        "kubectl scale deployment/active-inference-api --re",
        "scale",
        "deployment/active-inference-api 5 -n {namespace}",
    ),
    119: (
        "kubectl rollout undo deployment/active-inference-a",
        "rollback",
        "deployment/active-inference-api -n {namespace}",
    ),
    132: ("kubectl exec -it postgres-0 -- psql -U postgres -c", None, "arbitrary SQL"),
    135: ("kubectl exec -it postgres-0 -- psql -U postgres -c", "pg-connections", "{postgres}"),
    138: (
        "kubectl exec -it postgres-0 -- psql -U postgres -c",
        "pg-slow-queries",
        "{postgres} --limit 10",
    ),
    141: ("kubectl exec -it postgres-0 -- psql -U postgres -c", "pg-locks", "{postgres}"),
    147: (
        "kubectl exec -it postgres-0 -- psql -U postgres -c",
        "kill-queries",
        "{postgres} --older-than 5m",
    ),
    150: ("kubectl delete pod postgres-0", None, "kubectl delete is not allowed"),
    153: (
        'kubectl patch statefulset postgres -p \'{"spec":{"t',
        None,
        "kubectl patch is not allowed",
    ),
    166: ("kubectl top pods --sort-by=memory", "top", "pods -n {namespace}"),
    169: ("kubectl describe pod <pod-name> | grep -A 10 Event", None, "no placeholder for a pod"),
    172: (
        "kubectl get pods <pod-name> -o jsonpath='{.spec.co",
        None,
        "Warroom shows the pod table",
    ),
    174: ("# Check memory usage over time", None, "a comment on its own"),
    175: ("# Use Grafana dashboard: Pod Memory Usage", None, "a comment on its own"),
    181: (
        "kubectl patch deployment active-inference-api -p '",
        None,
        "kubectl patch is not allowed",
    ),
    184: (
        "kubectl scale deployment/active-inference-api --re",
        "scale",
        "deployment/active-inference-api 3 -n {namespace}",
    ),
    186: ("# Implement circuit breakers for high-memory opera", None, "a comment on its own"),
    199: (
        "kubectl scale deployment/active-inference-api --re",
        None,
        "Scaling to 0 is not allowed",
    ),
    202: ("kubectl logs deployment/active-inference-api > inc", None, "Warroom runs no shell"),
    205: ('grep -i "unauthorized\\|suspicious\\|attack" /var/lo', None, "grep is not allowed"),
    208: ("kubectl exec -it postgres-0 -- psql -U postgres -c", None, "arbitrary SQL"),
    228: ("kubectl get backup latest-backup -o yaml", None, "kubectl get backup is not allowed"),
    231: ("kubectl apply -f restore-job.yaml", None, "kubectl apply is not allowed"),
    234: ("kubectl exec -it postgres-0 -- psql -U postgres -c", None, "arbitrary SQL"),
    240: ("python tests/smoke/test_basic_functionality.py", None, "python is not allowed"),
    243: ("locust -f tests/load/locustfile.py --users=10 --sp", None, "locust is not allowed"),
    246: (
        "kubectl scale deployment/active-inference-api --re",
        "scale",
        "deployment/active-inference-api 3 -n {namespace}",
    ),
    247: ("# Monitor for 15 minutes", None, "a comment on its own"),
    248: (
        "kubectl scale deployment/active-inference-api --re",
        "scale",
        "deployment/active-inference-api 5 -n {namespace}",
    ),
}
SKIPPED_001 = [40, 322, 323, 324, 325, 328, 329, 330, 333, 334, 335, 336, 339, 340, 341, 342]
RUNBOOK_002 = {
    59: ("kubectl get pods -n ai-orchestrator", "pods", "-n {namespace}"),
    60: ("kubectl describe pod <pod-name> -n ai-orchestrator", None, "no placeholder for a pod"),
    65: ("kubectl logs <pod-name> -n ai-orchestrator --tail=", None, "no placeholder for a pod"),
    70: ("kubectl top pods -n ai-orchestrator", "top", "pods -n {namespace}"),
    71: ("kubectl top nodes", "top", "nodes"),
    77: ("kubectl delete pod <pod-name> -n ai-orchestrator", None, "kubectl delete is not allowed"),
    78: ("# Wait for automatic restart", None, "a comment on its own"),
    84: (
        "kubectl scale deployment <deployment-name> --repli",
        None,
        "replica count is a placeholder",
    ),
    114: ("kubectl exec -it <postgres-pod> -- psql -U postgre", "pg-activity", "{postgres}"),
    149: (
        "kubectl scale deployment <deployment-name> --repli",
        None,
        "replica count is a placeholder",
    ),
    155: (
        "SELECT query, mean_time, calls FROM pg_stat_statem",
        "pg-slow-queries",
        "{postgres} --limit 10",
    ),
    161: ("kubectl exec -it <redis-pod> -- redis-cli info", "redis-info", "{redis}"),
    186: ("curl -X GET http://langflow-service:7860/health", "health", "{health}"),
    187: ("curl -X GET http://n8n-service:5678/healthz", None, "another endpoint"),
    236: (
        "kubectl exec -it <postgres-pod> -- pg_restore -U p",
        None,
        "kubectl exec is not allowed",
    ),
    239: ("kubectl exec -it <postgres-pod> -- psql -U postgre", None, "arbitrary SQL"),
    245: ("kubectl rollout restart deployment -n ai-orchestra", None, "names none"),
    248: ("kubectl get pods -n ai-orchestrator", "pods", "-n {namespace}"),
    249: ("curl -f http://api-gateway/health", "health", "{health}"),
    255: (
        "kubectl exec -it <redis-pod> -- redis-cli FLUSHALL",
        None,
        "redis-cli FLUSHALL is not allowed",
    ),
    258: ("curl -X POST http://api-gateway/admin/cache/warmup", None, "curl -X POST"),
}
SKIPPED_002 = []
RUNBOOK_003 = {
    66: ("curl -I https://api.yourapp.com/health", "health", "{health}"),
    67: ("kubectl get pods -A | grep -v Running", None, "all namespaces"),
    68: ("kubectl top nodes", "top", "nodes"),
    81: ("kubectl get pods -o wide -A", None, "all namespaces"),
    82: ("kubectl get nodes -o wide", None, "kubectl get nodes is not allowed"),
    83: ("kubectl get events --sort-by='.lastTimestamp' -A", None, "all namespaces"),
    86: ("kubectl top pods -A", None, "all namespaces"),
    87: ("kubectl top nodes", "top", "nodes"),
    90: (
        "kubectl rollout history deployment/backend -n prod",
        "rollout-history",
        "deployment/backend -n {namespace}",
    ),
    91: ("git log --oneline -10", None, "git is not allowed"),
    94: (
        "kubectl logs -f deployment/backend -n production -",
        "logs",
        "deployment/backend --tail 100 -n {namespace}",
    ),
    95: (
        "kubectl logs -f deployment/frontend -n production ",
        "logs",
        "deployment/frontend --tail 100 -n {namespace}",
    ),
    101: ("kubectl exec -it deployment/postgres -n production", "pg-connections", "{postgres}"),
    104: (
        "kubectl exec -it deployment/postgres -n production",
        "pg-slow-queries",
        "{postgres} --limit 10",
    ),
    107: ("kubectl exec -it deployment/postgres -n production", None, "arbitrary SQL"),
    113: ('curl -w "@curl-format.txt" -s -o /dev/null https:/', None, "curl timing"),
    116: (
        "kubectl exec -it deployment/backend -n production ",
        None,
        "kubectl exec is not allowed",
    ),
    119: (
        "kubectl exec -it deployment/backend -n production ",
        None,
        "kubectl exec is not allowed",
    ),
    129: (
        "kubectl scale deployment/backend --replicas=5 -n p",
        "scale",
        "deployment/backend 5 -n {namespace}",
    ),
    132: (
        "kubectl patch deployment backend -n production -p ",
        None,
        "kubectl patch is not allowed",
    ),
    135: (
        "kubectl rollout restart deployment/backend -n prod",
        "restart",
        "deployment/backend -n {namespace}",
    ),
    141: (
        "kubectl exec -it deployment/postgres -n production",
        "kill-queries",
        "{postgres} --older-than 5m",
    ),
    144: (
        "kubectl exec -it deployment/postgres -n production",
        "pg-slow-queries",
        "{postgres} --limit 5",
    ),
    147: (
        "kubectl rollout restart deployment/postgres -n pro",
        "restart",
        "deployment/postgres -n {namespace}",
    ),
    153: (
        "kubectl logs deployment/backend -n production --si",
        "logs",
        "deployment/backend --since 10m -n {namespace}",
    ),
    156: (
        "kubectl rollout undo deployment/backend -n product",
        "rollback",
        "deployment/backend -n {namespace}",
    ),
    159: (
        "kubectl scale deployment/backend --replicas=1 -n p",
        "scale",
        "deployment/backend 1 -n {namespace}",
    ),
    167: ("curl https://api.yourapp.com/health", "health", "{health}"),
    168: ("curl https://yourapp.com", None, "another endpoint"),
    171: ("curl -X POST https://api.yourapp.com/auth/login -d", None, "curl -X POST"),
    174: (
        "kubectl exec -it deployment/backend -n production ",
        None,
        "kubectl exec is not allowed",
    ),
    180: ('for i in {1..10}; do curl -w "%{time_total}\\n" -s ', None, "Warroom runs no shell"),
    183: (
        "kubectl logs deployment/backend -n production --si",
        "logs",
        "deployment/backend --since 5m -n {namespace}",
    ),
    198: ("kubectl get pods -n production", "pods", "-n {namespace}"),
    199: ("kubectl describe pod <failing-pod> -n production", None, "no placeholder for a pod"),
    204: (
        "kubectl rollout history deployment/backend -n prod",
        "rollout-history",
        "deployment/backend -n {namespace}",
    ),
    209: ("kubectl top pods -n production", "top", "pods -n {namespace}"),
    210: ("kubectl describe node", None, "describe covers pods only"),
    216: (
        "kubectl rollout undo deployment/backend -n product",
        "rollback",
        "deployment/backend -n {namespace}",
    ),
    221: (
        "kubectl scale deployment/backend --replicas=3 -n p",
        "scale",
        "deployment/backend 3 -n {namespace}",
    ),
    226: (
        "kubectl rollout restart deployment/backend -n prod",
        "restart",
        "deployment/backend -n {namespace}",
    ),
    239: (
        "kubectl get pods -l app=postgres -n production",
        "pods",
        "-l app=postgres -n {namespace}",
    ),
    240: (
        "kubectl logs deployment/postgres -n production --t",
        "logs",
        "deployment/postgres --tail 50 -n {namespace}",
    ),
    245: ("kubectl exec -it deployment/postgres -n production", "pg-connections", "{postgres}"),
    250: ("kubectl exec -it deployment/postgres -n production", "pg-activity", "{postgres}"),
    256: (
        "kubectl exec -it deployment/postgres -n production",
        "kill-queries",
        "{postgres} --older-than 10m",
    ),
    261: (
        "kubectl rollout restart deployment/backend -n prod",
        "restart",
        "deployment/backend -n {namespace}",
    ),
    266: (
        "kubectl patch deployment postgres -n production -p",
        None,
        "kubectl patch is not allowed",
    ),
    280: ('curl -w "%{time_total}\\n" -s -o /dev/null https://', None, "curl timing"),
    285: ("kubectl top pods -n production", "top", "pods -n {namespace}"),
    286: ("kubectl top nodes", "top", "nodes"),
    291: (
        "kubectl exec -it deployment/backend -n production ",
        None,
        "kubectl exec is not allowed",
    ),
    297: (
        "kubectl scale deployment/backend --replicas=5 -n p",
        "scale",
        "deployment/backend 5 -n {namespace}",
    ),
    302: (
        "kubectl rollout restart deployment/backend -n prod",
        "restart",
        "deployment/backend -n {namespace}",
    ),
    307: (
        "kubectl patch configmap app-config -n production -",
        None,
        "kubectl patch is not allowed",
    ),
}
SKIPPED_003 = [398, 401, 404, 407, 410, 413]
RUNBOOK_004 = {
    26: ("make health-check", None, "make is not allowed"),
    29: ("docker compose ps", None, "docker compose is not allowed"),
    32: ("curl http://localhost:9090/api/v1/alerts", None, "is not a health endpoint"),
    48: ("make logs-app | tail -100", None, "make is not allowed"),
    51: ("docker stats", None, "docker is not allowed"),
    54: (
        'docker compose exec mongodb mongosh --eval "db.adm',
        None,
        "docker compose is not allowed",
    ),
    57: ("docker compose exec redis redis-cli ping", "redis-ping", "{redis}"),
    73: ("docker compose ps", None, "docker compose is not allowed"),
    76: ("docker compose logs robo-rlhf --tail=100", None, "docker compose is not allowed"),
    79: ("docker stats --no-stream", None, "docker is not allowed"),
    85: (
        "docker compose exec robo-rlhf curl -f mongodb:2701",
        None,
        "docker compose is not allowed",
    ),
    88: ("docker compose exec robo-rlhf curl -f redis:6379", None, "docker compose is not allowed"),
    91: ("curl -f https://api.wandb.ai/health", None, "a dependency's endpoint"),
    97: ("df -h", None, "df is not allowed"),
    100: ("free -h", None, "free is not allowed"),
    103: ("uptime", None, "uptime is not allowed"),
    111: ("docker compose restart robo-rlhf", None, "docker compose is not allowed"),
    114: ("docker compose down", None, "docker compose is not allowed"),
    115: ("docker compose up -d", None, "docker compose is not allowed"),
    121: ("docker compose up -d --scale robo-rlhf=3", None, "docker compose is not allowed"),
    127: ('echo "MAINTENANCE_MODE=true" >> .env', None, "Warroom runs no shell"),
    128: ("docker compose restart robo-rlhf", None, "docker compose is not allowed"),
    144: ("open http://localhost:3000", None, "open is not allowed"),
    147: ("curl http://localhost:9090/api/v1/query?query=rate", None, "Warroom runs no shell"),
    153: (
        'docker compose exec mongodb mongosh --eval "db.cur',
        None,
        "docker compose is not allowed",
    ),
    156: ("docker compose exec redis redis-cli info stats", "redis-info", "{redis}"),
    159: (
        "docker compose exec robo-rlhf python -m py_spy top",
        None,
        "docker compose is not allowed",
    ),
    165: ("docker stats", None, "docker is not allowed"),
    168: ("htop", None, "htop is not allowed"),
    176: ("docker compose up -d --scale robo-rlhf=2", None, "docker compose is not allowed"),
    179: ("docker compose restart robo-rlhf", None, "docker compose is not allowed"),
    185: (
        'docker compose exec mongodb mongosh --eval "db.run',
        None,
        "docker compose is not allowed",
    ),
    188: (
        "docker compose exec redis redis-cli FLUSHEXPIRED",
        None,
        "redis-cli FLUSHEXPIRED is not allowed",
    ),
    192: ("```python", None, "python block"),
    211: (
        'docker compose exec mongodb mongosh --eval "db.run',
        None,
        "docker compose is not allowed",
    ),
    214: ("ls -la backups/ | head -10", None, "ls is not allowed"),
    217: (
        "docker compose exec robo-rlhf python -m robo_rlhf.",
        None,
        "docker compose is not allowed",
    ),
    223: (
        'docker compose exec mongodb mongosh --eval "db.adm',
        None,
        "docker compose is not allowed",
    ),
    226: ("du -sh data/", None, "du is not allowed"),
    234: ('echo "READ_ONLY_MODE=true" >> .env', None, "Warroom runs no shell"),
    235: ("docker compose restart robo-rlhf", None, "docker compose is not allowed"),
    240: ("make db-backup", None, "make is not allowed"),
    241: ("cp -r data/ data_backup_$(date +%Y%m%d_%H%M%S)", None, "Warroom runs no shell"),
    247: ("docker compose stop robo-rlhf", None, "docker compose is not allowed"),
    250: ("make db-reset", None, "make is not allowed"),
    251: (
        "docker compose exec mongodb mongorestore /data/bac",
        None,
        "docker compose is not allowed",
    ),
    254: ("docker compose start robo-rlhf", None, "docker compose is not allowed"),
    270: (
        'docker compose logs robo-rlhf | grep -i "auth\\|log',
        None,
        "docker compose is not allowed",
    ),
    273: ("netstat -tuln", None, "netstat is not allowed"),
    278: ("# Remove from load balancer", None, "a comment on its own"),
    279: ("# Block suspicious IPs at firewall level", None, "a comment on its own"),
    280: ("# Rotate API keys and tokens", None, "a comment on its own"),
    287: ("# Disable affected accounts", None, "a comment on its own"),
    288: ("# Change passwords and API keys", None, "a comment on its own"),
    290: ('echo "SECURITY_LOG_LEVEL=DEBUG" >> .env', None, "Warroom runs no shell"),
    295: ("# Review audit logs", None, "a comment on its own"),
    296: ("# Scan for vulnerabilities", None, "a comment on its own"),
    297: ("# Apply security patches", None, "a comment on its own"),
    302: ("# Re-enable services gradually", None, "a comment on its own"),
    303: ("# Enhanced monitoring", None, "a comment on its own"),
    304: ("# Security review", None, "a comment on its own"),
}
SKIPPED_004 = []

GOLDEN = {
    "000": (RUNBOOK_000, SKIPPED_000),
    "001": (RUNBOOK_001, SKIPPED_001),
    "002": (RUNBOOK_002, SKIPPED_002),
    "003": (RUNBOOK_003, SKIPPED_003),
    "004": (RUNBOOK_004, SKIPPED_004),
}


def _runbook(tag: str) -> Path:
    (path,) = RUNBOOKS.glob(f"{tag}_*")
    return path


def _import(tag: str):
    path = _runbook(tag)
    return import_runbook(path.read_text(), path.name, check=registry_check())


def test_the_five_runbooks_are_there() -> None:
    assert sorted(p.name[:3] for p in RUNBOOKS.iterdir()) == sorted(GOLDEN)


@pytest.mark.parametrize("tag", sorted(GOLDEN))
def test_every_fenced_line_maps_as_the_golden_table_says(tag: str) -> None:
    golden, skipped = GOLDEN[tag]
    lines = _runbook(tag).read_text().splitlines()
    result = _import(tag)
    got = {e.line: e for e in result.report if e.outcome != "skipped"}
    assert sorted(got) == sorted(golden)
    for n, (text, action, expect) in golden.items():
        e = got[n]
        assert lines[n - 1].strip().startswith(text), (n, lines[n - 1])
        assert e.source.strip().startswith(text), (n, e.source)
        if action is None:
            assert (e.outcome, e.action) == ("manual", None), (n, e)
            assert expect in e.why, (n, e.why)
        else:
            assert (e.outcome, e.action, e.args) == ("action", action, expect), (n, e)
    assert [e.line for e in result.report if e.outcome == "skipped"] == skipped


@pytest.mark.parametrize(
    ("tag", "names", "window", "dues"),
    [
        ("000", ["outage", "performance", "security"], {"outage": 15}, set()),
        ("001", ["outage", "database", "memory", "security"], 5, {2, 24, 168}),
        (
            "002",
            ["outage", "high-error-rate", "performance", "workflow-execution-failures"],
            None,
            {24, 168},
        ),
        ("003", ["memory", "database", "outage", "performance"], 5, {2, 168}),
        ("004", ["outage", "performance", "data", "security"], 15, {2, 24, 168}),
    ],
)
def test_types_phases_windows_and_deadlines_come_from_the_headings(
    tag: str, names: list[str], window: int | dict[str, int] | None, dues: set[int]
) -> None:
    result = _import(tag)
    assert [p.name for p in result.playbooks] == names
    for pb in result.playbooks:
        phases = {p.id: p for p in pb.phases}
        want = window.get(pb.name) if isinstance(window, dict) else window
        assert (phases["immediate"].window_minutes if "immediate" in phases else None) == want
        post = phases.get("post_incident")
        assert {s.due_hours for s in post.steps if s.due_hours} == dues if post else not dues
        assert pb.private == (pb.name == "security")
        for _, step in pb.steps():
            assert "**" not in step.title and not step.title.endswith(":")
            # A line with no allow-listed equivalent is shown, never run.
            assert not (step.action and step.code)


def test_nested_bullets_comments_and_manual_code_become_steps() -> None:
    outage = _import("000").playbooks[0]
    titles = [s.title for _, s in outage.steps()]
    assert "Check infrastructure: CPU, memory, disk usage" in titles
    assert "Acknowledge the incident in monitoring system" in titles
    step = next(s for _, s in outage.steps() if s.code == "docker-compose restart ai-scientist")
    assert step.title == "Docker restart" and step.action is None
    health = next(s for _, s in outage.steps() if s.action == "health")
    assert (health.title, health.args) == ("Check service health", "{health}")
    security = _import("004").playbooks[-1]
    assert "Block suspicious IPs at firewall level" in [s.title for _, s in security.steps()]


def test_imported_playbooks_load_back_through_the_library(tmp_path: Path) -> None:
    check = registry_check()
    for tag in sorted(GOLDEN):
        result = _import(tag)
        out = tmp_path / tag / "playbooks.yaml"
        out.parent.mkdir()
        out.write_text(to_yaml(result.playbooks))
        lib = Library([out.parent], check=check, shipped=False)
        assert lib.reload() == sorted(p.name for p in result.playbooks)
        assert [lib.get(p.name) for p in result.playbooks] == result.playbooks


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "playbook", "import", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LOG_FORMAT": "text"},
    )


def test_the_cli_writes_the_playbooks_and_prints_the_report(tmp_path: Path) -> None:
    src = _runbook("001")
    r = _cli(str(src), "-o", "api.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "line  116 [API Service Down/resolution] kubectl scale" in r.stdout
    assert "-> scale deployment/active-inference-api 5 -n {namespace}" in r.stdout
    assert "manual: no allow-listed equivalent: kubectl delete is not allowed" in r.stdout
    assert r.stdout.rstrip().endswith("written api.yaml: database, memory, outage, security")
    lib = Library([tmp_path / "api.yaml"], check=registry_check(), shipped=False)
    assert lib.reload() == ["database", "memory", "outage", "security"]
    r = _cli(str(src), "--name", "lab", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert Library([tmp_path / f"{src.stem}.yaml"], shipped=False).names() == [
        "lab-database",
        "lab-memory",
        "lab-outage",
        "lab-security",
    ]


def test_the_cli_says_in_one_line_what_is_wrong(tmp_path: Path) -> None:
    r = _cli("missing.md", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "warroom: cannot read missing.md: No such file or directory\n"
    (tmp_path / "notes.md").write_text("# Notes\n\nJust words.\n")
    r = _cli("notes.md", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("warroom: notes.md: no phase headings recognised (expected")
    assert not (tmp_path / "notes.yaml").exists()
