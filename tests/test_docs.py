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
    """The demo: a P1 for `checkout`, its outage checklist followed by pressing the checklist's
    own buttons (done, run with bob's approval, skip with a reason, roll back), then resolved,
    ending with the post-mortem and its Response section."""
    out = io.StringIO()
    play((ROOT / "examples" / "checkout-outage.txt").read_text().splitlines(), out)
    transcript = out.getvalue()
    assert "INCIDENT ALERT — P1" in transcript
    assert "for service `checkout`, type `outage`" in transcript
    assert "You are in #incident-" in transcript
    assert "You lead this incident now" in transcript
    # The checklist is pinned, and its buttons carry their step's number.
    assert "Checklist — Service outage / API down" in transcript
    assert re.search(r"\[\d+\] Run step 3   \[\d+\] Skip step 3", transcript)
    # Every press found its button and every line was understood.
    for refused in ("No button labelled", "No such number", "No form is open", "Sandbox:"):
        assert refused not in transcript
    assert "Traceback" not in transcript
    # Pods and logs run from the checklist, approved by bob; the demo cluster answered.
    assert "“Check the service's pods”: Request #1 for `pods` is waiting" in transcript
    assert "3 pod(s), 3 not ready" in transcript and "CrashLoopBackOff" in transcript
    assert "“Check the service's logs”: Request #2 for `logs` is waiting" in transcript
    assert "nil pointer dereference" in transcript
    assert "Skipped “Check service health”" in transcript
    # The rollback, from the checklist's resolution step, applied and rolled out.
    assert "“Roll back if a recent deployment caused it”" in transcript
    assert "rolled back to revision 2" in transcript
    assert 'deployment "checkout" successfully rolled out' in transcript
    # The checklist message is shown again as it changes, step by step.
    assert "6 of 30 steps finished · 2 done · 3 run · 1 skipped" in transcript
    assert "INCIDENT RESOLVED — P1" in transcript
    assert "Post-mortem v1 compiled" in transcript
    # The post-mortem file is shown, with the pinned message and the Response section.
    assert "📎 postmortem-" in transcript
    assert "Error rate jumped at 14:02, right after deploy 1.42 ([message]" in transcript
    response = transcript.split("│ ## Response", 1)[1].split("│ ## ", 1)[0]
    assert "Playbook `outage`: 2 of 30 steps done, 3 run, 1 skipped, 24 left open." in response
    assert "[x] Acknowledge the incident in the monitoring system — done by @alice" in response
    assert re.search(
        r"\[x\] Check the service's pods \(`pods deployment/checkout -n shop`\) — run by @alice"
        r".*request #1 succeeded",
        response,
    )
    assert re.search(r"\[x\] Check the service's logs .* — run by @alice.*request #2 succeeded",
                     response)  # fmt: skip
    assert re.search(
        r"\[-\] Check service health \(`health warroom`\) — skipped by @alice.*: "
        r"The status page already shows checkout down",
        response,
    )
    assert re.search(r"\[x\] Roll back if a recent deployment caused it .*request #3 succeeded",
                     response)  # fmt: skip
    assert "[ ] Check recent events of the workload" in response  # left open


def test_secrets_the_policy_names_may_sit_in_dot_env(tmp_path, monkeypatch) -> None:
    import os

    from bot.config import load_settings

    (tmp_path / ".env").write_text(
        "WARROOM_DOTENV_PAGE_KEY=from-file\nWARROOM_DOTENV_SET=from-file\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WARROOM_DOTENV_SET", "from-environment")
    try:
        load_settings()
        assert os.environ["WARROOM_DOTENV_PAGE_KEY"] == "from-file"
        assert os.environ["WARROOM_DOTENV_SET"] == "from-environment"
    finally:
        os.environ.pop("WARROOM_DOTENV_PAGE_KEY", None)
