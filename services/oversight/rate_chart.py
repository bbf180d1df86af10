"""A rate over months as a server-side SVG line chart (pure): no script, printable (black on
white, the line drawn solid and its points marked, no colour needed to read it), labels in
zh-CN, the axis fixed at 0–100 %. A month with no figure (denominator 0, or none at all) is a
gap: the line breaks there and the month's label says 无数据.

Each point carries its numerator and denominator in a ``<title>`` (shown on hover, read by
screen readers) and beside the point, so the chart says what the table says.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import NamedTuple

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 32, 48
TICKS = (0, 25, 50, 75, 100)


class Point(NamedTuple):
    label: str  # the month, as shown under the axis (``11月``)
    ratio: tuple[int, int] | None  # numerator, denominator; None or (_, 0): no figure
    tip: str = ""  # the month in full, in the point's title (default: the label)


def percent(ratio: tuple[int, int] | None) -> float | None:
    """The ratio as a percentage, or None when there is no figure."""
    if ratio is None or ratio[1] == 0:
        return None
    return 100.0 * ratio[0] / ratio[1]


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def rate_chart(title: str, points: Sequence[Point]) -> str:
    """The chart as one ``<svg>`` element (see the module docstring)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points), 1)

    def x(i: int) -> float:
        return LEFT + step * (i + 0.5)

    def y(pct: float) -> float:
        return TOP + plot_h * (1 - pct / 100)

    t = escape(title)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rate-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-label="{t}" font-family="sans-serif" font-size="11">',
        f"<title>{t}</title>",
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="bold">{t}</text>',
    ]
    for tick in TICKS:
        ty = _fmt(y(tick))
        out.append(
            f'<line class="grid" x1="{LEFT}" y1="{ty}" x2="{WIDTH - RIGHT}" y2="{ty}" '
            f'stroke="#bbb" stroke-width="0.5"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{ty}" text-anchor="end" dy="4">{tick}%</text>')
    base = _fmt(y(0))
    out.append(
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" '
        f'stroke="#000"/>'
    )
    out.append(f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#000"/>')
    runs: list[list[tuple[float, float]]] = [[]]
    for i, p in enumerate(points):
        px = _fmt(x(i))
        out.append(
            f'<text class="month" x="{px}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(p.label)}</text>'
        )
        pct = percent(p.ratio)
        if pct is None:
            out.append(
                f'<text class="gap" x="{px}" y="{HEIGHT - BOTTOM + 30}" text-anchor="middle" '
                f'fill="#666">无数据</text>'
            )
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((x(i), y(pct)))
    for run in runs:
        if len(run) > 1:
            coords = " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in run)
            out.append(
                f'<polyline class="rate-line" points="{coords}" fill="none" stroke="#000" '
                f'stroke-width="2"/>'
            )
    for i, p in enumerate(points):
        pct = percent(p.ratio)
        if pct is None or p.ratio is None:
            continue
        n, d = p.ratio
        px, py = _fmt(x(i)), _fmt(y(pct))
        words = f"{escape(p.tip or p.label)}：{_fmt(pct)}%（{n}/{d}）"
        out.append(
            f'<circle class="rate-point" cx="{px}" cy="{py}" r="3.5" fill="#000">'
            f"<title>{words}</title></circle>"
        )
        out.append(
            f'<text class="value" x="{px}" y="{_fmt(y(pct) - 8)}" '
            f'text-anchor="middle">{_fmt(pct)}%</text>'
        )
    out.append("</svg>")
    return "".join(out)
