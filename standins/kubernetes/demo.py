"""Demo cluster for the sandbox, tests and benchmarks: namespace ``shop`` mid-incident, where
``checkout`` crash-loops on its third revision (1.42) and ``payments``/``postgres`` are healthy."""

from __future__ import annotations

from typing import Any

from standins.kubernetes.api import K8sStandIn

NAMESPACE = "shop"
CHECKOUT_IMAGES = ("shop/checkout:1.40", "shop/checkout:1.41", "shop/checkout:1.42")
CHANGE_CAUSES = (
    "ci: deploy checkout 1.40 (#5071 gift cards)",
    "ci: deploy checkout 1.41 (#5102 faster tax lookup)",
    "ci: deploy checkout 1.42 (#5120 cart totals refactor)",
)
CRASH_LOG = [
    'level=info msg="starting checkout" version=1.42',
    'level=info msg="config loaded" source=/etc/app/config.yaml',
    'level=info msg="connected to database" pool=10 host=postgres-0.postgres.shop.svc',
    'level=info msg="http server listening" addr=:8080',
    'level=error msg="unhandled error" err="nil pointer dereference" handler=/api/cart/total',
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8f2c1a]",
    "",
    "goroutine 87 [running]:",
    "shop/checkout/cart.(*Totals).Apply(0x0, {0xc0004a2c00, 0x3, 0x4})",
    "\t/src/cart/totals.go:88 +0x1a",
    "shop/checkout/api.(*Server).cartTotal(0xc000136000, {0x1b2f9c0, 0xc0003c81c0}, 0xc000518300)",
    "\t/src/api/cart.go:142 +0x2b4",
]
DAY, MINUTE = 86400.0, 60.0


def _app(port: int, cpu: str, memory: str, env: dict[str, str]) -> dict[str, Any]:
    return {
        "ports": [{"name": "http", "containerPort": port}],
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 5},
    }


def load_demo(k: K8sStandIn) -> None:
    """Seed ``k`` with the demo cluster; object ages come from a clock wound back and forward."""
    with k.lock:
        start = k.store.offset
        k.store.offset -= 3 * DAY  # write history in the past so ages and events look lived-in
    k.add_namespace(NAMESPACE)
    k.add_node("node-a", cpu="4", memory="16Gi", zone="eu-west-1a")
    k.add_node("node-b", cpu="4", memory="16Gi", zone="eu-west-1b")
    db_env = {"POSTGRES_DB": "shop", "PGDATA": "/var/lib/postgresql/data/pgdata"}
    k.deploy(
        NAMESPACE,
        "postgres",
        "postgres:16.4",
        1,
        kind="StatefulSet",
        **_app(5432, "500m", "1Gi", db_env),
    )
    pay_env = {"DATABASE_URL": "postgres://postgres-0.postgres.shop.svc:5432/shop"}
    k.deploy(
        NAMESPACE,
        "payments",
        "shop/payments:2.7.3",
        2,
        change_cause="ci: deploy payments 2.7.3",
        **_app(8080, "200m", "256Mi", pay_env),
    )
    app = _app(8080, "250m", "384Mi", {"PAYMENTS_URL": "http://payments.shop.svc:8080"})
    k.deploy(NAMESPACE, "checkout", CHECKOUT_IMAGES[0], 3, change_cause=CHANGE_CAUSES[0], **app)
    k.advance(2 * DAY)
    k.deploy(NAMESPACE, "checkout", CHECKOUT_IMAGES[1], change_cause=CHANGE_CAUSES[1])
    k.advance(DAY - 25 * MINUTE)
    k.deploy(NAMESPACE, "checkout", CHECKOUT_IMAGES[2], change_cause=CHANGE_CAUSES[2])
    k.advance(7 * MINUTE)
    k.crashloop(NAMESPACE, "checkout", restarts=7, exit_code=2, logs=CRASH_LOG)
    with k.lock:
        k.store.offset = start
    pods = [p["metadata"]["name"] for p in k.objects("Pod", NAMESPACE)]
    for name in pods:
        if name.startswith("payments-"):
            k.set_pod_metrics(NAMESPACE, name, cpu="180m", memory="210Mi")
    k.set_pod_metrics(NAMESPACE, "postgres-0", cpu="640m", memory="880Mi")
