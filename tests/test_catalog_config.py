"""A bad service catalog fails at start with one line naming the service, the key and the
known names; a good one loads with its lists and names filled in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_policy

TARGETS = {
    "kubernetes": {"namespaces": ["shop"]},
    "postgres": {"shop-db": {"dsn": "postgresql://x@127.0.0.1/shop"}},
    "redis": {"shop-cache": {"url": "redis://127.0.0.1:6379/0"}},
    "http": {"checkout": "http://127.0.0.1:8080/healthz"},
}


def _write(tmp_path: Path, services: object, targets: dict | None = None) -> str:
    f = tmp_path / "policy.yaml"
    f.write_text(yaml.safe_dump({"targets": targets or TARGETS, "services": services}))
    return str(f)


def test_a_good_catalog_loads_with_names_and_single_targets_as_lists(tmp_path) -> None:
    policy = load_policy(
        _write(
            tmp_path,
            {
                "checkout": {
                    "namespace": "shop",
                    "workloads": ["deployment/checkout", "sts/checkout-cache"],
                    "selector": "app=checkout",
                    "postgres": "shop-db",
                    "redis": "shop-cache",
                    "health": ["checkout"],
                    "owners": ["U0DAN", "S0SRE"],
                    "playbooks": ["outage"],
                }
            },
        )
    )
    svc = policy.services["checkout"]
    assert (svc.name, svc.postgres, svc.redis) == ("checkout", ["shop-db"], ["shop-cache"])
    assert svc.workload_refs() == [("deployment", "checkout"), ("statefulset", "checkout-cache")]
    assert (svc.owner_users(), svc.owner_groups()) == (["U0DAN"], ["S0SRE"])
    assert svc.placeholders()["workload"] == "deployment/checkout"


@pytest.mark.parametrize(
    "service,expect",
    [
        (
            {"namespace": "shop", "postgres": "orders"},
            "services: checkout: postgres target 'orders' is not in targets.postgres "
            "(known: shop-db)",
        ),
        (
            {"redis": ["cache"]},
            "services: checkout: redis target 'cache' is not in targets.redis (known: shop-cache)",
        ),
        (
            {"health": ["api"]},
            "services: checkout: health target 'api' is not in targets.http (known: checkout)",
        ),
        (
            {"namespace": "prod"},
            "services: checkout: namespace 'prod' is not in targets.kubernetes.namespaces "
            "(known: shop)",
        ),
        (
            {"workloads": ["deployment/checkout"]},
            "workloads and selector need the service's namespace",
        ),
        ({"namespace": "shop", "workloads": ["checkout"]}, "workload 'checkout' is not kind/name"),
        ({"namespace": "shop", "selector": "app checkout"}, "is not a label selector"),
        ({"owners": ["@dan"]}, "owner '@dan' is not a Slack user id"),
        ({"playbooks": ["Outage Response"]}, "playbook 'Outage Response' is not a playbook name"),
        ({"name": "payments"}, "name 'payments' differs from its key"),
        ({"aliases": ["Check Out"]}, "alias 'Check Out' is not a name"),
        ({"databse": "shop-db"}, "services.checkout.databse: Extra inputs are not permitted"),
    ],
)
def test_a_bad_service_fails_with_one_line(tmp_path, service, expect) -> None:
    with pytest.raises(ConfigError) as e:
        load_policy(_write(tmp_path, {"checkout": service}))
    msg = str(e.value)
    assert "\n" not in msg and expect in msg, msg
    assert msg.startswith("WARROOM_CONFIG (")


def test_a_name_taken_twice_and_a_bad_service_name_are_refused(tmp_path) -> None:
    with pytest.raises(ConfigError, match="pay: 'checkout' already names service 'checkout'"):
        load_policy(_write(tmp_path, {"checkout": {}, "pay": {"aliases": ["checkout"]}}))
    with pytest.raises(ConfigError, match="Checkout: a service name is lowercase"):
        load_policy(_write(tmp_path, {"Checkout": {}}))


def test_kubernetes_missing_altogether_is_said(tmp_path) -> None:
    with pytest.raises(
        ConfigError, match=r"has a namespace but targets\.kubernetes is not configured"
    ):
        load_policy(_write(tmp_path, {"checkout": {"namespace": "shop"}}, {"http": {}}))


def test_warroom_serve_stops_at_start_with_the_line(tmp_path) -> None:
    path = _write(tmp_path, {"checkout": {"postgres": "orders"}})
    env = {
        **os.environ,
        "WARROOM_CONFIG": path,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
    }
    p = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        f"warroom: configuration error: WARROOM_CONFIG ({path}): services: checkout: postgres "
        "target 'orders' is not in targets.postgres (known: shop-db)"
    ]
