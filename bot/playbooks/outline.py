"""A runbook's outline: headings (and bold lines standing for headings) as a tree, each with its
list items and code blocks, and what each heading means: an incident type, a phase, a post-incident
deadline, or a section that is not a procedure (symptoms, contacts, templates...)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_PSEUDO = re.compile(r"^\*\*([^*]+?)\*\*\s*:?\s*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")

IGNORE = re.compile(
    r"symptom|escalation|contact|template|useful commands|commands reference|tools and resources"
    r"|additional resources|overview|classification|severity|monitoring and alerting|key metrics"
    r"|alert thresholds|documentation|^p\d\b"
)
GENERIC = re.compile(r"process|procedure|common|scenario|checklist|incident types|runbook")
# First match wins: post-incident before "immediate" (Immediate Post-Incident), recovery
# checklists before resolution (Resolution Checklist), 'recovery actions' are fixes.
PHASE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("post_incident", re.compile(r"post[- ]?incident|post[- ]?mortem|follow[- ]?up")),
    ("resolution", re.compile(r"recovery actions")),
    ("recovery", re.compile(r"recovery|verification|confirmation|health checks|checklist")),
    ("immediate", re.compile(r"immediate|initial response|initial assessment|initial triage")),
    ("investigation", re.compile(r"investigat|diagnos|information gathering|analysis")),
    ("resolution", re.compile(r"resolution|mitigation|remediat")),
]
TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("security", re.compile(r"security|breach|unauthori[sz]ed")),
    ("memory", re.compile(r"memory|\boom\b")),
    ("database", re.compile(r"database|\bdb\b|postgres")),
    ("data", re.compile(r"\bdata\b")),
    ("performance", re.compile(r"performance|response time|latency|slow")),
    ("outage", re.compile(r"outage|\bdown\b|unavailable")),
]


def clean(text: str) -> str:
    """Heading or item text without emoji, numbering, bold, links, checkboxes, end colon."""
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    t = t.replace("**", "").replace("__", "")
    t = re.sub(r"(?<!\w)[*_]([^*_]+)[*_](?!\w)", r"\1", t)  # *emphasis*
    t = re.sub(r"^\s*\[[ xX]\]\s*", "", t)
    t = re.sub(r"^[^\w(<\[`]+", "", t)  # emoji and mojibake before the words
    t = re.sub(r"^\d+(\.\d+)*\.?\s+", "", t)
    return t.strip().rstrip(":").strip()


@dataclass
class Item:
    line: int
    indent: int
    text: str


@dataclass
class CommandItem:
    line: int
    title: str | None
    command: str | None  # None: a comment standing alone, an instruction


@dataclass
class Block:
    kind: str  # "item" | "code"
    line: int
    text: str = ""  # item: its text
    indent: int = 0
    children: list[Item] = field(default_factory=list)
    lang: str = ""  # code
    lines: list[tuple[int, str]] = field(default_factory=list)
    parent: str | None = None  # code: the list item it belongs to

    def command_lines(self) -> list[tuple[int, str]]:
        if self.kind != "code" or self.lang not in ("bash", "sh", "shell", "sql"):
            return []
        mark = "--" if self.lang == "sql" else "#"
        return [(n, t) for n, t in self.lines if t.strip() and not t.strip().startswith(mark)]

    def commands(self) -> Iterator[CommandItem]:
        mark = "--" if self.lang == "sql" else "#"
        title: str | None = None
        pending: CommandItem | None = None
        prev = "start"
        for n, raw in _joined(self.lines):
            s = raw.strip()
            if not s:
                if pending:
                    yield pending
                pending, title, prev = None, None, "blank"
                continue
            if s.startswith(mark):
                text = clean(re.sub(r"^[-\s]+", "", s[len(mark) :]))
                if not text:
                    continue
                if prev == "command":
                    yield CommandItem(n, text, None)  # an instruction between commands
                else:
                    if pending:
                        yield pending
                    pending, title = CommandItem(n, text, None), text
                prev = "comment"
                continue
            pending, prev = None, "command"
            yield CommandItem(n, title, s)
        if pending:
            yield pending


def _joined(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Shell continuation lines (ending in a backslash) read as one."""
    start, acc = 0, ""
    for n, t in lines:
        if acc:
            acc += " " + t.strip()
        else:
            start, acc = n, t
        if acc.rstrip().endswith("\\"):
            acc = acc.rstrip()[:-1]
            continue
        yield start, acc
        acc = ""
    if acc:
        yield start, acc


@dataclass
class Node:
    title: str
    level: int
    line: int
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    own_phase: str | None = None
    type: str | None = None
    ignored: bool = False
    symptoms: bool = False
    window: int | None = None  # immediate: minutes, inherited
    due: float | None = None  # post-incident: hours, inherited

    @property
    def clean(self) -> str:
        return clean(self.title)

    @property
    def items(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "item"]

    @property
    def phase_node(self) -> Node | None:
        n: Node | None = self
        while n is not None and n.own_phase is None:
            n = n.parent
        return n

    @property
    def phase(self) -> str | None:
        p = self.phase_node
        return p.own_phase if p else None

    @property
    def type_node(self) -> Node | None:
        n: Node | None = self
        while n is not None and n.type is None:
            n = n.parent
        return n


@dataclass
class Outline:
    title: str
    nodes: list[Node]


def _phase_of(text: str) -> str | None:
    return next((pid for pid, rx in PHASE_PATTERNS if rx.search(text)), None)


def _window(text: str) -> int | None:
    for rx in (r"\d+\s*(?:-|–|to)\s*(\d+)\s*min", r"first\s+(\d+)\s*min", r"\(\s*(\d+)\s*min"):
        m = re.search(rx, text)
        if m:
            return int(m.group(1))
    return None


def _due(text: str) -> float | None:
    for rx, mult in ((r"(\d+)\s*hours?", 1), (r"(\d+)\s*days?", 24), (r"(\d+)\s*weeks?", 168)):
        m = re.search(rx, text)
        if m:
            return float(int(m.group(1)) * mult)
    return None


def _classify(node: Node) -> None:
    t = node.clean.lower()
    parent = node.parent
    node.window = parent.window if parent else None
    node.due = parent.due if parent else None
    if (parent and parent.ignored) or IGNORE.search(t):
        node.ignored = True
        node.symptoms = "symptom" in t
        return
    in_post = parent is not None and parent.phase == "post_incident"
    phase = _phase_of(t)
    if in_post and phase != "recovery":
        node.own_phase, node.due = "post_incident", _due(t) or node.due
    elif phase:
        node.own_phase = phase
        if phase == "immediate":
            node.window = _window(t) or node.window
        if phase == "post_incident":
            node.due = _due(t)
    else:
        node.type = next((k for k, rx in TYPE_PATTERNS if rx.search(t)), None)


def _name_unknown_types(nodes: list[Node]) -> None:
    """A heading with phases under it that names no known type is a type of its own."""

    def has_type(n: Node) -> bool:
        return any(c.type or has_type(c) for c in n.children)

    procedure = {"immediate", "investigation", "resolution"}
    for n in nodes:
        if n.type or n.own_phase or n.ignored or GENERIC.search(n.clean.lower()):
            continue
        # Only a procedure of its own makes a type; a page's title over general phases does not.
        if any(c.own_phase in procedure for c in n.children) and not has_type(n):
            words = re.sub(r"\b(alert|response|issues?|incident)\b", "", n.clean.lower())
            n.type = re.sub(r"[^a-z0-9]+", "-", words).strip("-")[:40].strip("-") or None


def parse(text: str) -> Outline:
    lines = text.splitlines()
    root = Node("", 0, 0)
    nodes: list[Node] = []
    cur, real_level = root, 0
    i = 0
    while i < len(lines):
        raw, n = lines[i], i + 1
        fence = _FENCE.match(raw)
        if fence:
            indent, marker, lang = len(fence.group(1)), fence.group(2), fence.group(3).lower()
            body: list[tuple[int, str]] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append((i + 1, lines[i]))
                i += 1
            _attach_code(cur, Block("code", n, indent=indent, lang=lang, lines=body))
            i += 1
            continue
        h = _HEADING.match(raw)
        p = None if h else _PSEUDO.match(raw.strip()) if not raw.startswith(" ") else None
        if h or p:
            level = len(h.group(1)) if h else real_level + 1
            if h:
                real_level = level
            while cur is not root and cur.level >= level:
                cur = cur.parent or root
            node = Node(h.group(2) if h else p.group(1), level, n, parent=cur)  # type: ignore[union-attr]
            cur.children.append(node)
            _classify(node)
            nodes.append(node)
            cur = node
        else:
            item = _ITEM.match(raw)
            if item:
                _attach_item(cur, Item(n, len(item.group(1).expandtabs(4)), clean(item.group(2))))
        i += 1
    _name_unknown_types(nodes)
    title = next((clean(n.title) for n in nodes if n.level == 1), "")
    return Outline(title, nodes)


def _attach_item(node: Node, item: Item) -> None:
    last = node.blocks[-1] if node.blocks else None
    if last is not None and last.kind == "item" and item.indent > last.indent:
        last.children.append(item)
    else:
        node.blocks.append(Block("item", item.line, text=item.text, indent=item.indent))


def _attach_code(node: Node, block: Block) -> None:
    """A code block under a list item (indented, or right below it) belongs to that item."""
    last = node.blocks[-1] if node.blocks else None
    owned = last is not None and last.kind == "item" and not last.children
    if owned and (block.indent > last.indent or block.line == last.line + 1):  # type: ignore[union-attr]
        block.parent = last.text  # type: ignore[union-attr]
        node.blocks.pop()
    node.blocks.append(block)


def keywords_of(title: str) -> list[str]:
    stop = {"the", "and", "with", "from", "high", "response", "alert", "issues", "incident"}
    return [w for w in re.findall(r"[a-z0-9]+", title.lower()) if len(w) > 2 and w not in stop]
