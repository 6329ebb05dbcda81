"""Import a Markdown runbook as it is written: its headings name incident types and phases,
its list items become manual steps, the lines of its shell and SQL blocks become action steps
where an allow-listed equivalent exists (bot.playbooks.translate), manual code otherwise.

Knows nothing of Slack. Returns the playbooks and a report of every block line and step.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bot.playbooks import outline
from bot.playbooks.model import PHASES, Phase, Playbook, Step
from bot.playbooks.outline import Node
from bot.playbooks.translate import Mapped, manual, translate

# The registry's word on a mapped line: raise ValueError when the action refuses the args.
Check = Callable[[str, str], None]
SHELL = {"", "bash", "sh", "shell", "console", "zsh", "text"}


class RunbookError(ValueError):
    """The file cannot be imported; one line saying why."""


@dataclass
class Entry:
    """One report line: a source line and what became of it."""

    line: int
    source: str
    outcome: str  # "action" | "manual" | "skipped"
    action: str | None = None
    args: str = ""
    why: str = ""
    playbooks: list[str] = field(default_factory=list)
    phase: str | None = None


@dataclass
class Imported:
    playbooks: list[Playbook]
    report: list[Entry]

    def report_text(self) -> str:
        out = []
        for e in self.report:
            where = f"{','.join(e.playbooks)}/{e.phase}" if e.phase else "-"
            if e.outcome == "action":
                what = f"-> {e.action} {e.args}".rstrip()
                what += f"  ({e.why})" if e.why else ""
            else:
                what = f"{e.outcome}: {e.why}"
            out.append(f"line {e.line:>4} [{where}] {e.source.strip()[:90]}\n           {what}")
        mapped = sum(e.outcome == "action" for e in self.report)
        kept = sum(e.outcome == "manual" for e in self.report)
        skipped = sum(e.outcome == "skipped" for e in self.report)
        names = ", ".join(p.name for p in self.playbooks)
        out.append(
            f"{len(self.playbooks)} playbook(s): {names}; {mapped} line(s) mapped to actions, "
            f"{kept} manual, {skipped} skipped"
        )
        return "\n".join(out)


@dataclass
class _Draft:
    """Steps gathered for one scope (an incident type, or None: the whole runbook)."""

    title: str
    line: int
    phases: dict[str, list[Step]] = field(default_factory=dict)
    window: int | None = None
    symptoms: list[str] = field(default_factory=list)
    health_host: str = ""


def import_runbook(
    text: str, source: str, check: Check | None = None, name: str | None = None
) -> Imported:
    doc = outline.parse(text)
    if not any(n.phase for n in doc.nodes):
        raise RunbookError(
            f"{source}: no phase headings recognised (expected headings like 'Immediate "
            "Actions (0-15 minutes)', 'Investigation Steps', 'Resolution Steps', 'Recovery "
            "Checklist', 'Post-Incident Actions')"
        )
    drafts: dict[str | None, _Draft] = {}
    report: list[Entry] = []
    for node in doc.nodes:
        _gather(node, drafts, report, check)
    return Imported(_assemble(drafts, doc.title, source, name), report)


def _draft(drafts: dict[str | None, _Draft], node: Node) -> _Draft:
    t = node.type_node
    key = t.type if t else None
    if key not in drafts:
        drafts[key] = _Draft(t.clean if t else "", t.line if t else 0)
    return drafts[key]


def _gather(
    node: Node, drafts: dict[str | None, _Draft], report: list[Entry], check: Check | None
) -> None:
    if node.symptoms and node.type_node:
        _draft(drafts, node).symptoms += [i.text for i in node.items]
    phase = None if node.ignored else node.phase_node
    for block in node.blocks:
        if phase is None:
            why = f"not under a phase heading (section '{node.clean}')"
            if node.ignored:
                why = f"section '{node.clean}' is not a procedure"
            report += [Entry(n, t, "skipped", why=why) for n, t in block.command_lines()]
            continue
        d = _draft(drafts, node)
        pid = phase.phase
        if pid == "immediate" and d.window is None:
            d.window = node.window
        steps = d.phases.setdefault(pid, [])
        due = node.due if pid == "post_incident" else None
        for step, entry in _steps(block, node, d, check):
            steps.append(step.model_copy(update={"due_hours": due}))
            if entry:
                entry.phase = pid
                entry.playbooks = [d.title or "(all)"]
                report.append(entry)


def _steps(
    block: outline.Block, node: Node, d: _Draft, check: Check | None
) -> Iterator[tuple[Step, Entry | None]]:
    """(Step, report entry or None) for one list item or code block."""
    if block.kind == "item":
        if block.children:
            for child in block.children:
                title = f"{block.text}: {child.text}" if block.text else child.text
                yield Step(id="x", title=_clip(title)), None
        else:
            yield Step(id="x", title=_clip(block.text)), None
        return
    if block.lang not in SHELL and block.lang != "sql":
        code = "\n".join(t for _, t in block.lines).strip()
        if code:
            title = block.parent or node.clean
            yield (
                Step(id="x", title=_clip(title), code=code),
                Entry(
                    block.line,
                    f"```{block.lang}",
                    "manual",
                    why=f"a {block.lang} block: shown as code, never run",
                ),
            )
        return
    for item in block.commands():
        if item.command is None:  # a comment on its own: an instruction
            why = "a comment on its own: an instruction, a manual step"
            yield (
                Step(id="x", title=_clip(item.title or "Step")),
                Entry(item.line, f"# {item.title}", "manual", why=why),
            )
            continue
        title = item.title or block.parent or node.clean
        m = translate(item.command, sql=block.lang == "sql")
        m = _health(m, title, d)
        if m.action and check is not None:
            try:
                check(m.action, m.args)
            except ValueError as e:
                m = manual(f"`{m.action} {m.args}` is refused by the action: {e}")
        entry = Entry(item.line, item.command, "action" if m.action else "manual")
        if m.action:
            entry.action, entry.args, entry.why = m.action, m.args, "; ".join(m.notes)
            step = Step(id="x", title=_clip(title), action=m.action, args=m.args)
        else:
            entry.why = m.why
            step = Step(id="x", title=_clip(title), code=item.command)
        yield step, entry


def _health(m: Mapped, title: str, d: _Draft) -> Mapped:
    """A health URL becomes the service's health check ({health}); another endpoint stays manual."""
    if m.action != "health":
        return m
    host = re.sub(r"^https?://", "", m.url).split("/")[0]
    if re.search(r"dependenc|external", title, re.I):
        return manual(
            f"a dependency's endpoint ({host}): name it in the policy's targets.http "
            "and make the step `health <name>`"
        )
    if d.health_host and host != d.health_host:
        return manual(
            f"another endpoint than the service's ({host}): name it in the policy's "
            "targets.http and make the step `health <name>`"
        )
    d.health_host = host
    m.notes.append(f"{m.url} is the service's health check, named in the policy: {{health}}")
    return m


def _clip(text: str) -> str:
    text = " ".join(text.split()) or "Step"
    return text if len(text) <= 200 else text[:199] + "…"


def _slug(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return s if s and s[0].isalnum() else f"s-{s}"[:limit].strip("-") or "step"


def _assemble(
    drafts: dict[str | None, _Draft], doc_title: str, source: str, name: str | None
) -> list[Playbook]:
    general = drafts.get(None)
    types = [k for k in drafts if k is not None]
    scopes: list[str | None] = [*types] if types else [None]
    out = []
    for key in scopes:
        d = drafts[key]
        phases = []
        window = d.window or (general.window if general else None)
        for pid in PHASES:
            steps = d.phases.get(pid) or (general.phases.get(pid, []) if general else [])
            if steps:
                title = {
                    "immediate": "Immediate actions",
                    "investigation": "Investigation",
                    "resolution": "Resolution",
                    "recovery": "Recovery verification",
                    "post_incident": "Post-incident actions",
                }[pid]
                win = window if pid == "immediate" else None
                if win:
                    title += f" (first {win} minutes)"
                phases.append(Phase(id=pid, title=title, window_minutes=win, steps=steps))
        if not phases:
            continue
        pname = key or _slug(doc_title or "imported")
        if name:
            pname = name if len(scopes) == 1 else f"{name}-{pname}"
        out.append(
            Playbook(
                name=_slug(pname),
                title=_clip(d.title or doc_title or pname)[:150],
                summary=("Symptoms: " + "; ".join(d.symptoms))[:500] if d.symptoms else "",
                keywords=_keywords(key, d.title),
                private=key == "security",
                source=source,
                phases=_with_ids(phases),
            )
        )
    return out


def _with_ids(phases: list[Phase]) -> list[Phase]:
    seen: set[str] = set()
    out = []
    for p in phases:
        steps = []
        for s in p.steps:
            base = _slug(s.title, 36)
            sid, n = base, 2
            while sid in seen:
                sid, n = f"{base}-{n}", n + 1
            seen.add(sid)
            steps.append(s.model_copy(update={"id": sid}))
        out.append(p.model_copy(update={"steps": steps}))
    return out


def _keywords(key: str | None, title: str) -> list[str]:
    """A known type keeps the shipped playbook's keywords; another, the words of its heading."""
    shipped = _shipped_keywords().get(key or "")
    return list(shipped) if shipped else outline.keywords_of(title)


@functools.cache
def _shipped_keywords() -> dict[str, tuple[str, ...]]:
    from bot.playbooks.library import Library

    return {p.name: tuple(p.keywords) for p in Library().all()}
