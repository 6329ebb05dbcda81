"""Evidence exports through the wire: the room's history, edits and deletions, reactions, the
timeline and the audit in one archive with a chained SHA-256 manifest, and `warroom evidence
verify` telling an intact archive from a tampered one."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest
from sqlalchemy import select

from bot.evidence.models import EvidenceExport
from standins.slack.api import SlackStandIn
from standins.slack.rate_limits import RateLimits
from tests.conftest import TOKEN, make_bot
from tests.helpers import events, incidents


class _Run:
    def __init__(self) -> None:
        self.out = self.err = ""

    def __call__(self, args: list[str]) -> int:
        """`warroom …` as a process: its real exit status and output."""
        p = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60
        )
        self.out, self.err = p.stdout, p.stderr
        return p.returncode


warroom = _Run()


def _archives(slack) -> list[bytes]:
    found = [f for f in slack.files.values() if f["name"].startswith("evidence-")]
    return [f["content"] for f in sorted(found, key=lambda f: f["name"])]


def _read(data: bytes, name: str):
    return json.loads(zipfile.ZipFile(io.BytesIO(data)).read(name))


def _rewrite(data: bytes, name: str, change) -> bytes:
    """The archive with one member changed, everything else byte for byte."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            body = src.read(info.filename)
            z.writestr(info, change(body) if info.filename == name else body)
    return out.getvalue()


@pytest.fixture
def room(bot):
    bot.cmd("declare P2 Orders stuck in queue")
    [inc] = incidents(bot.rt)
    ch = inc.channel_id
    first = bot.driver.user_post(ch, "U0ALICE", "queue depth 40k & rising")
    bot.slack.user_post(ch, "U0ALICE", "consumer lag from 09:58", thread_ts=first)
    bot.slack.user_react(ch, first, "U0ALICE", "eyes")
    said = bot.driver.user_post(ch, "U0ALICE", "I think it was the 09:50 deploy")
    bot.settle()
    bot.slack.user_edit(ch, said, "U0ALICE", "It was not the deploy")
    bot.settle()
    return inc


def test_an_export_holds_the_room_and_its_records_and_verifies(bot, room, tmp_path) -> None:
    r = bot.cmd("evidence", channel=room.channel_id)
    assert "Exporting the evidence" in r.json["text"]
    [data] = _archives(bot.slack)
    texts = [m["text"] for m in _read(data, "messages.json")]
    assert "queue depth 40k &amp; rising" in texts  # as Slack stores it
    assert "consumer lag from 09:58" in texts  # a thread reply
    assert "It was not the deploy" in texts
    [edit] = _read(data, "edits_and_deletions.json")
    assert edit["data"]["previous_text"] == "I think it was the 09:50 deploy"
    assert [r["name"] for r in _read(data, "reactions.json")] == ["eyes"]
    assert "declared" in [e["kind"] for e in _read(data, "timeline.json")]
    assert _read(data, "incident.json")["title"] == "Orders stuck in queue"
    with bot.rt.db.read() as s:
        [row] = s.scalars(select(EvidenceExport)).all()
        assert row.archive == data and row.previous_sha256 is None
    assert "evidence" in [e.kind for e in events(bot.rt, room.id)]
    path = tmp_path / "e1.zip"
    path.write_bytes(data)
    assert warroom(["evidence", "verify", str(path)]) == 0
    assert "intact" in warroom.out


def test_tampering_with_any_file_is_detected(bot, room, tmp_path) -> None:
    bot.cmd("evidence", channel=room.channel_id)
    [data] = _archives(bot.slack)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len(names) >= 8
    for name in names:
        bad = tmp_path / "bad.zip"
        bad.write_bytes(_rewrite(data, name, lambda b: b.replace(b"deploy", b"deplay") + b" "))
        assert warroom(["evidence", "verify", str(bad)]) == 1, name
        err = warroom.err
        assert "TAMPERED" in err and (name in err or "manifest" in err), name


def test_a_later_export_chains_the_previous_manifest(bot, room, tmp_path) -> None:
    bot.cmd("evidence", channel=room.channel_id)
    bot.cmd("note rotated the consumer", channel=room.channel_id)
    bot.cmd("evidence", channel=room.channel_id)
    first, second = _archives(bot.slack)
    with bot.rt.db.read() as s:
        rows = s.scalars(select(EvidenceExport).order_by(EvidenceExport.seq)).all()
    assert [r.seq for r in rows] == [1, 2]
    assert rows[1].previous_sha256 == rows[0].manifest_sha256
    assert _read(second, "manifest.json")["previous_manifest_sha256"] == rows[0].manifest_sha256
    (tmp_path / "1.zip").write_bytes(first)
    (tmp_path / "2.zip").write_bytes(second)
    args = ["evidence", "verify", str(tmp_path / "2.zip"), "--previous", str(tmp_path / "1.zip")]
    assert warroom(args) == 0
    # The first archive rewritten whole (files and manifest made consistent): the chain shows it.
    forged = _rewrite(first, "messages.json", lambda b: b.replace(b"deploy", b"deplay"))
    from bot.evidence import archive

    contents = {
        n: json.loads(zipfile.ZipFile(io.BytesIO(forged)).read(n))
        for n in zipfile.ZipFile(io.BytesIO(forged)).namelist()
        if n != "manifest.json"
    }
    head = {k: v for k, v in _read(first, "manifest.json").items() if k in ("incident", "export")}
    rebuilt = archive.build(contents, head, None).data
    (tmp_path / "1.zip").write_bytes(rebuilt)
    assert warroom(["evidence", "verify", str(tmp_path / "1.zip")]) == 0  # alone it looks fine
    assert warroom(args) == 1
    assert "chain broken" in warroom.err


def test_resolving_a_private_incident_exports_its_evidence(bot) -> None:
    bot.cmd("declare P1 --private Stolen laptop with VPN certs")
    [inc] = incidents(bot.rt)
    bot.cmd("resolve Certs revoked", channel=inc.channel_id)
    [data] = _archives(bot.slack)
    assert [f["channel"] for f in bot.slack.files.values()] == [inc.channel_id]
    assert _read(data, "incident.json")["private"] is True


def test_a_big_room_is_paged_within_rate_limits_with_progress(db_url) -> None:
    slack = SlackStandIn(token=TOKEN, rate_limits=RateLimits(scale=30))
    slack.start()
    try:
        for bot in make_bot(db_url, slack):
            bot.cmd("declare P2 Noisy room")
            [inc] = incidents(bot.rt)
            for i in range(1250):
                slack.user_post(inc.channel_id, "U0ALICE", f"line {i}")
            bot.driver.command("evidence", user="U0ALICE", channel=inc.channel_id)
            assert slack.wait_for(lambda: len(_archives(slack)) == 1, timeout=60)
            bot.settle()
            [data] = _archives(slack)
            lines = [
                m["text"] for m in _read(data, "messages.json") if m["text"].startswith("line ")
            ]
            assert lines == [f"line {i}" for i in range(1250)]  # all, once, in order
            assert len(slack.calls_to("conversations.history")) >= 7  # 200 a page
            progress = [
                m for m in slack.messages(inc.channel_id) if "Exporting evidence" in m["text"]
            ]
            assert len(progress) == 1 and "writing the archive" in progress[0]["text"]
    finally:
        slack.event_sink = None
        slack.stop()
