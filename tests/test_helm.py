"""The Helm chart (helm/warroom) renders valid, hardened, least-privilege manifests."""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

try:
    import helm_python as helm
    from kubernetes_validate import utils as kubernetes_validate
except ImportError as exc:  # pragma: no cover - depends on the environment
    _why = (
        f"tests/test_helm.py needs helm-python-sdk and kubernetes-validate ({exc}); "
        "install the dev extras: pip install -e '.[dev]'"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(_why, pytrace=False)
    pytest.skip(_why, allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "helm" / "warroom"
KUBE_VERSION = "1.31.0"
RELEASE, NAMESPACE = "wr", "ops"
FULLNAME = f"{RELEASE}-warroom"
CRD_KINDS = {"ServiceMonitor"}  # not in the Kubernetes schemas: checked by hand below

PG = "postgresql+psycopg://warroom:pw@db.ops:5432/warroom"
SECRETS = {
    "slackBotToken": "xoxb-1",
    "slackSigningSecret": "signing",
    "databaseUrl": PG,
    "redisUrl": "redis://redis.ops:6379/0",
}
SOCKET = {"slack": {"socketMode": True}, "secrets": {**SECRETS, "slackAppToken": "xapp-1"}}
MODES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "http-with-ingress": {
        "secrets": SECRETS,
        "ingress": {"enabled": True, "className": "nginx", "tls": [{"secretName": "t"}]},
        "kubernetes": {"namespaces": ["shop", "payments"]},
        "serviceMonitor": {"enabled": True},
    },
    "socket-mode": {
        **SOCKET,
        "slack": {"socketMode": True, "socketModeHealthServer": False},
        "ingress": {"enabled": True},
        "kubernetes": {"namespaces": ["shop"]},
    },
    "socket-mode-with-health-server": {
        **SOCKET,
        "slack": {"socketMode": True, "socketModeHealthServer": True},
        "serviceMonitor": {"enabled": True},
    },
    "three-replicas": {"replicaCount": 3, "secrets": SECRETS},
    "existing-secret": {"existingSecret": "warroom-prod", "kubernetes": {"namespaces": ["shop"]}},
    "cluster-wide-rbac": {
        "secrets": SECRETS,
        "rbac": {"clusterWide": True},
        "kubernetes": {"namespaces": ["shop", "payments"]},
    },
}


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        out = chart.render(values or {}, name=RELEASE, namespace=NAMESPACE)
    return [
        doc
        for path, text in sorted(out.items())
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def kinds(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = kinds(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def container(docs: list[dict[str, Any]], kind: str = "Deployment") -> dict[str, Any]:
    return one(docs, kind)["spec"]["template"]["spec"]["containers"][0]


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def hook(doc: dict[str, Any]) -> tuple[str, int] | None:
    notes = doc["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in notes:
        return None
    return notes["helm.sh/hook"], int(notes.get("helm.sh/hook-weight", "0"))


# --- every mode renders manifests that Kubernetes accepts ---------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_renders_manifests_that_kubernetes_accepts(mode: str) -> None:
    docs = render(MODES[mode])
    assert kinds(docs, "Deployment") and kinds(docs, "ConfigMap")
    for doc in docs:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["helm.sh/chart"].startswith("warroom-")
        if doc["kind"] in CRD_KINDS:
            assert doc["apiVersion"] == "monitoring.coreos.com/v1"
            assert doc["spec"]["endpoints"][0]["path"] == "/metrics"
            continue
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


@pytest.mark.parametrize(
    "mode", ["defaults", "http-with-ingress", "socket-mode", "existing-secret"]
)
def test_lint_is_clean(mode: str) -> None:
    report = helm.lint(CHART, MODES[mode], strict=True, namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == []


@pytest.mark.parametrize(
    "bad",
    [
        {"replicaCount": "three"},
        {"kubernetes": {"namespaces": "shop"}},
        {"kubernetes": {"namespaces": ["Not_A_Namespace"]}},
        {"slack": {"socketMode": "yes"}},
        {"port": 70000},
        {"logLevel": "LOUD"},
        {"secrets": {"databaseUrl": "postgresql://psycopg2-is-not-installed"}},
        {"replicas": 3},  # a typo: unknown keys are refused, not ignored
    ],
)
def test_schema_rejects_a_wrong_value(bad: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(bad)
    assert helm.lint(CHART, bad)["errors"]


def test_image_defaults_to_the_app_version_of_this_project() -> None:
    with helm.Chart.load(CHART) as chart:
        app_version = chart.metadata["appVersion"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert app_version == project
    docs = render()
    assert container(docs)["image"] == f"ghcr.io/warroom/warroom:{app_version}"
    assert container(render({"image": {"tag": "1.2.3"}}))["image"].endswith(":1.2.3")


# --- hardening ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_run_hardened_as_the_images_user(kind: str) -> None:
    docs = render(MODES["http-with-ingress"])
    pod = one(docs, kind)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = pod["containers"][0]["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    # The only writable places are emptyDirs: /tmp and the data directory.
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]] and "emptyDir" in volumes[mounts["/data"]]
    assert env_of(pod["containers"][0])["WARROOM_DATA_DIR"] == "/data"
    assert "resources" in pod["containers"][0]


def test_dockerfile_user_is_the_charts_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    final = dockerfile.split("\nFROM ")[-1]  # the last stage is the image
    assert "USER 10001:10001" in final and "COPY --from=builder /opt/venv" in final
    assert 'ENTRYPOINT ["warroom"]' in final and 'CMD ["serve"]' in final
    assert not re.search(r"\b(gcc|build-essential|pip install)\b", final)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".pytest_cache", ".ruff_cache", "data"} <= set(ignored)


# --- migrations -----------------------------------------------------------------------------------


def test_migrations_run_only_in_the_pre_install_and_pre_upgrade_hook_job() -> None:
    docs = render(MODES["three-replicas"])
    assert container(docs)["args"] == ["serve"]
    job = one(docs, "Job")
    assert container(docs, "Job")["args"] == ["migrate"]
    notes = job["metadata"]["annotations"]
    assert notes["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert notes["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    runs_migrate = [
        d["kind"]
        for d in docs
        if d["kind"] in {"Deployment", "Job"}
        and "migrate" in " ".join(container(docs, d["kind"])["args"])
    ]
    assert runs_migrate == ["Job"]


def test_migration_hook_reads_a_secret_that_exists_before_it_on_a_first_install() -> None:
    docs = render(MODES["three-replicas"])
    job = one(docs, "Job")
    ref = env_of(container(docs, "Job"))["DATABASE_URL"]["secretKeyRef"]
    (source,) = [s for s in kinds(docs, "Secret") if s["metadata"]["name"] == ref["name"]]
    # Hooks run before the release's own resources: the Job's Secret is a hook that comes first.
    assert hook(source) is not None and hook(job) is not None
    assert hook(source)[0] == hook(job)[0] and hook(source)[1] < hook(job)[1]
    assert set(source["stringData"]) == {"DATABASE_URL"}  # the Slack tokens are no hook
    (main,) = [s for s in kinds(docs, "Secret") if s["metadata"]["name"] == FULLNAME]
    assert hook(main) is None and main["stringData"]["DATABASE_URL"] == PG


def test_migration_hook_reads_the_existing_secret() -> None:
    docs = render(MODES["existing-secret"])
    assert kinds(docs, "Secret") == []
    ref = env_of(container(docs, "Job"))["DATABASE_URL"]["secretKeyRef"]
    assert ref == {"name": "warroom-prod", "key": "DATABASE_URL"}


def test_the_sqlite_trial_migrates_in_its_single_pod_and_refuses_replicas() -> None:
    docs = render()
    assert kinds(docs, "Job") == []
    assert container(docs)["args"] == ["serve", "--migrate"]
    assert "DATABASE_URL" not in env_of(container(docs))
    with pytest.raises(helm.HelmRenderError, match="needs PostgreSQL"):
        render({"replicaCount": 2})


# --- modes ----------------------------------------------------------------------------------------


def test_http_mode_probes_health_and_exposes_only_slack_events() -> None:
    docs = render(MODES["http-with-ingress"])
    c = container(docs)
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    paths = one(docs, "Ingress")["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["backend"]["service"]["port"]["name"]) for p in paths] == [
        ("/slack/events", "http")
    ]
    assert one(docs, "Service")["spec"]["ports"][0]["targetPort"] == "http"
    monitor = one(docs, "ServiceMonitor")["spec"]
    assert monitor["endpoints"][0]["port"] == "http"
    service_labels = one(docs, "Service")["metadata"]["labels"]
    assert monitor["selector"]["matchLabels"].items() <= service_labels.items()
    env = env_of(c)
    assert "SLACK_APP_TOKEN" not in env and env["SLACK_SIGNING_SECRET"]["secretKeyRef"]


def test_socket_mode_without_a_port_has_no_service_and_an_exec_readiness_probe() -> None:
    docs = render(MODES["socket-mode"])
    assert kinds(docs, "Ingress") == [] and kinds(docs, "Service") == []
    c = container(docs)
    assert "ports" not in c and "livenessProbe" not in c
    assert c["readinessProbe"]["exec"]["command"][:2] == ["python", "-c"]
    env = env_of(c)
    assert env["SLACK_APP_TOKEN"]["secretKeyRef"] == {"name": FULLNAME, "key": "SLACK_APP_TOKEN"}
    assert env["SLACK_SIGNING_SECRET"]["secretKeyRef"]["optional"] is True
    (secret,) = [s for s in kinds(docs, "Secret") if s["metadata"]["name"] == FULLNAME]
    assert secret["stringData"]["SLACK_APP_TOKEN"] == "xapp-1"
    with pytest.raises(helm.HelmRenderError, match="slackAppToken"):
        render({"slack": {"socketMode": True}})


def test_socket_mode_with_the_health_server_probes_over_http_and_is_scraped() -> None:
    docs = render(MODES["socket-mode-with-health-server"])
    c = container(docs)
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert one(docs, "Service") and one(docs, "ServiceMonitor")
    assert kinds(docs, "Ingress") == []


def test_socket_mode_readiness_probe_fails_while_the_database_is_unreachable() -> None:
    script = container(render(MODES["socket-mode"]))["readinessProbe"]["exec"]["command"][2]
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}

    def probe(**env: str) -> int:
        cmd = [sys.executable, "-c", script]
        return subprocess.run(cmd, env={**base, **env}, capture_output=True, timeout=60).returncode

    assert probe() == 0  # SQLite in the pod: nothing to reach
    # Port 1 on the loopback refuses at once.
    assert probe(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/warroom") != 0
    assert probe(REDIS_URL="redis://127.0.0.1:1/0") != 0


def test_three_replicas_get_a_disruption_budget_and_one_gets_none() -> None:
    docs = render(MODES["three-replicas"])
    assert one(docs, "Deployment")["spec"]["replicas"] == 3
    pdb = one(docs, "PodDisruptionBudget")["spec"]
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pdb["minAvailable"] == 1 and pdb["selector"]["matchLabels"].items() <= pod_labels.items()
    job_labels = one(docs, "Job")["spec"]["template"]["metadata"]["labels"]
    assert not pdb["selector"]["matchLabels"].items() <= job_labels.items()
    assert kinds(render(MODES["http-with-ingress"]), "PodDisruptionBudget") == []


def test_existing_secret_renders_no_secret_and_every_reference_points_at_it() -> None:
    docs = render(MODES["existing-secret"])
    assert kinds(docs, "Secret") == []
    refs = {
        v["secretKeyRef"]["key"]: v["secretKeyRef"]["name"]
        for v in env_of(container(docs)).values()
        if isinstance(v, dict) and "secretKeyRef" in v
    }
    assert set(refs.values()) == {"warroom-prod"}
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL", "REDIS_URL"} <= set(refs)


def test_policy_is_rendered_with_the_allowed_namespaces_and_the_bot_accepts_it(
    tmp_path: Path,
) -> None:
    from bot.config import KubernetesTarget, Targets, load_policy

    values = {
        **MODES["http-with-ingress"],
        "policy": {
            "timezone": "Europe/Berlin",
            "targets": {"kubernetes": {"host": "http://127.0.0.1:9", "namespaces": ["other"]}},
        },
    }
    docs = render(values)
    policy = load_policy(_policy_file(tmp_path, docs))
    assert policy.timezone == "Europe/Berlin"
    assert policy.targets.kubernetes is not None
    assert policy.targets.kubernetes.namespaces == ["shop", "payments"]
    assert policy.targets.kubernetes.host == ""  # in-cluster config, never a stand-in
    c = container(docs)
    assert env_of(c)["WARROOM_CONFIG"] == "/etc/warroom/policy.yaml"
    assert {"mountPath": "/etc/warroom", "name": "policy", "readOnly": True} in c["volumeMounts"]
    assert load_policy(_policy_file(tmp_path, render())) == load_policy(None).model_copy(
        update={"targets": Targets(kubernetes=KubernetesTarget())}
    )  # the defaults are the bot's defaults, with Kubernetes on and no namespace allowed


def _policy_file(tmp_path: Path, docs: list[dict[str, Any]]) -> str:
    path = tmp_path / f"policy-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(one(docs, "ConfigMap")["data"]["policy.yaml"])
    return str(path)


# --- RBAC: exactly the Kubernetes calls the code makes --------------------------------------------

CALL = re.compile(r"^(read|list|patch|replace|create|delete)_(namespaced_|cluster_)?\w+$")
Rule = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)


def _api_classes(source: str) -> list[type]:
    """The client API classes the code constructs, e.g. client.CoreV1Api(api)."""
    from kubernetes import client

    return [getattr(client, n) for n in sorted(set(re.findall(r"client\.(\w+Api)\(", source)))]


def _request_of(cls: type, method: str) -> tuple[str, str]:
    """(HTTP method, path template) a client method sends, read from the generated client."""
    serialize = inspect.getsource(getattr(cls, f"_{method}_serialize"))
    http = re.search(r"method='(\w+)'", serialize)
    path = re.search(r"resource_path='([^']+)'", serialize)
    assert http and path, f"cannot read the request {cls.__name__}.{method} sends"
    return http.group(1), path.group(1)


def _rule(http: str, path: str, params: dict[str, Any], watch: bool) -> tuple[bool, Rule]:
    """(namespaced, rule) for one request, as the API server authorizes it."""
    parts = path.strip("/").split("/")
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    namespaced = rest[:2] == ["namespaces", "{namespace}"]
    rest = rest[2:] if namespaced else rest

    def fill(part: str) -> str:
        if part.startswith("{"):
            value = params.get(part.strip("{}"))
            assert isinstance(value, str), f"{path}: {part} is not a literal in the code"
            return value
        return part

    group, resource = fill(group), fill(rest[0])
    named = len(rest) > 1
    if len(rest) > 2:
        resource += "/" + rest[2]
    verb = {
        "GET": "get" if named else ("watch" if watch else "list"),
        "PATCH": "patch",
        "PUT": "update",
        "POST": "create",
        "DELETE": "delete" if named else "deletecollection",
    }[http]
    return namespaced, (group, resource, verb)


def kubernetes_calls(source: str) -> tuple[set[Rule], set[Rule]]:
    """(namespaced, cluster-scoped) rules the code's client calls need.

    A call is a client method's name used as an attribute (`core(api).list_namespaced_pod(...)`)
    or as a string (`getattr(apps, "patch_namespaced_stateful_set")`); custom-object calls take
    their group and plural from the call's literal arguments.
    """
    classes = _api_classes(source)
    tree = ast.parse(source)
    calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
    used: list[tuple[str, ast.Call | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and CALL.match(node.attr):
            used.append((node.attr, calls.get(id(node))))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and CALL.match(node.value)
        ):
            used.append((node.value, None))
    namespaced: set[Rule] = set()
    cluster: set[Rule] = set()
    for name, call in used:
        owners = [c for c in classes if callable(getattr(c, name, None))]
        if not owners:
            continue  # not a Kubernetes client method (read_scale, read_only, …)
        assert len(owners) == 1, f"{name} is in {owners}: cannot tell which API it calls"
        params: dict[str, Any] = {}
        watch = False
        if call is not None:
            literal = [a.value if isinstance(a, ast.Constant) else None for a in call.args]
            bound = inspect.signature(getattr(owners[0], name)).bind_partial(None, *literal)
            params = dict(bound.arguments)
            for kw in call.keywords:
                if kw.arg and isinstance(kw.value, ast.Constant):
                    params[kw.arg] = kw.value.value
            watch = params.get("watch") is True
        in_ns, rule = _rule(*_request_of(owners[0], name), params, watch)
        (namespaced if in_ns else cluster).add(rule)
    return namespaced, cluster


def _code() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "bot" / "targets").glob("*.py")))


def granted(role: dict[str, Any]) -> set[Rule]:
    return {
        (g, r, v)
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }


def test_the_scan_sees_the_calls_and_would_see_a_new_one() -> None:
    namespaced, cluster = kubernetes_calls(_code())
    assert {("", "pods/log", "get"), ("apps", "deployments/scale", "patch")} <= namespaced
    assert ("metrics.k8s.io", "pods", "list") in namespaced
    assert cluster == {("metrics.k8s.io", "nodes", "list")}
    extra = _code() + "\ndef evict(api, ns, name):\n    core(api).delete_namespaced_pod(name, ns)\n"
    assert ("", "pods", "delete") in kubernetes_calls(extra)[0]


def test_each_allowed_namespace_grants_exactly_the_calls_the_code_makes() -> None:
    namespaced, cluster = kubernetes_calls(_code())
    docs = render(MODES["http-with-ingress"])
    roles = {r["metadata"]["namespace"]: r for r in kinds(docs, "Role")}
    assert set(roles) == {"shop", "payments"}
    for ns, role in roles.items():
        missing, unused = namespaced - granted(role), granted(role) - namespaced
        assert not missing, f"{ns}: the code calls these without RBAC: {sorted(missing)}"
        assert not unused, f"{ns}: RBAC grants these that no code calls: {sorted(unused)}"
    bindings = {b["metadata"]["namespace"]: b for b in kinds(docs, "RoleBinding")}
    assert set(bindings) == set(roles)
    for binding in bindings.values():
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": FULLNAME,
        }
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}
        ]
    (nodes,) = kinds(docs, "ClusterRole")
    assert granted(nodes) == cluster
    assert kinds(docs, "ClusterRoleBinding")[0]["roleRef"]["name"] == nodes["metadata"]["name"]


def test_cluster_wide_rbac_grants_the_same_rules_in_a_cluster_role() -> None:
    namespaced, cluster = kubernetes_calls(_code())
    docs = render(MODES["cluster-wide-rbac"])
    assert kinds(docs, "Role") == [] and kinds(docs, "RoleBinding") == []
    roles = {r["metadata"]["name"]: granted(r) for r in kinds(docs, "ClusterRole")}
    assert roles == {
        f"{NAMESPACE}-{FULLNAME}": namespaced,
        f"{NAMESPACE}-{FULLNAME}-node-metrics": cluster,
    }
    assert len(kinds(docs, "ClusterRoleBinding")) == 2


def test_no_node_metrics_and_no_kubernetes_mean_less_rbac() -> None:
    docs = render({**MODES["http-with-ingress"], "rbac": {"nodeMetrics": False}})
    assert kinds(docs, "ClusterRole") == [] and len(kinds(docs, "Role")) == 2
    docs = render({**MODES["http-with-ingress"], "kubernetes": {"enabled": False}})
    rbac = {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
    assert not [d for d in docs if d["kind"] in rbac]
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
