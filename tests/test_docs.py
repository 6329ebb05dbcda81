"""The README's commands are the ones that work: CI runs exactly its test command."""

from __future__ import annotations

import io
import re
from pathlib import Path

from bot.cli import main
from bot.config import Policy, load_policy
from standins.sandbox.terminal import play

ROOT = Path(__file__).resolve().parents[1]


def _shell_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    test_cmd = next(b for b in _shell_blocks(readme) if "pytest" in b)
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


def test_readme_sandbox_command_starts_the_sandbox() -> None:
    readme = (ROOT / "README.md").read_text()
    assert any(b.endswith("warroom sandbox") for b in _shell_blocks(readme))


def test_example_policy_is_the_default_policy() -> None:
    assert load_policy(str(ROOT / "policy.example.yaml")) == Policy()


def test_env_example_lists_every_setting() -> None:
    from bot.config import Settings

    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_bad_configuration_stops_with_one_line(tmp_path, monkeypatch, capsys) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("announcement_channel: [1, 2]\n")
    monkeypatch.setenv("WARROOM_CONFIG", str(bad))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "announcement_channel" in err and "configuration error" in err


def test_scripted_sandbox_plays_an_incident_end_to_end() -> None:
    out = io.StringIO()
    play((ROOT / "examples" / "checkout-outage.txt").read_text().splitlines(), out)
    transcript = out.getvalue()
    assert "INCIDENT ALERT — P1" in transcript
    assert "You are in #incident-" in transcript
    assert "You lead this incident now" in transcript
    assert "INCIDENT RESOLVED — P1" in transcript
    assert "*pushpin* Error rate jumped at 14:02" in transcript
    assert "CrashLoopBackOff" in transcript  # the demo cluster answered a diagnostic
    assert 'deployment "checkout" successfully rolled out' in transcript
    assert "Post-mortem v1 compiled" in transcript
    assert "Traceback" not in transcript
