"""Kubernetes saying no to an approved remediation: 403 Forbidden (the bot's service account lacks
a verb) and 409 Conflict, for rollback, restart and scale, through the wire on both databases.

The answer in the thread names the missing permission (or the conflict) and says that nothing
was changed; the request ends `failed`, on the timeline and in the audit; nothing changed in the
cluster. The stand-in answers as the API server does: a `Status` with RBAC's or storage's words.
"""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from bot.models import AuditEntry
from standins.kubernetes.api import K8sStandIn
from tests import test_kubernetes_actions as base
from tests.helpers import events
from tests.test_kubernetes_actions import approve, requests, run, thread_texts

k8s, kbot = base.k8s, base.kbot  # the demo cluster and a bot in a war room
SA = "system:serviceaccount:warroom:warroom"
READ = ["get", "list", "watch"]

# (command, the write it makes, the resource RBAC names for it)
REMEDIATIONS = {
    "rollback": ("rollback deployment/checkout -n shop", "patch", "deployments"),
    "restart": ("restart deployment/checkout -n shop", "patch", "deployments"),
    "scale": ("scale deployment/checkout 5 -n shop", "patch", "deployments/scale"),
}


def _read_only(k: K8sStandIn) -> None:
    """A Role that reads everything in `shop` and may write nothing."""
    k.grant(READ, ["*"], ["", "apps"], namespace="shop")
    k.grant(READ, ["*"], ["metrics.k8s.io"], namespace="shop")


def _spec(k: K8sStandIn) -> tuple[int, dict, int]:
    d = k.get("Deployment", "shop", "checkout")
    return d["metadata"]["generation"], d["spec"]["template"], d["spec"]["replicas"]


def _audit(bot, request_id: int) -> list[AuditEntry]:
    with bot.rt.db.session() as s:
        q = select(AuditEntry).where(AuditEntry.request_id == request_id).order_by(AuditEntry.id)
        return list(s.scalars(q))


def _ask(bot, command: str):
    r = bot.cmd(command, channel=bot.room)
    assert "Preparing" in r.json["text"], r.json["text"]
    bot.settle()
    [req] = requests(bot)
    assert req.state == "pending", "the preview only reads; it must have been allowed"
    return req


def _refused(bot, req) -> str:
    """Approve; the request must fail plainly, audited and on the timeline. Returns the reply."""
    before = _spec(bot.k8s)
    req = approve(bot, req)
    assert req.state == "failed", req.summary
    assert _spec(bot.k8s) == before, "the cluster changed after a refusal"
    [reply] = thread_texts(bot, req)
    said = html.unescape(reply)
    for bad in ("Traceback", "went wrong", "unexpectedly"):
        assert bad not in said
    assert "Nothing was changed" in said and "Nothing was changed" in req.summary
    trail = [(a.event, a.outcome) for a in _audit(bot, req.id)]
    assert (
        trail[-1] == ("failed", "failed")
        and "Nothing was changed" in _audit(bot, req.id)[-1].detail
    )
    kinds = [e.kind for e in events(bot.rt, req.incident_id)]
    assert kinds[-1] == "action_failed"
    [message] = [m for m in bot.slack.messages(bot.room) if m["ts"] == req.message_ts]
    assert "failed" in message["text"]
    return said


@pytest.mark.parametrize("action", sorted(REMEDIATIONS))
def test_a_missing_rbac_verb_is_named_and_nothing_changes(kbot, action: str) -> None:
    command, verb, resource = REMEDIATIONS[action]
    _read_only(kbot.k8s)
    req = _ask(kbot, command)
    said = _refused(kbot, req)
    group = "apps"
    assert "403 Forbidden" in said
    assert (
        f"`{SA}` lacks the permission to *{verb}* `{resource}` (API group `{group}`) "
        "in namespace `shop`"
    ) in said, said
    # The write was asked for and refused, in RBAC's exact words.
    writes = [r for r in kbot.k8s.requests if r.method == "PATCH"]
    assert writes and writes[-1].path.endswith(
        "/checkout" + ("/scale" if action == "scale" else "")
    )


@pytest.mark.parametrize("action", sorted(REMEDIATIONS))
def test_a_conflict_on_the_write_is_explained_and_nothing_changes(kbot, action: str) -> None:
    command, verb, resource = REMEDIATIONS[action]
    req = _ask(kbot, command)
    kbot.k8s.conflict(verb, resource, "shop")
    said = _refused(kbot, req)
    assert "409 Conflict" in said
    assert (
        'Operation cannot be fulfilled on deployments.apps "checkout": the object has been '
        "modified; please apply your changes to the latest version and try again"
    ) in said, said
    assert "ask again to see a fresh preview" in said


def test_the_stand_in_refuses_in_the_api_servers_words(k8s: K8sStandIn) -> None:
    import json

    from kubernetes.client import AppsV1Api
    from kubernetes.client.exceptions import ApiException

    apps = AppsV1Api(k8s.client())
    _read_only(k8s)
    assert apps.read_namespaced_deployment("checkout", "shop").metadata.name == "checkout"
    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment_scale("checkout", "shop", {"spec": {"replicas": 4}})
    body = json.loads(exc.value.body)
    assert (exc.value.status, body["kind"], body["reason"]) == (403, "Status", "Forbidden")
    assert body["message"] == (
        f'deployments.apps "checkout" is forbidden: User "{SA}" cannot patch resource '
        '"deployments/scale" in API group "apps" in the namespace "shop"'
    )
    assert body["details"] == {"name": "checkout", "group": "apps", "kind": "deployments"}
    with pytest.raises(ApiException):  # another namespace: not bound there
        apps.read_namespaced_deployment("checkout", "ops")
    k8s.grant(["patch"], ["deployments/scale"], ["apps"], namespace="shop")
    apps.patch_namespaced_deployment_scale("checkout", "shop", {"spec": {"replicas": 4}})

    k8s.allow_all()
    k8s.conflict("patch", "deployments", "shop")
    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment("checkout", "shop", {"spec": {"replicas": 2}})
    body = json.loads(exc.value.body)
    assert (exc.value.status, body["reason"], body["code"]) == (409, "Conflict", 409)
    assert body["details"] == {"name": "checkout", "group": "apps", "kind": "deployments"}
    # Armed once: the next write goes through.
    apps.patch_namespaced_deployment("checkout", "shop", {"spec": {"replicas": 2}})


@pytest.mark.parametrize(
    "args,verb,resource",
    [
        ("pods -n shop", "list", "pods"),
        ("rollout-history deployment/checkout -n shop", "get", "deployments"),
        ("top pods -n shop", "list", "pods"),
    ],
)
def test_a_diagnostic_without_permission_names_it(
    kbot, args: str, verb: str, resource: str
) -> None:
    kbot.k8s.grant(["get"], ["namespaces"], [""])  # and nothing else
    req = run(kbot, args)
    assert req.state == "failed"
    said = html.unescape(thread_texts(kbot, req)[0])
    assert f"lacks the permission to *{verb}* `{resource}`" in said, said
    assert "Traceback" not in said and "went wrong" not in said
    assert _audit(kbot, req.id)[-1].event == "failed"
