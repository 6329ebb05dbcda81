"""The status-page part of the policy: which page, which components, who must approve."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class StatusPagePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page_id: str = ""  # empty: no status page
    api_key_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = "STATUSPAGE_API_KEY"
    url: str = "https://api.statuspage.io/v1"
    severities: list[Literal["P0", "P1", "P2", "P3"]] = ["P0", "P1"]  # offered a draft
    # Catalog service -> Statuspage component id; the incident's service marks its component.
    components: dict[str, str] = {}
    # True: *Publish* takes a second person's click (the first asks, another approves).
    require_approval: bool = False
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10

    @property
    def enabled(self) -> bool:
        return bool(self.page_id)

    def key(self) -> str:
        return os.environ.get(self.api_key_env, "")

    def missing(self) -> list[str]:
        if self.enabled and not self.key():
            return [f"status page: environment variable {self.api_key_env} is not set"]
        return []
