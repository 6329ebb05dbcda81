"""`services:` in the policy: each service's workloads, targets, checks, owners and playbooks.

Checked against `targets:` when the policy loads, so a typo fails at start, not at 3 a.m.
Imports nothing of `bot.config` (which imports this): the targets are read by attribute.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
WORKLOAD_KINDS = {
    "deployment": "deployment",
    "deploy": "deployment",
    "statefulset": "statefulset",
    "sts": "statefulset",
    "daemonset": "daemonset",
    "ds": "daemonset",
}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Equality-based selectors (`app=checkout,tier!=canary`); set-based ones go in actions' -l.
_SELECTOR = re.compile(
    r"^[A-Za-z0-9][-A-Za-z0-9_./]{0,252}(==|!=|=)[-A-Za-z0-9_.]{0,63}"
    r"(,[A-Za-z0-9][-A-Za-z0-9_./]{0,252}(==|!=|=)[-A-Za-z0-9_.]{0,63})*$"
)


def _listed(v: Any) -> Any:
    """`postgres: shop-db` reads as `postgres: [shop-db]`."""
    return [v] if isinstance(v, str) else v


Names = Annotated[list[str], BeforeValidator(_listed)]


class Service(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""  # the key under `services:`; filled in when the catalog is checked
    title: Annotated[str, Field(max_length=80)] = ""
    namespace: str = ""
    workloads: Names = []  # `deployment/checkout`, `statefulset/postgres`
    selector: str = ""  # the pods of the service, e.g. `app=checkout`
    postgres: Names = []  # names in targets.postgres
    redis: Names = []  # names in targets.redis
    health: Names = []  # names in targets.http
    owners: Names = []  # Slack user ids (U…) and user group ids (S…): invited, escalated to
    playbooks: Names = []  # default playbooks (incident types), checked against the library
    aliases: Names = []  # other names a person may type: `checkout-api`, `co`
    keywords: Names = []  # words that point to it in a message, for *Declare from message*

    @property
    def label(self) -> str:
        return self.title or self.name

    def workload_refs(self) -> list[tuple[str, str]]:
        """[("deployment", "checkout"), …], kinds spelled in full."""
        out = []
        for w in self.workloads:
            kind, _, name = w.partition("/")
            out.append((WORKLOAD_KINDS[kind.lower()], name))
        return out

    @property
    def deployments(self) -> list[str]:
        return [name for kind, name in self.workload_refs() if kind == "deployment"]

    def owner_users(self) -> list[str]:
        return [o for o in self.owners if not o.startswith("S")]

    def owner_groups(self) -> list[str]:
        return [o for o in self.owners if o.startswith("S")]

    def placeholders(self) -> dict[str, str]:
        """What a playbook step's `{placeholders}` become for this service ("" when unknown)."""
        first = self.workload_refs()[:1]
        return {
            "service": self.name,
            "namespace": self.namespace,
            "workload": f"{first[0][0]}/{first[0][1]}" if first else "",
            "selector": self.selector,
            "postgres": self.postgres[0] if self.postgres else "",
            "redis": self.redis[0] if self.redis else "",
            "health": self.health[0] if self.health else "",
        }


def _check_one(name: str, svc: Service, targets: Any) -> None:
    def bad(what: str) -> ValueError:
        return ValueError(f"{name}: {what}")

    if not SLUG.match(name):
        raise bad("a service name is lowercase letters, digits, '-' and '_' (at most 40)")
    if svc.name and svc.name != name:
        raise bad(f"name '{svc.name}' differs from its key; leave name out")
    svc.name = name
    if targets is None:
        return  # targets itself failed validation: that error is the one to show
    k8s = getattr(targets, "kubernetes", None)
    allowed = list(k8s.namespaces) if k8s is not None else []
    if (svc.workloads or svc.selector) and not svc.namespace:
        raise bad("workloads and selector need the service's namespace")
    if svc.namespace:
        if k8s is None:
            raise bad("has a namespace but targets.kubernetes is not configured")
        if svc.namespace not in allowed:
            raise bad(
                f"namespace '{svc.namespace}' is not in targets.kubernetes.namespaces "
                f"(known: {', '.join(allowed) or 'none'})"
            )
    for w in svc.workloads:
        kind, sep, wname = w.partition("/")
        if not sep or kind.lower() not in WORKLOAD_KINDS or not _DNS_NAME.match(wname):
            raise bad(
                f"workload '{w}' is not kind/name with kind deployment, statefulset or daemonset "
                "(e.g. deployment/checkout)"
            )
    if svc.selector and not _SELECTOR.match(svc.selector.replace(" ", "")):
        raise bad(f"selector '{svc.selector}' is not a label selector like app=checkout")
    for field, kind in (("postgres", "postgres"), ("redis", "redis"), ("health", "http")):
        known = list(getattr(targets, kind, {}) or {})
        for t in getattr(svc, field):
            if t not in known:
                raise bad(
                    f"{field} target '{t}' is not in targets.{kind} "
                    f"(known: {', '.join(known) or 'none'})"
                )
    for o in svc.owners:
        if not (o[:1] in ("U", "W", "S") and o[1:].isalnum() and o == o.upper()):
            raise bad(f"owner '{o}' is not a Slack user id (U012ABCDEF) or user group id (S0…)")
    for p in svc.playbooks:
        if not SLUG.match(p):
            raise bad(f"playbook '{p}' is not a playbook name (lowercase, like outage)")


def _check(services: dict[str, Service], info: ValidationInfo) -> dict[str, Service]:
    targets = info.data.get("targets")  # validated before `services` (field order)
    seen: dict[str, str] = {}
    for name, svc in services.items():
        _check_one(name, svc, targets)
        for word in [name, *svc.aliases]:
            key = word.lower()
            if not SLUG.match(key):
                raise ValueError(
                    f"service '{name}': alias '{word}' is not a name like checkout-api"
                )
            if seen.get(key, name) != name:
                raise ValueError(f"{name}: '{word}' already names service '{seen[key]}'")
            seen[key] = name
    return services


# The one field bot.config.Policy adds: `services: Services = {}` after `targets`.
Services = Annotated[dict[str, Service], AfterValidator(_check)]


def unknown_playbook(services: dict[str, Service], known: list[str]) -> str | None:
    """The first service default naming no loaded playbook, as one line; None when all do."""
    for name, svc in services.items():
        for p in svc.playbooks:
            if p not in known:
                return (
                    f"services.{name}.playbooks: no playbook '{p}' "
                    f"(known: {', '.join(sorted(known))})"
                )
    return None
