"""Each runbook command shape the importer knows, and the ones it refuses, one line at a time;
every mapped line also parses with the action's own parser."""

from __future__ import annotations

import pytest

from bot.playbooks.translate import translate
from commands.actions.playbooks import registry_check

MAPPED = [
    ("kubectl get pods -l app=checkout", "pods", "-l app=checkout -n {namespace}"),
    ("kubectl get pods -n shop -o wide", "pods", "-n {namespace}"),
    (
        "kubectl logs deployment/checkout --tail=100",
        "logs",
        "deployment/checkout --tail 100 -n {namespace}",
    ),
    (
        "kubectl logs pod/checkout-1 -c app --previous",
        "logs",
        "pod/checkout-1 --previous -c app -n {namespace}",
    ),
    ("kubectl logs -f deployment/[name] -n [namespace]", "logs", "{workload} -n {namespace}"),
    ("kubectl top pods", "top", "pods -n {namespace}"),
    ("kubectl top nodes", "top", "nodes"),
    (
        "kubectl rollout restart deployment/checkout",
        "restart",
        "deployment/checkout -n {namespace}",
    ),
    ("kubectl rollout restart statefulset/redis", "restart", "statefulset/redis -n {namespace}"),
    (
        "kubectl rollout undo deployment/checkout --to-revision=3",
        "rollback",
        "deployment/checkout --to-revision 3 -n {namespace}",
    ),
    (
        "kubectl rollout history deploy/checkout",
        "rollout-history",
        "deployment/checkout -n {namespace}",
    ),
    (
        "kubectl rollout status deployment/checkout",
        "rollout-status",
        "deployment/checkout -n {namespace}",
    ),
    (
        "kubectl scale deployment/checkout --replicas=4",
        "scale",
        "deployment/checkout 4 -n {namespace}",
    ),
    (
        "kubectl scale deployment checkout --replicas 2",
        "scale",
        "deployment/checkout 2 -n {namespace}",
    ),
    ("kubectl describe pod checkout-1", "describe", "pod/checkout-1 -n {namespace}"),
    ("kubectl get events -n shop", "events", "-n {namespace}"),
    ('psql -c "SELECT * FROM pg_stat_activity LIMIT 5"', "pg-activity", "{postgres} --limit 5"),
    ('psql -U x -c "SELECT count(*) FROM pg_stat_activity;"', "pg-connections", "{postgres}"),
    ('psql -c "SELECT * FROM pg_locks WHERE NOT granted"', "pg-locks", "{postgres}"),
    ('psql -c "SELECT query FROM pg_stat_statements"', "pg-slow-queries", "{postgres}"),
    (
        'psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
        "WHERE query_start < now() - interval '2 hours'\"",
        "kill-queries",
        "{postgres} --older-than 2h",
    ),
    ("redis-cli info", "redis-info", "{redis}"),
    ("redis-cli -h cache slowlog get 25", "redis-slowlog", "{redis} --count 25"),
    ("curl -f https://shop.example/health", "health", "{health}"),
    ("curl -sI https://shop.example/", "health", "{health}"),
]

MANUAL = [
    ("kubectl delete pod checkout-1", "kubectl delete is not allowed"),
    ("kubectl patch deployment x -p '{}'", "kubectl patch is not allowed"),
    ("docker-compose restart api", "docker compose is not allowed"),
    ("git checkout v1.2.3", "git is not allowed"),
    ("htop", "htop is not allowed"),
    ("tail -f /var/log/app.log", "tail is not allowed"),
    ("kubectl get pods -A", "all namespaces"),
    ("kubectl scale deployment/x --replicas=<n>", "replica count is a placeholder"),
    ("kubectl describe pod <pod-name>", "no placeholder for a pod"),
    ("kubectl exec -it api-0 -- bash", "kubectl exec is not allowed"),
    ('psql -c "DELETE FROM orders"', "arbitrary SQL (DELETE"),
    ('psql -c "SELECT pg_terminate_backend(42)"', "needs an age"),
    ("redis-cli FLUSHALL", "redis-cli FLUSHALL is not allowed"),
    ("curl -X DELETE https://shop.example/health", "curl -X DELETE"),
    ("curl https://shop.example/api/orders", "/api/orders is not a health endpoint"),
    ("kubectl logs deployment/x > out.txt", "Warroom runs no shell"),
    ("kubectl get pods | xargs kubectl delete", "a shell pipeline"),
    ("echo 'unbalanced", "unbalanced quotes"),
]


@pytest.mark.parametrize(("line", "action", "args"), MAPPED)
def test_a_runbook_line_maps_to_the_allow_listed_action(line: str, action: str, args: str) -> None:
    m = translate(line)
    assert (m.action, m.args) == (action, args), m
    registry_check()(m.action, m.args)  # and the action's own parser takes it


@pytest.mark.parametrize(("line", "why"), MANUAL)
def test_a_line_without_an_equivalent_stays_manual_and_says_why(line: str, why: str) -> None:
    m = translate(line)
    assert m.action is None and why in m.why, m


def test_a_filter_after_a_pipe_is_left_out_and_said() -> None:
    m = translate("kubectl logs deployment/x --since=10m | grep ERROR")
    assert (m.action, m.args) == ("logs", "deployment/x --since 10m -n {namespace}")
    assert any("`grep ERROR` is left out" in n for n in m.notes)
