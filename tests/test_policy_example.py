"""policy.example.yaml's worked example loads: its `#> ` lines, uncommented, are a valid policy.

Convention: a line starting `#> ` is example configuration; removing those three characters
gives the line as it would be written. The live lines alone are the default policy
(tests/test_docs.py); with the example lines they are the `checkout` service's full setup, so
a renamed or tightened key fails here instead of in a reader's deployment.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.catalog.policy import unknown_playbook
from bot.config import ConfigError, Policy, load_policy
from bot.paging.policy import escalation_problems
from bot.playbooks.library import Library

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "policy.example.yaml"
MARK = "#> "


def uncommented(text: str) -> str:
    return "".join(
        line[len(MARK) :] if line.startswith(MARK) else line for line in text.splitlines(True)
    )


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Policy]:
    path = tmp_path / "policy.yaml"
    path.write_text(uncommented(EXAMPLE.read_text()))
    (tmp_path / "playbooks").mkdir()  # the example's playbooks_dir, beside the policy
    return path, load_policy(str(path))


def test_the_example_lines_uncommented_are_a_policy_with_every_documented_section(example):
    _, policy = example
    assert policy != Policy()
    # Every section the example documents is there, not just parseable.
    assert policy.playbooks_dir == "playbooks"
    checkout = policy.services["checkout"]
    assert (checkout.namespace, checkout.deployments) == ("shop", ["checkout"])
    assert (checkout.postgres, checkout.redis, checkout.playbooks) == (
        ["shop-db"],
        ["shop-cache"],
        ["outage"],
    )
    assert checkout.health and checkout.owners
    assert policy.alerts.sources["alertmanager"].secret_env
    critical = policy.alerts.route_for(
        "alertmanager", {"service": "checkout", "severity": "critical"}
    )
    assert critical is not None and critical.action == "declare"
    assert critical.severity_for({"severity": "critical"}) == "P1"
    assert critical.group_by != ["alertname"]  # grouping labels shown, not the default
    assert any(r.action == "suggest" for r in policy.alerts.routes)
    assert {t.provider for t in policy.paging.targets.values()} == {"pagerduty", "jsm"}
    assert all(t.key_env for t in policy.paging.targets.values())
    assert policy.status_page.enabled and policy.status_page.components
    assert policy.status_page.require_approval
    assert policy.console.usergroups
    assert policy.security_responders and policy.security_lead
    assert any(s.page for s in policy.severities["P0"].escalation)


def test_the_example_passes_the_checks_made_at_start(example):
    path, policy = example
    # serve: a service's default playbook is loaded; an escalation step's paging target exists.
    names = Library.for_policy(policy.playbooks_dir, str(path)).reload()
    assert unknown_playbook(policy.services, names) is None
    assert escalation_problems(policy) == []
    # Actions it configures are real ones.
    from commands.actions.registry import ACTIONS, load

    load()
    assert set(policy.actions) <= set(ACTIONS)


def test_a_policy_key_in_a_comment_is_marked_as_example(example):
    """An example key written `# key:` would be skipped by the test above and rot unseen."""
    fields = "|".join(Policy.model_fields)
    unmarked = re.findall(rf"^#\s*(?:{fields}):.*$", EXAMPLE.read_text(), re.M)
    assert unmarked == []


def test_the_check_sees_a_broken_example(tmp_path):
    """The uncommenting reaches the loader: a bad example line is refused."""
    text = EXAMPLE.read_text().replace("#>     namespace: shop", "#>     namespace: shoop")
    assert text != EXAMPLE.read_text()
    path = tmp_path / "policy.yaml"
    path.write_text(uncommented(text))
    with pytest.raises(ConfigError, match="namespace 'shoop'"):
        load_policy(str(path))


def test_every_policy_key_is_documented_in_the_example():
    """A new Policy field shows up here until policy.example.yaml says what it does."""
    text = uncommented(EXAMPLE.read_text())
    written = set(re.findall(r"^([a-z_]+):", text, re.M))
    assert set(Policy.model_fields) - written == set()
