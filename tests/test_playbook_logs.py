"""`logs deployment/<name>`, as runbooks write it (`kubectl logs deployment/x --tail=100`): the
logs of the deployment's most active pod, over the wire against the Kubernetes stand-in."""

from __future__ import annotations

from bot.config import Policy
from commands.actions.kubernetes import parse_logs
from tests.test_kubernetes_actions import k8s, kbot, run, thread_texts  # noqa: F401


def test_logs_of_a_deployment_read_one_of_its_pods(kbot) -> None:  # noqa: F811
    pods = {
        p["metadata"]["name"]
        for p in kbot.k8s.objects("Pod", "shop")
        if p["metadata"]["name"].startswith("checkout")
    }
    req = run(kbot, "logs deployment/checkout -n shop --previous --tail 20")
    assert req.state == "succeeded", req.summary
    read = req.summary.rsplit(" from ", 1)[1]
    assert read in pods
    assert "panic" in thread_texts(kbot, req)[0].lower()


def test_a_deployment_logs_request_says_it_reads_one_pod() -> None:
    policy = Policy.model_validate({"targets": {"kubernetes": {"namespaces": ["shop"]}}})
    plan = parse_logs("deployment/checkout --tail 50", policy)
    assert plan.params["deployment"] == "checkout" and plan.params["pod"] is None
    assert "one pod of deployment `checkout`" in plan.preview
    assert parse_logs("pod/checkout-1", policy).params["deployment"] is None
