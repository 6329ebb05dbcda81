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
