"""The playbook library: the shipped playbooks and a team's own, validated, reloaded on change.

A team's files (YAML, one playbook or a list of them per file) live in the directory the policy
names (`playbooks_dir`); a team playbook replaces a shipped one of the same name. Files are
re-read when one changes (a few `stat` calls per lookup) or on `reload()`.

Which actions exist and how their arguments parse is the registry's business (commands/): the
library is given a `StepCheck` at wiring, so the core imports no command module.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import ValidationError

from bot.playbooks import marked
from bot.playbooks.model import Playbook

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).resolve().parent / "shipped"
PLACEHOLDERS: tuple[str, ...] = ("namespace", "workload", "selector", "postgres", "redis", "health")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class PlaybookError(ValueError):
    """A bad playbook file: one line with the file, the line, what is wrong and what is allowed."""


class StepCheck(Protocol):
    """What the registry tells the library: the action names, and whether arguments parse."""

    def actions(self) -> Mapping[str, str]:
        """Action name -> its usage line."""
        ...

    def __call__(self, action: str, args: str) -> None:
        """Raise ValueError (the parser's reason) when `args` (placeholders in) do not parse.
        Shape only: never the current policy's limits or lists, which change while a playbook
        stays (a step the policy refuses is shown "not runnable" on the checklist instead)."""
        ...


def placeholders(args: str) -> list[str]:
    return _PLACEHOLDER.findall(args)


def fill(args: str, values: Mapping[str, str]) -> str:
    """Replace {placeholders}; a missing value raises KeyError naming the placeholder."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], args)


def _one_line(err: ValidationError) -> tuple[tuple[Any, ...], str]:
    e = err.errors()[0]
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        msg = "unknown key"
    elif e["type"] == "literal_error":
        msg = msg.replace("Input should be", "allowed:")
    where = ".".join(str(p) for p in e["loc"])
    return tuple(e["loc"]), f"{where}: {msg}" if where else msg


def parse_file(path: Path, text: str, check: StepCheck | None = None) -> list[Playbook]:
    """The playbooks of one file, fully validated, or PlaybookError naming file and line."""
    shown = str(path)
    try:
        tree = marked.load(text)
    except marked.YamlError as e:
        raise PlaybookError(f"{shown} line {e.line}: {e.problem}") from None
    items = tree if isinstance(tree, list) else [tree]
    lines = tree.item_lines if isinstance(tree, marked.MarkedList) else [getattr(tree, "line", 1)]
    out = []
    for raw, line in zip(items, lines, strict=True):
        if not isinstance(raw, dict):
            raise PlaybookError(
                f"{shown} line {line}: a playbook is a mapping with name, title and phases"
            )
        try:
            pb = Playbook.model_validate(dict(raw))
        except ValidationError as err:
            loc, msg = _one_line(err)
            raise PlaybookError(f"{shown} line {marked.line_of(raw, loc)}: {msg}") from None
        problem = _problem(pb, check)
        if problem:
            loc, msg = problem
            raise PlaybookError(f"{shown} line {marked.line_of(raw, loc)}: {msg}")
        out.append(pb)
    return out


def _problem(pb: Playbook, check: StepCheck | None) -> tuple[tuple[Any, ...], str] | None:
    """What pydantic cannot see: unique ids, phase-only fields, actions and their arguments."""
    seen_phases: set[str] = set()
    seen_steps: set[str] = set()
    actions = check.actions() if check else None
    for pi, phase in enumerate(pb.phases):
        at = ("phases", pi)
        if phase.id in seen_phases:
            return (*at, "id"), f"phase '{phase.id}' appears twice (one section per phase)"
        seen_phases.add(phase.id)
        if phase.window_minutes is not None and phase.id != "immediate":
            return (*at, "window_minutes"), "window_minutes is only for the immediate phase"
        for si, step in enumerate(phase.steps):
            sat = (*at, "steps", si)
            if step.id in seen_steps:
                return (*sat, "id"), f"step id '{step.id}' is used twice (ids must be unique)"
            seen_steps.add(step.id)
            if step.due_hours is not None and phase.id != "post_incident":
                return (*sat, "due_hours"), "due_hours is only for post_incident steps"
            if step.action is None:
                if step.args:
                    return (*sat, "args"), f"step '{step.id}': args without an action"
                continue
            if step.code is not None:
                return (*sat, "code"), f"step '{step.id}': code is for manual steps only"
            bad = [p for p in placeholders(step.args) if p not in PLACEHOLDERS]
            if bad:
                allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                return (*sat, "args"), (
                    f"step '{step.id}': unknown placeholder {{{bad[0]}}} (allowed: {allowed})"
                )
            if actions is None or check is None:
                continue
            if step.action not in actions:
                return (*sat, "action"), (
                    f"step '{step.id}': unknown action '{step.action}' "
                    f"(allowed: {', '.join(sorted(actions))})"
                )
            try:
                check(step.action, step.args)
            except ValueError as e:
                return (*sat, "args"), (
                    f"step '{step.id}': `{step.action} {step.args}` does not parse: {e} "
                    f"(usage: {actions[step.action]})"
                )
    return None


def _words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return set(words) | {w[:-1] for w in words if len(w) > 3 and w.endswith("s")}  # 500s, OOMs


class Library:
    """Shipped playbooks overlaid by each directory's in turn; cheap to call per request."""

    def __init__(
        self,
        dirs: Iterable[str | Path] = (),
        check: StepCheck | None = None,
        shipped: bool = True,
    ) -> None:
        self.dirs = [Path(d) for d in dirs]
        self.check = check
        self.shipped = shipped
        self.errors: list[str] = []  # the last refresh's problems (the good version stays)
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        # file -> (its stat when read, its playbooks (the last good ones), its error)
        self._cache: dict[Path, tuple[Any, list[Playbook], str | None]] = {}
        self._playbooks: dict[str, Playbook] = {}

    @classmethod
    def for_policy(
        cls, playbooks_dir: str, policy_path: str = "", check: StepCheck | None = None
    ) -> Library:
        """The policy's `playbooks_dir`, relative to the policy file unless absolute."""
        if not playbooks_dir:
            return cls(check=check)
        d = Path(playbooks_dir)
        if not d.is_absolute() and policy_path:
            d = Path(policy_path).resolve().parent / d
        return cls([d], check=check)

    def bind(self, check: StepCheck) -> None:
        """Validate actions against the registry from now on (the next lookup re-reads)."""
        with self._lock:
            self.check = check
            self._stamp = None
            self._cache.clear()

    # -- lookups -------------------------------------------------------------

    def get(self, name: str) -> Playbook | None:
        return self._current().get(name.strip().lower())

    def names(self) -> list[str]:
        return sorted(self._current())

    def all(self) -> list[Playbook]:
        pbs = self._current()
        return [pbs[n] for n in sorted(pbs)]

    def suggest(self, title: str, service_playbooks: Sequence[str] = ()) -> str | None:
        """A service's one default playbook; else the playbook whose keywords best match the
        title, ties and no match going to the service's defaults (in their order)."""
        pbs = self._current()
        defaults = [n for n in service_playbooks if n in pbs]
        if len(service_playbooks) == 1 and defaults:
            return defaults[0]  # the team said what this service's incidents are
        words = _words(title)
        text = " ".join(re.findall(r"[a-z0-9]+", title.lower()))
        best, best_score = None, 0
        order = [n for n in service_playbooks if n in pbs] + sorted(pbs)
        for name in dict.fromkeys(order):
            score = 0
            for kw in pbs[name].keywords:
                k = " ".join(re.findall(r"[a-z0-9]+", kw.lower()))
                if k and (k in words or (" " in k and f" {k} " in f" {text} ")):
                    score += 2 if " " in k else 1
            if score > best_score:
                best, best_score = name, score
        if best:
            return best
        return next((n for n in service_playbooks if n in pbs), None)

    # -- loading -------------------------------------------------------------

    def reload(self) -> list[str]:
        """Re-read every file now; raise PlaybookError on the first bad one. Returns the names."""
        with self._lock:
            missing = [d for d in self.dirs if not d.exists()]
            if missing:
                raise PlaybookError(f"{missing[0]}: no such playbooks directory (playbooks_dir)")
            self._stamp = None
            self._cache.clear()
            self._load(strict=True)
            return sorted(self._playbooks)

    def _files(self) -> list[Path]:
        files: list[Path] = []
        if self.shipped:
            files += sorted(SHIPPED.glob("*.yaml"))
        for d in self.dirs:
            if d.is_dir():
                files += sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml"))
            elif d.exists() or d.suffix in (".yaml", ".yml"):
                files.append(d)
        return files

    def _current(self) -> dict[str, Playbook]:
        with self._lock:
            self._load(strict=False)
            return self._playbooks

    def _load(self, strict: bool) -> None:
        files = self._files()
        stamp = tuple(_stat(p) for p in files)
        if stamp == self._stamp:
            return
        errors: list[str] = []
        playbooks: dict[str, Playbook] = {}
        defined: dict[str, Path] = {}
        for p, st in zip(files, stamp, strict=True):
            cached = self._cache.get(p)
            if cached is None or cached[0] != st:
                try:
                    cached = (st, parse_file(_shown(p), p.read_text(), self.check), None)
                except (PlaybookError, OSError, UnicodeDecodeError) as e:
                    log.warning("playbook file not loaded: %s", e)
                    # The last good version stays in service while the file is being fixed.
                    cached = (st, cached[1] if cached else [], str(e))
                self._cache[p] = cached
            _, pbs, err = cached
            if err:
                errors.append(err)
            for pb in pbs:
                first = defined.get(pb.name)
                if first is not None and first.parent == p.parent:
                    errors.append(
                        f"{_shown(p)}: playbook '{pb.name}' is already defined in {_shown(first)}"
                    )
                    continue
                defined[pb.name] = p
                playbooks[pb.name] = pb  # a team's directory overrides the shipped ones
        if strict and errors:
            raise PlaybookError(errors[0])
        self._playbooks, self._stamp, self.errors = playbooks, stamp, errors


def _stat(p: Path) -> tuple[str, int, int]:
    try:
        st = os.stat(p)
    except OSError:
        return (str(p), -1, -1)
    return (str(p), st.st_mtime_ns, st.st_size)


def _shown(p: Path) -> Path:
    """Shipped files by their package path, team files as given (relative to the cwd if under)."""
    try:
        return p.relative_to(SHIPPED.parent.parent.parent)
    except ValueError:
        pass
    try:
        return p.resolve().relative_to(Path.cwd())
    except ValueError:
        return p


def to_yaml(playbooks: Sequence[Playbook]) -> str:
    """The file a team keeps: one playbook as a mapping, several as a list."""
    data = [p.model_dump(mode="json", exclude_defaults=True) for p in playbooks]
    body = data[0] if len(data) == 1 else data
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
