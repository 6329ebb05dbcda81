"""A playbook as data: phases of steps, each step a manual check or an allow-listed action.

An action step names an action of the registry (`pods`, `logs`, `restart`, ...) and the text
of its arguments exactly as `/incident run <action> <args>` would take them. Placeholders in
`{braces}` are filled from the incident's service in the catalog: `{namespace}`, `{workload}`
(e.g. `deployment/checkout`), `{selector}`, `{postgres}`, `{redis}`, `{health}`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PhaseId = Literal["immediate", "investigation", "resolution", "recovery", "post_incident"]
PHASES: tuple[str, ...] = ("immediate", "investigation", "resolution", "recovery", "post_incident")
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug  # unique within its playbook; checklist state is keyed by it
    title: Annotated[str, Field(min_length=1, max_length=200)]
    action: str | None = None  # a registry action name; None: a manual step
    args: str = ""  # the action's arguments, with {placeholders}
    code: str | None = None  # a runbook line with no allow-listed equivalent, shown, never run
    # post_incident steps: hours after resolution the action item is due (2, 24, 168)
    due_hours: Annotated[float, Field(gt=0)] | None = None

    @property
    def manual(self) -> bool:
        return self.action is None


class Phase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: PhaseId
    title: Annotated[str, Field(min_length=1, max_length=150)]
    # immediate actions: the runbook's window (5 or 15 minutes) after declaration
    window_minutes: Annotated[int, Field(gt=0, le=1440)] | None = None
    steps: list[Step]


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Slug  # the incident type it serves: outage, performance, database, memory, data, security
    title: Annotated[str, Field(min_length=1, max_length=150)]
    summary: str = ""
    keywords: list[str] = []  # words in a title that suggest this type
    private: bool = False  # security incidents are private by default
    source: str = ""  # the runbook it was written from
    phases: list[Phase]

    def steps(self) -> list[tuple[Phase, Step]]:
        return [(p, s) for p in self.phases for s in p.steps]
