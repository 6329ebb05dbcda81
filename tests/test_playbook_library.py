"""The playbook library: shipped playbooks load and validate against the registry; a team's files
override them by name and reload on change; a bad file names its file, line and what is allowed."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from bot.config import Policy
from bot.playbooks.library import SHIPPED, Library, PlaybookError
from commands.actions.playbooks import registry_check
from commands.actions.registry import load

GOOD = """\
name: database
title: Our database playbook
keywords: [orders]
phases:
  - id: immediate
    title: First minutes
    window_minutes: 5
    steps:
      - id: activity
        title: What runs now
        action: pg-activity
        args: "{postgres} --limit 5"
  - id: post_incident
    title: After
    steps:
      - id: review
        title: Review
        due_hours: 168
"""


def _lib(tmp_path: Path, text: str, name: str = "team.yaml") -> Library:
    (tmp_path / name).write_text(textwrap.dedent(text))
    return Library([tmp_path], check=registry_check())


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(PlaybookError) as e:
        _lib(tmp_path, text).reload()
    return str(e.value)


def test_the_shipped_playbooks_load_with_every_step_checked_against_the_registry() -> None:
    lib = Library(check=registry_check())
    assert lib.reload() == ["data", "database", "memory", "outage", "performance", "security"]
    assert lib.errors == []
    actions = set(load())
    for pb in lib.all():
        assert [p.id for p in pb.phases] == [
            "immediate",
            "investigation",
            "resolution",
            "recovery",
            "post_incident",
        ]
        assert pb.phases[0].window_minutes in (5, 15)
        dues = {s.due_hours for s in pb.phases[-1].steps}
        assert dues == {2, 24, 168}, pb.name
        used = {s.action for _, s in pb.steps() if s.action}
        assert used <= actions and used, pb.name
    assert lib.get("security").private and not lib.get("outage").private
    # Every allow-listed action the runbooks call for is used by some shipped playbook.
    used = {s.action for pb in lib.all() for _, s in pb.steps() if s.action}
    wanted = {"pods", "top", "events", "rollout-history", "rollout-status", "pg-activity"}
    wanted |= {"pg-locks", "pg-slow-queries", "pg-connections", "redis-info", "redis-slowlog"}
    wanted |= {"health", "restart", "scale", "rollback", "kill-queries", "logs"}
    assert wanted <= used, wanted - used


def test_a_title_suggests_a_playbook_and_the_service_breaks_ties() -> None:
    lib = Library()
    assert lib.suggest("Checkout API returns 500s", []) == "outage"
    assert lib.suggest("Slow queries and lock waits on orders", []) == "database"
    assert lib.suggest("pods OOMKilled in a crashloop", []) == "memory"
    assert lib.suggest("Unauthorized access to admin", []) == "security"
    assert lib.suggest("something odd", ["performance"]) == "performance"
    assert lib.suggest("something odd", []) is None
    assert lib.suggest("something odd", ["no-such"]) is None


def test_a_team_playbook_overrides_the_shipped_one_of_the_same_name(tmp_path: Path) -> None:
    lib = _lib(tmp_path, GOOD)
    assert lib.get("database").title == "Our database playbook"
    assert lib.get("outage").title == "Service outage / API down"  # the others stay
    assert len(lib.names()) == 6


def test_a_changed_file_is_read_again_and_a_bad_edit_keeps_the_last_good_version(
    tmp_path: Path,
) -> None:
    lib = _lib(tmp_path, GOOD)
    assert lib.get("database").title == "Our database playbook"
    path = tmp_path / "team.yaml"
    path.write_text(GOOD.replace("Our database playbook", "Renamed"))
    os.utime(path, ns=(1, 10**18))  # a different mtime even on coarse clocks
    assert lib.get("database").title == "Renamed"
    path.write_text(GOOD.replace("pg-activity", "drop-table"))
    os.utime(path, ns=(1, 2 * 10**18))
    assert lib.get("database").title == "Renamed"  # still in service
    assert len(lib.errors) == 1 and "unknown action 'drop-table'" in lib.errors[0]
    with pytest.raises(PlaybookError):
        lib.reload()
    (tmp_path / "more.yml").write_text(GOOD.replace("name: database", "name: orders"))
    path.write_text(GOOD)
    os.utime(path, ns=(1, 3 * 10**18))
    assert lib.reload() == sorted([*Library().names(), "orders"])
    assert lib.errors == []


def test_an_unknown_action_names_file_line_and_the_allowed_actions(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("pg-activity", "drop-table"))
    assert msg.startswith(f"{tmp_path / 'team.yaml'} line 11: step 'activity': ")
    assert "unknown action 'drop-table' (allowed: describe, events, health," in msg


def test_arguments_that_do_not_parse_name_the_line_and_the_usage(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("--limit 5", "--limit many"))
    assert "line 12: step 'activity': `pg-activity {postgres} --limit many` does not parse" in msg
    assert "usage: /incident run pg-activity <target> [--limit N]" in msg
    msg = _error(tmp_path, GOOD.replace("{postgres} --limit 5", "{cluster}"))
    assert "line 12: step 'activity': unknown placeholder {cluster} (allowed: {namespace}" in msg


def test_duplicate_ids_and_misplaced_fields_are_refused_with_their_line(tmp_path: Path) -> None:
    dup = GOOD.replace("id: review", "id: activity")
    assert "line 16: step id 'activity' is used twice" in _error(tmp_path, dup)
    wrong = GOOD.replace("    title: After\n", "    title: After\n    window_minutes: 5\n")
    assert "line 15: window_minutes is only for the immediate phase" in _error(tmp_path, wrong)
    two = GOOD + "  - id: immediate\n    title: Again\n    steps: []\n"
    late = GOOD.replace("        due_hours: 168\n", "").replace(
        '        args: "{postgres} --limit 5"\n',
        '        args: "{postgres}"\n        due_hours: 2\n',
    )
    assert "line 13: due_hours is only for post_incident steps" in _error(tmp_path, late)
    assert "line 19: phase 'immediate' appears twice" in _error(tmp_path, two)


def test_bad_yaml_and_bad_shapes_name_the_line(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("    title: First minutes", "    title: [First"))
    assert msg.startswith(f"{tmp_path / 'team.yaml'} line ") and "not valid YAML" in msg
    msg = _error(tmp_path, GOOD.replace("id: immediate", "id: soon"))
    assert "line 5: phases.0.id: allowed: 'immediate', 'investigation'" in msg
    msg = _error(tmp_path, GOOD.replace("keywords: [orders]", "colour: red"))
    assert "line 3: colour: unknown key" in msg
    assert "line 1: a playbook is a mapping" in _error(tmp_path, "just words\n")


def test_two_files_of_one_team_defining_the_same_playbook_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(PlaybookError, match="playbook 'database' is already defined in"):
        Library([tmp_path], check=registry_check()).reload()


def test_the_policy_names_the_directory_relative_to_the_policy_file(tmp_path: Path) -> None:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "db.yaml").write_text(GOOD)
    policy = Policy(playbooks_dir="playbooks")
    lib = Library.for_policy(policy.playbooks_dir, str(tmp_path / "policy.yaml"))
    assert lib.get("database").title == "Our database playbook"
    assert Library.for_policy("", "").dirs == []


def test_the_registry_check_takes_any_target_name_and_still_checks_the_shape() -> None:
    # Whether `billing` is a target is the current policy's business (the checklist says "not
    # runnable" when it is not); a playbook naming it still loads.
    policy = Policy.model_validate(
        {"targets": {"postgres": {"orders": {"dsn": "postgresql://x"}}, "http": {}}}
    )
    check = registry_check(policy)
    check("pg-locks", "orders")
    check("pg-locks", "{postgres}")
    check("pg-locks", "billing")
    with pytest.raises(ValueError, match="not a PostgreSQL target"):
        check("pg-locks", "bad/name")


def test_the_shipped_files_are_package_data() -> None:
    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"playbooks/shipped/*.yaml"' in text
    assert sorted(p.stem for p in SHIPPED.glob("*.yaml")) == Library().names()


def test_serve_refuses_to_start_with_a_bad_team_playbook(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from bot.cli import _check_playbooks
    from bot.config import ConfigError

    (tmp_path / "db.yaml").write_text(GOOD.replace("pg-activity", "drop-table"))
    rt = SimpleNamespace(playbooks=Library([tmp_path], check=registry_check()))
    with pytest.raises(ConfigError, match=r"^playbooks: .*db.yaml line 11: step 'activity'"):
        _check_playbooks(rt)
    rt = SimpleNamespace(playbooks=Library([tmp_path / "nope"]))
    with pytest.raises(ConfigError, match="nope: no such playbooks directory"):
        _check_playbooks(rt)
    (tmp_path / "db.yaml").write_text(GOOD)
    _check_playbooks(SimpleNamespace(playbooks=Library([tmp_path], check=registry_check())))


def test_shipped_steps_name_their_namespace_so_a_policy_with_several_still_runs_them() -> None:
    policy = Policy.model_validate(
        {"targets": {"kubernetes": {"namespaces": ["shop", "ops"]}}, "scale_max_replicas": 5}
    )
    lib = Library(check=registry_check(policy))
    assert len(lib.reload()) == 6
    bad = [
        (pb.name, s.id)
        for pb in lib.all()
        for _, s in pb.steps()
        if s.action in ("pods", "logs", "events", "restart", "scale", "rollback")
        and "-n {namespace}" not in s.args
    ]
    assert bad == []
