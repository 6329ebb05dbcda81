"""A policy stricter than a playbook never removes the playbook: loading checks the steps' shape
against a neutral policy, and the checklist shows a step the current policy refuses as not
runnable, saying why. Over the real wire on both databases."""

from __future__ import annotations

import pytest

from bot.config import Policy
from bot.playbooks.library import Library
from commands.actions.playbooks import registry_check
from tests.conftest import make_bot
from tests.test_catalog import policy_for
from tests.test_checklist import declare, press, steps
from tests.test_checklist import the_checklist as checklist_of
from tests.test_checklist_types import blocks_text


def test_a_policy_capping_replicas_below_the_playbook_still_loads_it_and_the_step_says_why(
    db_url, standin
) -> None:
    strict = policy_for().model_copy(update={"scale_max_replicas": 2})
    for bot in make_bot(db_url, standin, strict):
        assert "outage" in bot.rt.playbooks.reload()  # as `warroom serve` checks at start
        assert bot.rt.playbooks.errors == []
        inc = declare(bot)  # --type outage
        ids = {k.split("/")[1]: v.id for k, v in steps(bot, inc).items()}
        assert len(ids) == 30
        press(bot, inc, "cl_show:resolution")
        text = blocks_text(checklist_of(bot, inc))
        assert "scale deployment/checkout 3 -n shop" in text
        assert "Not runnable: the policy refuses it: replicas must be between 0 and 2, got 3" in (
            text
        )
        assert f"cl_run:{ids['scale']}" not in text and f"cl_done:{ids['scale']}" in text
        assert f"cl_run:{ids['rollback']}" in text  # the rest of the playbook runs


def test_a_namespace_or_target_the_policy_does_not_list_loads_and_is_refused_at_run_time(
    tmp_path,
) -> None:
    (tmp_path / "team.yaml").write_text(
        "name: payments\ntitle: Payments down\nphases:\n  - id: immediate\n    title: First\n"
        "    steps:\n      - id: pods\n        title: Pods\n        action: pods\n"
        '        args: "deployment/pay -n payments"\n'
        "      - id: locks\n        title: Locks\n        action: pg-locks\n"
        "        args: billing\n"
    )
    # The policy allows only `shop` and knows no `billing` database, and caps scaling at 1.
    policy = Policy.model_validate(
        {"targets": {"kubernetes": {"namespaces": ["shop"]}}, "scale_max_replicas": 1}
    )
    lib = Library([tmp_path], check=registry_check(policy))
    names = lib.reload()
    assert {"outage", "payments", "database", "memory"} <= set(names)
    # What the library still refuses is shape: a flag the action lacks, a count that is no
    # number, a kind it cannot touch.
    check = registry_check(policy)
    for action, args in [
        ("pods", "deployment/pay -n payments --colour red"),
        ("scale", "deployment/pay many -n payments"),
        ("restart", "cronjob/pay -n payments"),
    ]:
        with pytest.raises(ValueError):
            check(action, args)


def test_serve_refuses_a_service_default_playbook_the_library_lacks(tmp_path) -> None:
    from types import SimpleNamespace

    from bot.cli import _check_playbooks  # what `warroom serve` runs before it listens
    from bot.config import ConfigError, load_policy

    policy = tmp_path / "policy.yaml"
    policy.write_text("services:\n  checkout:\n    playbooks: [outage, outgae]\n")
    rt = SimpleNamespace(playbooks=Library(check=registry_check()), policy=load_policy(str(policy)))
    with pytest.raises(ConfigError) as e:
        _check_playbooks(rt)
    assert str(e.value) == (
        "services.checkout.playbooks: no playbook 'outgae' "
        "(known: data, database, memory, outage, performance, security)"
    )
    policy.write_text("services:\n  checkout:\n    playbooks: [outage]\n")
    _check_playbooks(SimpleNamespace(playbooks=rt.playbooks, policy=load_policy(str(policy))))


def test_a_service_with_one_default_playbook_has_it_suggested_first() -> None:
    lib = Library()
    assert lib.suggest("pods OOMKilled in a crashloop", []) == "memory"
    assert lib.suggest("pods OOMKilled in a crashloop", ["outage"]) == "outage"
    # Several defaults: the title chooses among all, ties and no match go to the defaults.
    assert lib.suggest("pods OOMKilled in a crashloop", ["outage", "database"]) == "memory"
    assert lib.suggest("something odd", ["database", "outage"]) == "database"
    assert lib.suggest("pods OOMKilled", ["no-such"]) == "memory"


def test_declaring_for_the_service_without_a_type_suggests_its_playbook(db_url, standin) -> None:
    from tests.helpers import incidents
    from tests.test_checklist_types import blocks_text as text_of

    for bot in make_bot(db_url, standin, policy_for()):
        bot.cmd("declare P1 checkout: pods OOMKilled in a crashloop")
        [inc] = incidents(bot.rt)
        assert (inc.service, inc.type) == ("checkout", None)
        [sugg] = [
            m for m in bot.slack.messages(inc.channel_id) if "cl_use_type" in str(m.get("blocks"))
        ]
        assert "Use the outage playbook" in text_of(sugg)  # checkout's one default
        assert "`memory`" in text_of(sugg)  # the others are offered too
