"""The sandbox pages and drafts: its PagerDuty and Statuspage stand-ins take a P1 for checkout,
*Take lead* acknowledges the page, and `/outside` shows what they received."""

from __future__ import annotations

import io

from standins.sandbox.terminal import play

SCRIPT = """/incident declare P1 checkout: Checkout API returns 500s
/outside
/go #incident-*
/press take lead
/press Publish
/outside
"""


def test_sandbox_pages_checkout_and_publishes_its_status_page_draft() -> None:
    out = io.StringIO()
    play(SCRIPT.splitlines(), out)
    transcript = out.getvalue()
    first, second = transcript.split("> /outside")[1:3]
    assert "-checkout  triggered  [error] [P1]" in first and "nothing published yet" in first
    assert "Status page: first post" in transcript and "No button labelled" not in transcript
    assert "-checkout  acknowledged" in second
    assert "Checkout API returns 500s — investigating (Checkout API: partial_outage)" in second
    assert "Traceback" not in transcript and "Sandbox:" not in transcript
