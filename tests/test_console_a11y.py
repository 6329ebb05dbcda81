"""The console's colours meet WCAG AA contrast (4.5:1 for text), computed from the stylesheet."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from bot.console.charts import COLOURS

CSS = (files("bot.console") / "static" / "console.css").read_text()
VARS = dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # just fails AA


# Every text colour on the background it is drawn on.
PAIRS = [
    ("ink", "paper"),
    ("muted", "paper"),
    ("link", "paper"),
    ("alert", "paper"),
    ("bar-ink", "bar"),
    ("focus", "paper"),
    ("sev-p0", "paper"),
    ("sev-p1", "paper"),
    ("sev-p2", "paper"),
    ("sev-p3", "paper"),
]


@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_stylesheet_text_colours_meet_wcag_aa(fg: str, bg: str) -> None:
    assert contrast(VARS[fg], VARS[bg]) >= 4.5, (fg, VARS[fg], bg, VARS[bg])


@pytest.mark.parametrize("code", sorted(COLOURS))
def test_chart_colours_meet_wcag_aa_on_white(code: str) -> None:
    assert contrast(COLOURS[code], "#ffffff") >= 4.5


def test_the_pages_carry_no_inline_script_or_style() -> None:
    for template in (files("bot.console") / "templates").iterdir():
        text = template.read_text()
        assert "<script>" not in text and " style=" not in text and "<style" not in text, template
        assert not re.search(r"<[^>]*\son[a-z]+=", text), template  # no event attributes
