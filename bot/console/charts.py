"""Charts as SVG drawn on the server: stacked bars and lines, no library and no script."""

from __future__ import annotations

from html import escape

# One colour per severity; each has at least 4.5:1 contrast on white (tests check it).
COLOURS = {"P0": "#a4161a", "P1": "#b5470b", "P2": "#6b5300", "P3": "#2f5d2f"}
W, H, LEFT, BOTTOM, TOP = 640, 240, 48, 40, 16


def _frame(title: str, labels: list[str], top: float, unit: str, body: list[str]) -> str:
    plot_h = H - BOTTOM - TOP
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):  # gridlines and the value axis
        v = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - 8}" y2="{y:.1f}" stroke="#d6d6d6"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_num(v)}{unit}</text>'
        )
    step = max(1, len(labels) // 8)  # at most about eight labels under the axis
    slot = (W - LEFT - 8) / max(1, len(labels))
    for i, label in enumerate(labels):
        if i % step == 0:
            x = LEFT + slot * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts += body
    return "".join(parts) + "</svg>"


def _num(v: float) -> str:
    return f"{v:.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def _top(values: list[float]) -> float:
    m = max(values, default=0) or 1
    for nice in (1, 2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if m <= nice:
            return float(nice)
    return float(m)


def _legend(keys: list[str]) -> list[str]:
    out = []
    for i, k in enumerate(keys):
        x, colour = LEFT + i * 70, COLOURS.get(k, "#1d1c1d")
        out.append(
            f'<rect x="{x}" y="{H - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{H - 5}">{escape(k)}</text>'
        )
    return out


def stacked_bars(title: str, labels: list[str], series: dict[str, list[float]]) -> str:
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(labels))]
    top = _top(totals)
    plot_h = H - BOTTOM - TOP
    slot = (W - LEFT - 8) / max(1, len(labels))
    body = []
    for i, label in enumerate(labels):
        y = TOP + plot_h
        for key, vals in series.items():
            if not vals[i]:
                continue
            h = plot_h * vals[i] / top
            y -= h
            body.append(
                f'<rect x="{LEFT + slot * i + slot * 0.15:.1f}" y="{y:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{COLOURS.get(key, "#1d1c1d")}" '
                f'data-value="{vals[i]:g}"><title>{escape(key)} {escape(label)}: '
                f"{vals[i]:g}</title></rect>"
            )
    return _frame(title, labels, top, "", body + _legend(list(series)))


def lines(title: str, labels: list[str], series: dict[str, list[float | None]], unit: str) -> str:
    values = [v for vals in series.values() for v in vals if v is not None]
    top = _top(values)
    plot_h = H - BOTTOM - TOP
    slot = (W - LEFT - 8) / max(1, len(labels))
    body = []
    for key, vals in series.items():
        points = [
            (LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * v / top, v, labels[i])
            for i, v in enumerate(vals)
            if v is not None
        ]
        colour = COLOURS.get(key, "#1d1c1d")
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for x, y, v, label in points:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}" data-value="{v:.1f}">'
                f"<title>{escape(key)} {escape(label)}: {_num(v)}{escape(unit)}</title></circle>"
            )
    return _frame(title, labels, top, unit, body + _legend(list(series)))
