"""The rate chart: a server-side SVG with no script, the axis 0–100 %, each month's point where
its percentage puts it, a month without a figure a gap (the line breaks, 无数据 under it)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from services.oversight.rate_chart import BOTTOM, HEIGHT, TOP, Point, percent, rate_chart

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def y_of(pct: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - pct / 100)


def test_points_sit_at_their_percentages_on_a_fixed_axis() -> None:
    svg = rate_chart("回复率", [Point("2026-10", (1, 4)), Point("2026-11", (3, 3))])
    root = parsed(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert [label for label in labels if label and label.endswith("%")][:5] == [
        "0%",
        "25%",
        "50%",
        "75%",
        "100%",
    ]  # the axis is 0–100 % whatever the data
    points = list(root.iter(f"{SVG}circle"))
    assert [float(c.get("cy", "")) for c in points] == [y_of(25), y_of(100)]
    tips = [c.find(f"{SVG}title") for c in points]
    assert [t.text for t in tips if t is not None] == [
        "2026-10：25%（1/4）",
        "2026-11：100%（3/3）",
    ]
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1 and len(lines[0].get("points", "").split()) == 2
    assert "<script" not in svg and "onload" not in svg and "javascript:" not in svg


def test_an_empty_month_is_a_gap() -> None:
    months = [
        Point("2026-08", (1, 2)),
        Point("2026-09", (2, 2)),
        Point("2026-10", None),  # no cohort at all
        Point("2026-11", (0, 0)),  # a denominator of 0: no figure either
        Point("2026-12", (1, 4)),
        Point("2027-01", (2, 4)),
    ]
    root = parsed(rate_chart("解决率", months))
    runs = [line.get("points", "").split() for line in root.iter(f"{SVG}polyline")]
    assert [len(r) for r in runs] == [2, 2]  # broken at the two empty months
    gaps = [t for t in root.iter(f"{SVG}text") if t.get("class") == "gap"]
    assert [g.text for g in gaps] == ["无数据", "无数据"]
    assert len(list(root.iter(f"{SVG}circle"))) == 4
    month_labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "month"]
    assert month_labels == [m.label for m in months]


def test_a_lone_point_between_gaps_is_still_drawn() -> None:
    root = parsed(rate_chart("逾期率", [Point("2026-10", None), Point("2026-11", (0, 5))]))
    assert not list(root.iter(f"{SVG}polyline"))
    (point,) = root.iter(f"{SVG}circle")
    assert float(point.get("cy", "")) == y_of(0)


def test_text_is_escaped() -> None:
    svg = rate_chart('<b>"x"</b>', [Point("<m>", (1, 1))])
    parsed(svg)
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_percent() -> None:
    assert percent((1, 4)) == 25.0 and percent((2, 2)) == 100.0 and percent((0, 3)) == 0.0
    assert percent((0, 0)) is None and percent(None) is None


def test_a_point_names_its_month_in_full() -> None:
    root = parsed(rate_chart("满意率", [Point("11月", (3, 4), "2026-11")]))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "month"]
    (point,) = root.iter(f"{SVG}circle")
    tip = point.find(f"{SVG}title")
    assert labels == ["11月"] and tip is not None and tip.text == "2026-11：75%（3/4）"
