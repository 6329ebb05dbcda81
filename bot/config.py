"""Settings from the environment and the incident policy from YAML, validated at start."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from dotenv import load_dotenv
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.alerts.policy import Alerts, AlertsPolicy
from bot.catalog.policy import Services
from bot.paging.policy import PagingPolicy
from bot.severity import CODES, SeverityLevel
from bot.statuspage.policy import StatusPagePolicy

ENV_FILE = ".env"


class ConfigError(Exception):
    """A bad setting; its message is one line naming the key and what is allowed."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ENV_FILE, extra="ignore")

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""  # set: Socket Mode instead of HTTP
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = ""  # empty: SQLite file in data_dir
    redis_url: str = ""
    host: str = "0.0.0.0"
    port: Annotated[int, Field(ge=1, le=65535)] = 3000
    warroom_config: str = ""  # path of the policy YAML
    warroom_data_dir: str = "data"
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    effect_workers: Annotated[int, Field(ge=1, le=256)] = 32
    setup_workers: Annotated[int, Field(ge=1, le=64)] = 8
    # The web console's Sign in with Slack (OpenID Connect); empty client id: console off.
    slack_client_id: str = ""
    slack_client_secret: str = ""
    slack_team_id: str = ""  # the workspace allowed in; empty: the bot token's (auth.test)
    console_url: str = ""  # public base URL (https://warroom.example.com); empty: from requests

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, v: str) -> str:
        if v and not v.startswith(("sqlite", "postgresql+psycopg://")):
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB (psycopg 3)")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("allowed: DEBUG, INFO, WARNING, ERROR")
        return v.upper()

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        Path(self.warroom_data_dir).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(self.warroom_data_dir).resolve() / 'warroom.db'}"


def _slack_ids(v: list[str], groups: bool) -> list[str]:
    allowed = ("U", "W", "S") if groups else ("U", "W")
    for u in v:
        if not (u[:1] in allowed and u[1:].isalnum() and u == u.upper()):
            what = "user id (U012ABCDEF) or user group id (S012ABCDEF)" if groups else "user id"
            raise ValueError(f"'{u}' is not a Slack {what}")
    return v


class EscalationStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_minutes: Annotated[float, Field(ge=0)] = 0  # after the response time ran out
    notify: list[str] = []
    # Page through the page outbox too: a paging target's name, or true for the incident's
    # service's on-call (paging.default when it has none). With page and no notify, the step
    # pages instead of inviting the responders.
    page: str | bool = False

    @field_validator("notify")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        return _slack_ids(v, groups=True)


class SeverityPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    # Minutes may be fractional: demos and tests compress time.
    respond_minutes: Annotated[float, Field(gt=0)]
    resolve_minutes: Annotated[float, Field(gt=0)]
    update_minutes: Annotated[float, Field(ge=0)] = 0  # 0: no cadence
    responders: list[str] = []
    mirror_updates: bool = False
    # Who is called when nobody takes the lead within respond_minutes; empty: the responders.
    escalation: list[EscalationStep] = []

    @field_validator("responders")
    @classmethod
    def _user_ids(cls, v: list[str]) -> list[str]:
        return _slack_ids(v, groups=False)

    @field_validator("escalation")
    @classmethod
    def _ordered(cls, v: list[EscalationStep]) -> list[EscalationStep]:
        mins = [s.after_minutes for s in v]
        if mins != sorted(mins):
            raise ValueError("steps must be in order of after_minutes")
        return v


def _default_severities() -> dict[str, SeverityPolicy]:
    # From the runbooks: response and resolution SLAs; updates every 30 min for P0/P1, hourly P2.
    return {
        "P0": SeverityPolicy(
            label="Critical",
            respond_minutes=15,
            resolve_minutes=120,
            update_minutes=30,
            mirror_updates=True,
        ),
        "P1": SeverityPolicy(
            label="High",
            respond_minutes=60,
            resolve_minutes=480,
            update_minutes=30,
            mirror_updates=True,
        ),
        "P2": SeverityPolicy(
            label="Medium", respond_minutes=240, resolve_minutes=1440, update_minutes=60
        ),
        "P3": SeverityPolicy(
            label="Low", respond_minutes=1440, resolve_minutes=10080, update_minutes=0
        ),
    }


class ActionRule(BaseModel):
    """Who may approve an action and how; `mode: auto` runs it on request (diagnostics only)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["approval", "auto"] = "approval"
    approvers: list[str] = []  # user ids and/or user group ids; empty: anyone in the workspace
    min_approvals: Annotated[int, Field(ge=1, le=5)] = 1
    min_approvals_by_severity: dict[str, Annotated[int, Field(ge=1, le=5)]] = {}  # e.g. {P0: 2}
    allow_self_approval: bool = False  # four eyes unless a single-person sandbox says otherwise
    # Deny takes the approvers' check too (the requester may always cancel); true lets anyone.
    anyone_may_deny: bool = False
    expire_minutes: Annotated[float, Field(gt=0, le=1440)] = 15
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 20

    @field_validator("approvers")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        return _slack_ids(v, groups=True)


class KubernetesTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespaces: list[str] = []  # the only namespaces any action may touch
    kubeconfig: str = ""  # empty: in-cluster config, else the default kubeconfig
    context: str = ""
    host: str = ""  # an API URL without auth (the sandbox's stand-in); overrides the above


class PostgresTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dsn: str = ""
    dsn_env: str = ""  # read the DSN from this environment variable (keeps it out of YAML)

    def resolved(self) -> str:
        return os.environ.get(self.dsn_env, "") if self.dsn_env else self.dsn


class RedisTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = ""
    url_env: str = ""

    def resolved(self) -> str:
        return os.environ.get(self.url_env, "") if self.url_env else self.url


class Targets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kubernetes: KubernetesTarget | None = None
    postgres: dict[str, PostgresTarget] = {}
    redis: dict[str, RedisTarget] = {}
    http: dict[str, str] = {}  # name -> URL of an allow-listed health endpoint

    @field_validator("http")
    @classmethod
    def _urls(cls, v: dict[str, str]) -> dict[str, str]:
        for name, url in v.items():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{name}: '{url}' is not an http(s) URL")
        return v


class ConsoleAccess(BaseModel):
    """Who may open the web console: signed-in members, or only some user groups."""

    model_config = ConfigDict(extra="forbid")

    anonymous: bool = False  # true: read without signing in (a demo on a closed network)
    usergroups: list[str] = []  # S… ids; empty: everyone in the workspace
    session_hours: Annotated[float, Field(gt=0, le=720)] = 12

    @field_validator("usergroups")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        return _slack_ids(v, groups=True)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    announcement_channel: str = "incidents"  # a channel name or id
    channel_prefix: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,19}$")] = "incident"
    severities: dict[str, SeverityPolicy] = Field(default_factory=_default_severities)
    declare_dedupe_seconds: Annotated[int, Field(ge=0, le=86400)] = 300
    resolve_warning_percent: Annotated[int, Field(ge=1, le=99)] = 80
    postmortem_reminder_hours: Annotated[float, Field(gt=0)] = 48  # after resolution
    archive_after_days: Annotated[float, Field(ge=0)] = 0  # 0: never archive war rooms
    targets: Targets = Field(default_factory=Targets)
    services: Services = {}  # the service catalog (bot/catalog/policy.py), checked against targets
    alerts: Alerts = Field(default_factory=AlertsPolicy)  # alerts in (bot/alerts/policy.py)
    action_defaults: ActionRule = Field(default_factory=ActionRule)
    actions: dict[str, ActionRule] = {}  # per action name, overriding action_defaults
    log_tail_max: Annotated[int, Field(ge=1, le=10000)] = 1000
    scale_max_replicas: Annotated[int, Field(ge=1, le=1000)] = 50
    scale_to_zero_namespaces: list[str] = []  # scaling to 0 is refused elsewhere
    rollout_watch_seconds: Annotated[float, Field(gt=0, le=3600)] = 300
    rollout_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 2
    postmortem_template: str = ""  # a Jinja2 file replacing the built-in Markdown template
    console: ConsoleAccess = Field(default_factory=lambda: ConsoleAccess())
    paging: PagingPolicy = Field(default_factory=PagingPolicy)  # PagerDuty / JSM on-call
    status_page: StatusPagePolicy = Field(default_factory=StatusPagePolicy)
    playbooks_dir: str = ""  # a team's playbook files; relative to the policy file
    # Private incidents (security): who is invited to their closed war rooms (user and user
    # group ids), who the announcement names as contact, and whether there is one at all.
    security_responders: list[str] = []
    security_lead: str = ""
    private_announcement: Literal["neutral", "none"] = "neutral"
    private_types: list[str] = ["security"]  # incident types declared private by default

    @field_validator("security_responders")
    @classmethod
    def _security_ids(cls, v: list[str]) -> list[str]:
        return _slack_ids(v, groups=True)

    @field_validator("security_lead")
    @classmethod
    def _security_lead(cls, v: str) -> str:
        return _slack_ids([v], groups=False)[0] if v else v

    def rule(self, action: str) -> ActionRule:
        return self.actions.get(action, self.action_defaults)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone '{v}' (use an IANA name like Europe/Berlin)"
            ) from None
        return v

    @field_validator("severities")
    @classmethod
    def _all_levels(cls, v: dict[str, SeverityPolicy]) -> dict[str, SeverityPolicy]:
        if sorted(v) != list(CODES):
            raise ValueError(f"must define exactly {', '.join(CODES)} (got {', '.join(sorted(v))})")
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def level(self, code: str) -> SeverityLevel:
        s = self.severities[code]
        return SeverityLevel(
            code=code,
            label=s.label,
            respond=timedelta(minutes=s.respond_minutes),
            resolve=timedelta(minutes=s.resolve_minutes),
            update_every=timedelta(minutes=s.update_minutes) if s.update_minutes else None,
            responders=tuple(s.responders),
            mirror_updates=s.mirror_updates,
            escalation=tuple(
                (
                    timedelta(minutes=e.after_minutes),
                    tuple(e.notify or ([] if e.page else s.responders)),
                )
                for e in (s.escalation or [EscalationStep()])
            ),
        )


def _one_line(err: ValidationError, source: str) -> str:
    e = err.errors()[0]
    key = ".".join(str(p) for p in e["loc"]) or "(top level)"
    msg = e["msg"].removeprefix("Value error, ")
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{source}: {key}: {msg}{more}"


def load_settings(**overrides: object) -> Settings:
    # Secrets the policy names by variable (paging keys, hook tokens, DSNs) may sit in `.env`
    # too; what the process environment already has wins.
    load_dotenv(ENV_FILE, override=False)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        e = err.errors()[0]
        key = str(e["loc"][0]).upper() if e["loc"] else "?"
        msg = e["msg"].removeprefix("Value error, ")
        raise ConfigError(f"environment: {key}: {msg}") from None


def load_policy(path: str | None) -> Policy:
    if not path:
        return Policy()
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"WARROOM_CONFIG: file not found: {path}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"WARROOM_CONFIG ({path}){where}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"WARROOM_CONFIG ({path}): top level must be a mapping of keys")
    try:
        return Policy(**raw)
    except ValidationError as err:
        raise ConfigError(_one_line(err, f"WARROOM_CONFIG ({path})")) from None
