"""The registry: each action's name, usage, parser and runner. Nothing else can run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.approvals.output import Output
from bot.approvals.recovery import Verdict
from bot.config import Policy
from bot.models import ActionRequest
from bot.targets import Targets


@dataclass
class Plan:
    """A parsed, validated request: exactly what will run, for people and for the runner."""

    params: dict[str, Any]
    target: str  # e.g. "kubernetes shop/deployment checkout"
    preview: str  # one or two lines shown on the approval message


__all__ = ["ACTIONS", "Action", "Output", "Plan", "Verdict", "load", "register"]


@dataclass(frozen=True)
class Action:
    name: str
    kind: str  # "diagnostic" | "remediation"
    usage: str
    summary: str
    parse: Callable[[str, Policy], Plan]
    run: Callable[[Targets, dict[str, Any]], Output]
    # Remediations look at the live object first (after the ack) to build an exact preview.
    prepare: Callable[[Targets, Plan, Policy], Plan] | None = None
    # A change whose run died with its process: what the far end shows (never a re-apply).
    check: Callable[[Targets, ActionRequest], Verdict] | None = None
    # The arguments that ask for the same change again (the *Run again* button).
    again: Callable[[dict[str, Any]], str] | None = None

    @property
    def mutating(self) -> bool:
        return self.kind == "remediation"


ACTIONS: dict[str, Action] = {}


def register(action: Action) -> Action:
    assert action.name not in ACTIONS, action.name
    ACTIONS[action.name] = action
    return action


def load() -> dict[str, Action]:
    # Importing the families registers their actions.
    from commands.actions import (  # noqa: F401
        health,
        kubernetes,
        postgres,
        queries,
        redis,
        remediation,
    )

    return ACTIONS
