"""`alerts:` in the policy: which sources may post alerts and how they prove it, and the routes
that turn an alert's labels into an incident (declare), a suggestion (suggest) or a record.

Imports nothing of `bot.config` (which imports this); the catalog's services are read from the
already validated `services:` when present.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

SOURCES = ("alertmanager", "grafana", "generic")
Code = Literal["P0", "P1", "P2", "P3"]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class SourceAuth(BaseModel):
    """bearer: `Authorization: Bearer <secret>` (Alertmanager's http_config, Grafana's
    authorization header). basic: `Authorization: Basic` with `username` and the secret as
    password (Alertmanager's http_config basic_auth, Grafana's basic authentication).
    hmac: hex HMAC-SHA256 of the raw body in `header`, over `<timestamp>:<body>` when
    `timestamp_header` is set, the timestamp in Unix seconds: what Grafana's contact point
    sends with its HMAC signature set (header `X-Grafana-Alerting-Signature` by default)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["bearer", "basic", "hmac"]
    username: str = ""  # basic only
    secret_env: str = ""  # the environment variable holding the token or key (preferred)
    secret: str = Field("", repr=False)  # inline, for the sandbox and tests
    header: str = "X-Warroom-Signature"
    timestamp_header: str = ""
    max_skew_seconds: Annotated[int, Field(ge=1, le=3600)] = 300

    def resolved(self) -> str:
        return os.environ.get(self.secret_env, "") if self.secret_env else self.secret

    @model_validator(mode="after")
    def _has_secret(self) -> SourceAuth:
        if not self.secret_env and not self.secret:
            raise ValueError("give secret_env (an environment variable's name) or secret")
        if (self.kind == "basic") != bool(self.username):
            raise ValueError("username goes with kind basic, and basic needs one")
        return self


class AlertRoute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Slug
    sources: list[Literal["alertmanager", "grafana", "generic"]] = []  # empty: any source
    match: dict[str, str] = {}  # label == value
    match_re: dict[str, str] = {}  # label matches the whole regular expression
    service: str = ""  # a service of the catalog
    severity: Code = "P2"
    severity_label: str = ""  # take the severity from this label through severity_map
    severity_map: dict[str, Code] = {}  # e.g. {critical: P1, warning: P3}
    action: Literal["declare", "suggest", "attach"] = "suggest"
    group_by: list[str] = ["alertname"]
    auto_resolve: bool = False  # resolve the incident when all its alerts have resolved

    @field_validator("match_re")
    @classmethod
    def _regexes(cls, v: dict[str, str]) -> dict[str, str]:
        for label, rx in v.items():
            try:
                re.compile(rx)
            except re.error as e:
                raise ValueError(f"{label}: '{rx}' is not a regular expression ({e})") from None
        return v

    def matches(self, source: str, labels: dict[str, str]) -> bool:
        if self.sources and source not in self.sources:
            return False
        if any(labels.get(k) != v for k, v in self.match.items()):
            return False
        return all(re.fullmatch(rx, labels.get(k, "")) for k, rx in self.match_re.items())

    def severity_for(self, labels: dict[str, str]) -> str:
        if self.severity_label:
            return self.severity_map.get(labels.get(self.severity_label, ""), self.severity)
        return self.severity


def _check(alerts: AlertsPolicy, info: ValidationInfo) -> AlertsPolicy:
    services = info.data.get("services")
    names = [r.name for r in alerts.routes]
    if len(set(names)) != len(names):
        raise ValueError("route names must be unique")
    if services:
        for r in alerts.routes:
            if r.service and r.service not in services:
                known = ", ".join(sorted(services))
                raise ValueError(f"route {r.name}: no service '{r.service}' (known: {known})")
    return alerts


class AlertsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: dict[Literal["alertmanager", "grafana", "generic"], SourceAuth] = {}
    routes: list[AlertRoute] = []  # the first route that matches wins
    max_body_bytes: Annotated[int, Field(ge=1024, le=10_000_000)] = 1_000_000
    max_alerts: Annotated[int, Field(ge=1, le=10_000)] = 1000  # per delivery

    def route_for(self, source: str, labels: dict[str, str]) -> AlertRoute | None:
        return next((r for r in self.routes if r.matches(source, labels)), None)

    def route(self, name: str) -> AlertRoute | None:
        return next((r for r in self.routes if r.name == name), None)


# The one field bot.config.Policy adds, after `services`: `alerts: Alerts = AlertsPolicy()`.
Alerts = Annotated[AlertsPolicy, AfterValidator(_check)]
