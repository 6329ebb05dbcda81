"""The paging part of the policy: who is paged through which product, and when.

Keys never live in the YAML: each target names the environment variable holding its key.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from bot.config import Policy

DEFAULT_URLS = {
    "pagerduty": "https://events.pagerduty.com/v2/enqueue",
    # JSM Operations' integration events API (the successor of Opsgenie's alert API).
    "jsm": "https://api.atlassian.com/jsm/ops/integration/v2",
}
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$")]


class PagingTarget(BaseModel):
    """A service's or team's on-call, reached through one product."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["pagerduty", "jsm"]
    key_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    url: str = ""  # empty: the product's public endpoint

    @property
    def endpoint(self) -> str:
        return (self.url or DEFAULT_URLS[self.provider]).rstrip("/")

    def key(self) -> str:
        return os.environ.get(self.key_env, "")


class PagingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: dict[Name, PagingTarget] = {}  # by catalog service or team name
    default: str = ""  # paged when the incident names no service with a target
    page_on_declare: list[Literal["P0", "P1", "P2", "P3"]] = ["P0", "P1"]
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10
    backoff_seconds: Annotated[float, Field(gt=0, le=600)] = 2  # doubled per attempt
    backoff_max_seconds: Annotated[float, Field(gt=0, le=3600)] = 300

    @model_validator(mode="after")
    def _default_known(self) -> PagingPolicy:
        if self.default and self.default not in self.targets:
            raise ValueError(f"default: '{self.default}' is not one of the paging targets")
        return self

    def target_for(self, service: str | None) -> str | None:
        if service and service in self.targets:
            return service
        return self.default or None

    def missing_keys(self) -> list[str]:
        """What is missing at start, said then rather than at the first page."""
        return [
            f"paging target {name}: environment variable {t.key_env} is not set"
            for name, t in self.targets.items()
            if not t.key()
        ]


def escalation_problems(policy: Policy) -> list[str]:
    """Escalation steps naming a target paging does not know: said at start."""
    out = []
    for code, sev in policy.severities.items():
        for n, e in enumerate(sev.escalation):
            if isinstance(e.page, str) and e.page and e.page not in policy.paging.targets:
                out.append(f"{code} escalation step {n + 1} pages '{e.page}': no such target")
    return out
