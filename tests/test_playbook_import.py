"""Importing the five runbooks of ../shared/runbooks, checked line by line against golden tables
written from reading them: each fenced line's action and arguments, or why it stays manual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.playbooks.library import Library, to_yaml
from bot.playbooks.markdown import import_runbook
from commands.actions.playbooks import registry_check
from tests.runbook_golden import (
    RUNBOOK_000,
    RUNBOOK_001,
    RUNBOOK_002,
    RUNBOOK_003,
    RUNBOOK_004,
    SKIPPED_000,
    SKIPPED_001,
    SKIPPED_002,
    SKIPPED_003,
    SKIPPED_004,
)

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = ROOT.parent / "shared" / "runbooks"


GOLDEN = {
    "000": (RUNBOOK_000, SKIPPED_000),
    "001": (RUNBOOK_001, SKIPPED_001),
    "002": (RUNBOOK_002, SKIPPED_002),
    "003": (RUNBOOK_003, SKIPPED_003),
    "004": (RUNBOOK_004, SKIPPED_004),
}


def _runbook(tag: str) -> Path:
    (path,) = RUNBOOKS.glob(f"{tag}_*")
    return path


def _import(tag: str):
    path = _runbook(tag)
    return import_runbook(path.read_text(), path.name, check=registry_check())


def test_the_five_runbooks_are_there() -> None:
    assert sorted(p.name[:3] for p in RUNBOOKS.iterdir()) == sorted(GOLDEN)


@pytest.mark.parametrize("tag", sorted(GOLDEN))
def test_every_fenced_line_maps_as_the_golden_table_says(tag: str) -> None:
    golden, skipped = GOLDEN[tag]
    lines = _runbook(tag).read_text().splitlines()
    result = _import(tag)
    got = {e.line: e for e in result.report if e.outcome != "skipped"}
    assert sorted(got) == sorted(golden)
    for n, (text, action, expect) in golden.items():
        e = got[n]
        assert lines[n - 1].strip().startswith(text), (n, lines[n - 1])
        assert e.source.strip().startswith(text), (n, e.source)
        if action is None:
            assert (e.outcome, e.action) == ("manual", None), (n, e)
            assert expect in e.why, (n, e.why)
        else:
            assert (e.outcome, e.action, e.args) == ("action", action, expect), (n, e)
    assert [e.line for e in result.report if e.outcome == "skipped"] == skipped


@pytest.mark.parametrize(
    ("tag", "names", "window", "dues"),
    [
        ("000", ["outage", "performance", "security"], {"outage": 15}, set()),
        ("001", ["outage", "database", "memory", "security"], 5, {2, 24, 168}),
        (
            "002",
            ["outage", "high-error-rate", "performance", "workflow-execution-failures"],
            None,
            {24, 168},
        ),
        ("003", ["memory", "database", "outage", "performance"], 5, {2, 168}),
        ("004", ["outage", "performance", "data", "security"], 15, {2, 24, 168}),
    ],
)
def test_types_phases_windows_and_deadlines_come_from_the_headings(
    tag: str, names: list[str], window: int | dict[str, int] | None, dues: set[int]
) -> None:
    result = _import(tag)
    assert [p.name for p in result.playbooks] == names
    for pb in result.playbooks:
        phases = {p.id: p for p in pb.phases}
        want = window.get(pb.name) if isinstance(window, dict) else window
        assert (phases["immediate"].window_minutes if "immediate" in phases else None) == want
        post = phases.get("post_incident")
        assert {s.due_hours for s in post.steps if s.due_hours} == dues if post else not dues
        assert pb.private == (pb.name == "security")
        for _, step in pb.steps():
            assert "**" not in step.title and not step.title.endswith(":")
            # A line with no allow-listed equivalent is shown, never run.
            assert not (step.action and step.code)


def test_nested_bullets_comments_and_manual_code_become_steps() -> None:
    outage = _import("000").playbooks[0]
    titles = [s.title for _, s in outage.steps()]
    assert "Check infrastructure: CPU, memory, disk usage" in titles
    assert "Acknowledge the incident in monitoring system" in titles
    step = next(s for _, s in outage.steps() if s.code == "docker-compose restart ai-scientist")
    assert step.title == "Docker restart" and step.action is None
    health = next(s for _, s in outage.steps() if s.action == "health")
    assert (health.title, health.args) == ("Check service health", "{health}")
    security = _import("004").playbooks[-1]
    assert "Block suspicious IPs at firewall level" in [s.title for _, s in security.steps()]


def test_imported_playbooks_load_back_through_the_library(tmp_path: Path) -> None:
    check = registry_check()
    for tag in sorted(GOLDEN):
        result = _import(tag)
        out = tmp_path / tag / "playbooks.yaml"
        out.parent.mkdir()
        out.write_text(to_yaml(result.playbooks))
        lib = Library([out.parent], check=check, shipped=False)
        assert lib.reload() == sorted(p.name for p in result.playbooks)
        assert [lib.get(p.name) for p in result.playbooks] == result.playbooks


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "playbook", "import", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LOG_FORMAT": "text"},
    )


def test_the_cli_writes_the_playbooks_and_prints_the_report(tmp_path: Path) -> None:
    src = _runbook("001")
    r = _cli(str(src), "-o", "api.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "line  116 [API Service Down/resolution] kubectl scale" in r.stdout
    assert "-> scale deployment/active-inference-api 5 -n {namespace}" in r.stdout
    assert "manual: no allow-listed equivalent: kubectl delete is not allowed" in r.stdout
    assert r.stdout.rstrip().endswith("written api.yaml: database, memory, outage, security")
    lib = Library([tmp_path / "api.yaml"], check=registry_check(), shipped=False)
    assert lib.reload() == ["database", "memory", "outage", "security"]
    r = _cli(str(src), "--name", "lab", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert Library([tmp_path / f"{src.stem}.yaml"], shipped=False).names() == [
        "lab-database",
        "lab-memory",
        "lab-outage",
        "lab-security",
    ]


def test_the_cli_says_in_one_line_what_is_wrong(tmp_path: Path) -> None:
    r = _cli("missing.md", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "warroom: cannot read missing.md: No such file or directory\n"
    (tmp_path / "notes.md").write_text("# Notes\n\nJust words.\n")
    r = _cli("notes.md", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("warroom: notes.md: no phase headings recognised (expected")
    assert not (tmp_path / "notes.yaml").exists()


SHAPES = """\
# Checkout runbook

## Database Performance

### Immediate Actions (0-5 minutes)
1. **Page the DBA**:
   - *Primary* on-call
     - then the secondary
2. Check what runs
   ```bash
   # What is running
   psql -c "SELECT * FROM pg_stat_activity"
   kubectl delete pod postgres-0
   ```

### Recovery Verification
- [ ] Latency back to normal

### Post-Incident Actions
**Within 2 hours**
- Tell support
**Within 1 week**
- Add an index
"""


def test_the_shapes_the_importer_promises(tmp_path: Path) -> None:
    (pb,) = import_runbook(SHAPES, "shapes.md", check=registry_check()).playbooks
    assert (pb.name, pb.title) == ("database", "Database Performance")
    immediate, recovery, post = pb.phases
    assert (immediate.id, immediate.window_minutes) == ("immediate", 5)
    assert [(s.title, s.action, s.args, s.code) for s in immediate.steps] == [
        ("Page the DBA: Primary on-call", None, "", None),
        ("Page the DBA: then the secondary", None, "", None),
        ("What is running", "pg-activity", "{postgres}", None),
        ("What is running", None, "", "kubectl delete pod postgres-0"),
    ]
    assert [s.title for s in recovery.steps] == ["Latency back to normal"]
    assert [(s.title, s.due_hours) for s in post.steps] == [
        ("Tell support", 2),
        ("Add an index", 168),
    ]
