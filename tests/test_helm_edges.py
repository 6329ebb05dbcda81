"""The Helm chart deploys the HTTP edges beside Slack's: the web console, alert hooks, paging and
status-page keys, the service catalog and the team's playbooks, and the bot accepts what it renders.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from tests.test_helm import (
    CHART,
    CRD_KINDS,
    FULLNAME,
    KUBE_VERSION,
    PG,
    SECRETS,
    container,
    env_of,
    helm,
    kinds,
    kubernetes_validate,
    one,
    render,
)

PLAYBOOK = """\
name: checkout
title: Checkout is failing
keywords: [checkout, payment]
phases:
  - id: immediate
    title: Look first
    steps:
      - id: pods
        title: Check the checkout pods
"""
CONSOLE = {
    "enabled": True,
    "clientId": "1234.5678",
    "clientSecret": "client-secret",
    "teamId": "T0WARROOM",
    "url": "https://warroom.example.com/",
}
POLICY = {
    "services": {
        "checkout": {"title": "Checkout", "namespace": "shop", "workloads": ["deployment/checkout"]}
    },
    "alerts": {
        "sources": {
            "alertmanager": {"kind": "bearer", "secret_env": "ALERTMANAGER_TOKEN"},
            "grafana": {
                "kind": "hmac",
                "secret_env": "GRAFANA_HMAC_KEY",
                "header": "X-Grafana-Alerting-Signature",
            },
        },
        "routes": [
            {"name": "checkout-down", "match": {"service": "checkout"}, "service": "checkout"}
        ],
    },
    "paging": {
        "targets": {
            "checkout": {"provider": "pagerduty", "key_env": "PD_CHECKOUT_KEY"},
            "platform": {"provider": "jsm", "key_env": "JSM_PLATFORM_KEY"},
        },
        "default": "platform",
    },
    "status_page": {"page_id": "pg1", "components": {"checkout": "cmp1"}},
    "console": {"usergroups": ["S0SRE"], "session_hours": 8},
}
EXTRA = {
    "ALERTMANAGER_TOKEN": "am-token",
    "GRAFANA_HMAC_KEY": "grafana-key",
    "PD_CHECKOUT_KEY": "pd-routing-key",
    "JSM_PLATFORM_KEY": "jsm-key",
    "STATUSPAGE_API_KEY": "sp-key",
}
FULL: dict[str, Any] = {
    "secrets": {**SECRETS, "extra": EXTRA},
    "console": CONSOLE,
    "ingress": {"enabled": True, "className": "nginx", "tls": [{"secretName": "t"}]},
    "kubernetes": {"namespaces": ["shop"]},
    "policy": POLICY,
    "playbooks": {"checkout.yaml": PLAYBOOK},
}
SECRET_VALUES = ["client-secret", *EXTRA.values()]


def main_secret(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (secret,) = [s for s in kinds(docs, "Secret") if s["metadata"]["name"] == FULLNAME]
    return secret


def config_map(docs: list[dict[str, Any]], name: str = FULLNAME) -> dict[str, Any]:
    (found,) = [c for c in kinds(docs, "ConfigMap") if c["metadata"]["name"] == name]
    return found


def ingress_paths(docs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    rules = one(docs, "Ingress")["spec"]["rules"]
    return [(p["path"], p["pathType"]) for p in rules[0]["http"]["paths"]]


def write_policy(tmp_path: Path, docs: list[dict[str, Any]]) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(config_map(docs)["data"]["policy.yaml"])
    return path


# --- everything on renders what Kubernetes accepts, and the bot accepts the policy ----------------


@pytest.mark.parametrize("existing", [False, True])
def test_everything_on_renders_manifests_that_kubernetes_accepts(existing: bool) -> None:
    values = {**FULL, "existingSecret": "warroom-prod"} if existing else FULL
    docs = render(values)
    for doc in docs:
        if doc["kind"] not in CRD_KINDS:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    report = helm.lint(CHART, values, strict=True, namespace="ops")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_the_rendered_policy_loads_in_the_bot_with_every_section(tmp_path: Path) -> None:
    from bot.config import load_policy

    policy = load_policy(str(write_policy(tmp_path, render(FULL))))
    assert list(policy.services) == ["checkout"]
    assert set(policy.alerts.sources) == {"alertmanager", "grafana"}
    assert policy.alerts.sources["grafana"].secret_env == "GRAFANA_HMAC_KEY"
    assert policy.alerts.route("checkout-down").service == "checkout"
    assert policy.paging.targets["checkout"].key_env == "PD_CHECKOUT_KEY"
    assert policy.paging.default == "platform"
    assert policy.status_page.enabled and policy.status_page.api_key_env == "STATUSPAGE_API_KEY"
    assert policy.console.usergroups == ["S0SRE"] and policy.console.session_hours == 8
    assert policy.playbooks_dir == "/etc/warroom-playbooks"


# --- secrets: never in the ConfigMap, always from the Secret --------------------------------------


def test_secrets_are_in_the_secret_and_never_in_a_config_map() -> None:
    docs = render(FULL)
    secret = main_secret(docs)["stringData"]
    assert {k: secret[k] for k in EXTRA} == EXTRA
    assert secret["SLACK_CLIENT_SECRET"] == "client-secret"
    for cm in kinds(docs, "ConfigMap"):
        text = yaml.safe_dump(cm)
        leaked = [v for v in SECRET_VALUES if v in text]
        assert not leaked, f"{cm['metadata']['name']} holds secrets: {leaked}"
    env = env_of(container(docs))
    for name in ["SLACK_CLIENT_SECRET", *EXTRA]:
        assert env[name] == {"secretKeyRef": {"name": FULLNAME, "key": name}}, name
    assert not [v for v in env.values() if isinstance(v, str) and v in SECRET_VALUES]


def test_the_existing_secret_provides_every_key_the_policy_names() -> None:
    docs = render({**FULL, "secrets": {}, "existingSecret": "warroom-prod"})
    assert kinds(docs, "Secret") == []
    env = env_of(container(docs))
    for name in ["SLACK_CLIENT_SECRET", *EXTRA]:
        assert env[name] == {"secretKeyRef": {"name": "warroom-prod", "key": name}}, name


def test_a_key_set_through_extra_env_is_not_read_from_the_secret_again() -> None:
    own = {"name": "PD_CHECKOUT_KEY", "valueFrom": {"secretKeyRef": {"name": "pd", "key": "k"}}}
    extra = {k: v for k, v in EXTRA.items() if k != "PD_CHECKOUT_KEY"}
    docs = render({**FULL, "secrets": {**SECRETS, "extra": extra}, "extraEnv": [own]})
    names = [e["name"] for e in container(docs)["env"]]
    assert names.count("PD_CHECKOUT_KEY") == 1
    assert env_of(container(docs))["PD_CHECKOUT_KEY"] == own["valueFrom"]


# --- the console ---------------------------------------------------------------------------------


def test_the_console_gets_its_settings_and_only_its_paths_on_the_ingress() -> None:
    docs = render(FULL)
    env = env_of(container(docs))
    assert env["SLACK_CLIENT_ID"] == "1234.5678"
    assert env["SLACK_TEAM_ID"] == "T0WARROOM"
    assert env["CONSOLE_URL"] == "https://warroom.example.com"  # the bot adds the paths
    paths = ingress_paths(docs)
    assert paths[0] == ("/slack/events", "Exact")
    assert {("/", "Exact"), ("/login", "Exact"), ("/auth/callback", "Exact")} <= set(paths)
    assert {("/static", "Prefix"), ("/incidents", "Prefix"), ("/hooks", "Prefix")} <= set(paths)
    # Health and Prometheus stay inside the cluster: no public path reaches them.
    for private in ["/metrics", "/healthz", "/readyz"]:
        assert not [p for p, kind in paths if p == private or (kind == "Prefix" and p == "/")]


def test_every_console_route_in_the_code_is_on_the_ingress() -> None:
    from starlette.routing import Mount, Route

    from bot.config import Policy, Settings
    from bot.console import routes

    # routes() only reads the settings and the policy; the handlers are never called here.
    rt = SimpleNamespace(settings=Settings(_env_file=None), policy=Policy())
    served = {r.path for r in routes.routes(rt) if isinstance(r, Route | Mount)}  # type: ignore[arg-type]
    assert {"/", "/login", "/static"} <= served
    paths = ingress_paths(render(FULL))

    def reached(path: str) -> bool:
        return any(
            path == p or (kind == "Prefix" and path.startswith(p.rstrip("/") + "/"))
            for p, kind in paths
        )

    missing = sorted(p for p in served if not reached(p.replace("{incident_id:int}", "7")))
    assert not missing, f"console routes the Ingress does not route: {missing}"


def test_the_default_ingress_still_exposes_only_slack_events() -> None:
    with_hooks = {
        "ingress": {"enabled": True},
        "policy": POLICY,
        "secrets": {**SECRETS, "extra": EXTRA},
    }
    docs = render(with_hooks)
    assert ingress_paths(docs) == [("/slack/events", "Exact"), ("/hooks", "Prefix")]
    docs = render({"secrets": SECRETS, "ingress": {"enabled": True}})
    assert ingress_paths(docs) == [("/slack/events", "Exact")]
    env = env_of(container(docs))
    assert not {"SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "CONSOLE_URL"} & set(env)
    hidden = {**FULL, "ingress": {"enabled": True, "alertHooks": False}, "console": {}}
    assert ingress_paths(render(hidden)) == [("/slack/events", "Exact")]


def test_socket_mode_exposes_the_console_but_not_slack_events() -> None:
    values = {
        **FULL,
        "slack": {"socketMode": True},
        "secrets": {**SECRETS, "slackAppToken": "xapp-1", "extra": EXTRA},
    }
    paths = ingress_paths(render(values))
    assert ("/slack/events", "Exact") not in paths and ("/login", "Exact") in paths


# --- playbooks -----------------------------------------------------------------------------------


def test_playbooks_are_mounted_where_the_policy_looks_and_the_bot_loads_them(
    tmp_path: Path,
) -> None:
    from bot.config import load_policy
    from bot.playbooks.library import Library

    docs = render({**FULL, "playbooks": {"checkout.yaml": PLAYBOOK, "db.yml": {"name": "x"}}})
    files = config_map(docs, f"{FULLNAME}-playbooks")["data"]
    assert set(files) == {"checkout.yaml", "db.yml"}
    assert yaml.safe_load(files["db.yml"]) == {"name": "x"}  # a mapping is written as YAML
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "playbooks"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "playbooks"]
    assert volume["configMap"]["name"] == f"{FULLNAME}-playbooks" and mount["readOnly"] is True
    policy = load_policy(str(write_policy(tmp_path, docs)))
    assert policy.playbooks_dir == mount["mountPath"]
    # The files as the pod sees them: the bot's library reads the team playbook beside its own.
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    (mounted / "checkout.yaml").write_text(files["checkout.yaml"])
    library = Library([mounted])
    assert "checkout" in library.reload() and "outage" in library.names()
    assert library.get("checkout").title == "Checkout is failing"


def test_no_playbooks_no_config_map_and_no_playbooks_dir(tmp_path: Path) -> None:
    from bot.config import load_policy

    docs = render({"secrets": SECRETS})
    assert [c["metadata"]["name"] for c in kinds(docs, "ConfigMap")] == [FULLNAME]
    assert "playbooks" not in yaml.safe_dump(one(docs, "Deployment"))
    assert load_policy(str(write_policy(tmp_path, docs))).playbooks_dir == ""


# --- inconsistent values stop the install with one clear line ------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {**FULL, "console": {"enabled": True, "clientSecret": "s"}},
            "console.enabled needs console.clientId, console.teamId, console.url",
        ),
        (
            {**FULL, "console": {**CONSOLE, "clientSecret": ""}},
            "console.enabled needs console.clientSecret",
        ),
        (
            {**FULL, "secrets": {**SECRETS, "extra": {"ALERTMANAGER_TOKEN": "t"}}},
            "the policy reads GRAFANA_HMAC_KEY, JSM_PLATFORM_KEY, PD_CHECKOUT_KEY, "
            "STATUSPAGE_API_KEY but nothing sets it",
        ),
        (
            {
                **FULL,
                "policy": {"alerts": {"sources": {"generic": {"kind": "bearer", "secret": "x"}}}},
            },
            "policy.alerts.sources.generic.secret would put the secret in the ConfigMap",
        ),
        (
            {**FULL, "policy": {**POLICY, "playbooks_dir": "/elsewhere"}},
            "set playbooks (the chart mounts them and sets playbooks_dir) or policy.playbooks_dir",
        ),
        (
            {
                **FULL,
                "slack": {"socketMode": True, "socketModeHealthServer": False},
                "secrets": {**SECRETS, "slackAppToken": "xapp-1", "extra": EXTRA},
            },
            "console.enabled needs the HTTP server",
        ),
        (
            {
                **FULL,
                "console": {},
                "slack": {"socketMode": True, "socketModeHealthServer": False},
                "secrets": {**SECRETS, "slackAppToken": "xapp-1", "extra": EXTRA},
            },
            "policy.alerts.sources needs the HTTP server",
        ),
    ],
    ids=[
        "console-without-ids",
        "console-without-secret",
        "policy-key-not-provided",
        "inline-alert-secret",
        "two-playbook-dirs",
        "console-without-http",
        "hooks-without-http",
    ],
)
def test_an_inconsistent_combination_fails_with_one_clear_message(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(helm.HelmRenderError) as err:
        render(values)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "bad",
    [
        {"console": {"enabled": "yes"}},
        {"console": {"url": "warroom.example.com"}},
        {"console": {"teamId": "not-a-team"}},
        {"console": {"clientSecrets": "typo"}},
        {"secrets": {"extra": {"PD KEY": "x"}}},
        {"secrets": {"extra": {"SLACK_BOT_TOKEN": "x"}}},  # set through slackBotToken
        {"secrets": {"extra": {"PD_KEY": 1}}},
        {"playbooks": {"checkout.txt": PLAYBOOK}},
        {"playbooks": {"checkout.yaml": 3}},
        {"policy": {"alerts": []}},
    ],
)
def test_schema_rejects_wrong_console_secret_and_playbook_values(bad: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(bad)


def test_the_secret_database_url_is_unchanged_by_the_extras() -> None:
    secret = main_secret(render(FULL))["stringData"]
    assert secret["DATABASE_URL"] == PG and secret["SLACK_BOT_TOKEN"] == "xoxb-1"
