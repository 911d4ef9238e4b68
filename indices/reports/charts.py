"""The report's charts as small, hand-written SVG.

Light on purpose: a chart is a few dozen rectangles, lines and text elements, inlined in the HTML,
so WeasyPrint lays them out quickly and sets their text in the document's own (embedded, subsetted)
CJK font: every label stays real text, searchable and never a Type 3 glyph. Every chart names its
axis and unit. Coordinates are rounded, so the same data gives the same bytes.
"""
from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

FONT = "Noto Sans CJK SC"
INK = "#1f2a37"
MUTED = "#6b7280"
GRID = "#e5e7eb"
ACCENT = "#b91c1c"
BAR = "#1d4e89"
BAR_LIGHT = "#9fb7d6"
MEDIAN = "#d97706"


def _n(value: float) -> str:
    """A coordinate: one decimal, no trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(x: float, y: float, content: str, *, size: float = 7, anchor: str = "start", fill: str = INK,
          weight: str = "normal") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" fill="{fill}"{bold}>'
            f"{escape(content)}</text>")


def _rect_path(x: float, y: float, width: float, height: float) -> str:
    """A rectangle as a path segment: many same-coloured rectangles become one SVG node (WeasyPrint
    draws an SVG node by node, so a chart of a few paths draws much faster than hundreds of rects)."""
    return f"M{_n(x)} {_n(y)}h{_n(width)}v{_n(height)}h{_n(-width)}z"


def _path(segments: Sequence[str], attributes: str) -> str:
    return f'<path d="{"".join(segments)}" {attributes}/>' if segments else ""


def _svg(width: float, height: float, body: list[str], *, title: str, description: str = "") -> Chart:
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}mm" height="{_n(height)}mm" '
           f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT}">'
           f"<title>{escape(title)}</title>{''.join(body)}</svg>")
    alt = _("%(title)s. %(description)s") % {"title": title, "description": description} if description else title
    return Chart(svg=svg, title=title, width=width, height=height, alt=alt)


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _listed(pairs: Sequence[tuple[str, float | None]]) -> str:
    """Labels with their values, for a chart's text alternative."""
    return _(", ").join(f"{label} {_score(value)}" for label, value in pairs)


@dataclass(frozen=True)
class Chart:
    """An SVG chart, placed in the page as an image: WeasyPrint then parses it with its SVG parser
    instead of running thousands of SVG elements through the HTML parser and the CSS cascade."""

    svg: str
    title: str
    width: float  # mm
    height: float
    # The text alternative (WCAG 1.1.1; the tagged PDF's /Alt of the figure): the title and what the chart
    # shows, e.g. the top values.
    alt: str = ""

    def __html__(self) -> str:
        data = base64.b64encode(self.svg.encode("utf-8")).decode("ascii")
        return (f'<img class="chart" alt="{escape(self.alt or self.title)}" src="data:image/svg+xml;base64,{data}" '
                f'style="width:{_n(self.width)}mm;height:{_n(self.height)}mm">')

    def __str__(self) -> str:
        # Django's templates turn a value into str before escaping: hand them safe markup.
        return mark_safe(self.__html__())  # the text alternative is escaped, the rest is our SVG in base64  # nosec B308 B703


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    highlight: bool = False
    note: str = ""  # printed after the value, e.g. the rank change


def ranking_bars(bars: Sequence[Bar], *, axis_title: str, title: str, width: float = 170,
                 maximum: float = 100.0, median: float | None = None, median_label: str = "") -> Chart:
    """Horizontal bars, best first, on a 0–maximum scale with gridlines every 20."""
    row, label_width, top = 4.6, 24.0, 6.0
    plot_width = width - label_width - 22
    height = top + row * len(bars) + 12
    scale = plot_width / maximum
    body, grid = [], []
    for tick in range(0, int(maximum) + 1, 20):
        x = label_width + tick * scale
        grid.append(f"M{_n(x)} {_n(top - 1)}V{_n(top + row * len(bars))}")
        body.append(_text(x, top + row * len(bars) + 4, str(tick), size=2.1, anchor="middle", fill=MUTED))
    body.insert(0, _path(grid, f'fill="none" stroke="{GRID}" stroke-width="0.3"'))
    # The bars as one path per colour: they do not overlap each other or the labels.
    shapes: dict[str, list[str]] = {BAR: [], ACCENT: []}
    values = []  # (x, baseline, text) of the value printed after each bar
    for index, bar in enumerate(bars):
        y = top + index * row
        body.append(_text(label_width - 1.5, y + row * 0.72, bar.label, size=2.5, anchor="end",
                          weight="bold" if bar.highlight else "normal"))
        if bar.value is None:
            continue
        length = max(bar.value, 0.0) * scale
        shapes[ACCENT if bar.highlight else BAR].append(_rect_path(label_width, y + 0.7, length, row - 1.4))
        values.append((label_width + length + 1.2, y + row * 0.72, f"{bar.value:.1f} {bar.note}".strip()))
    body.extend(_path(segments, f'fill="{colour}"') for colour, segments in shapes.items())
    value_size = 2.1
    if median is not None:
        x = label_width + median * scale
        body.append(f'<line x1="{_n(x)}" y1="{_n(top - 2)}" x2="{_n(x)}" y2="{_n(top + row * len(bars))}" '
                    f'stroke="{MEDIAN}" stroke-width="0.5" stroke-dasharray="1.2 0.8"/>')
        body.append(_text(x, top - 2.6, median_label, size=2.1, anchor="middle", fill=MEDIAN))
        # The median line stops behind a value printed across it (a white box, one path for all).
        boxes = [_rect_path(start - 0.4, baseline - value_size, text_width + 0.8, value_size * 1.35)
                 for start, baseline, text in values
                 for text_width in [len(text) * value_size * 0.58] if start - 0.4 <= x <= start + text_width + 0.4]
        body.append(_path(boxes, 'fill="#ffffff"'))
    body.extend(_text(start, baseline, text, size=value_size, fill=MUTED) for start, baseline, text in values)
    body.append(_text(label_width + plot_width / 2, height - 1.5, axis_title, size=2.5, anchor="middle", fill=MUTED))
    ranked = [(bar.label, bar.value) for bar in bars if bar.value is not None]
    description = _("Highest: %(top)s; lowest: %(bottom)s.") % {
        "top": _listed(ranked[:3]), "bottom": _listed(ranked[-1:])} if ranked else ""
    return _svg(width, height, body, title=title, description=description)


def _heat_colour(value: float | None) -> str:
    """White (0) to deep blue (100), by linear interpolation in RGB."""
    if value is None:
        return "#f3f4f6"
    share = min(max(value / 100.0, 0.0), 1.0)
    low, high = (247, 251, 255), (8, 48, 107)
    channels = [round(a + (b - a) * share) for a, b in zip(low, high, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*channels)


def heat_map(rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float | None]], *,
             title: str, legend: str, width: float = 174, separators: Sequence[int] = (),
             labelled: Sequence[int] | None = None) -> Chart:
    """Cities × nodes, each cell coloured by its score and labelled with it; ``separators`` are the
    column indexes before which a thicker line marks a new dimension; ``labelled`` the columns whose
    cells also print their score (all by default)."""
    labelled = set(range(len(columns)) if labelled is None else labelled)
    label_width, header, row = 20.0, 26.0, 4.4
    cell = (width - label_width) / max(len(columns), 1)
    height = header + row * len(rows) + 10
    body = []
    for column, name in enumerate(columns):
        x = label_width + (column + 0.5) * cell
        body.append(f'<text x="{_n(x)}" y="{_n(header - 1.5)}" font-size="2.1" fill="{INK}" '
                    f'transform="rotate(-40 {_n(x)} {_n(header - 1.5)})">{escape(name)}</text>')
    # The cells as one path per colour (in order of first use), then the white lines between them as
    # one path, then the numbers: the same picture as a stroked rect per cell, with a few dozen nodes.
    cells: dict[str, list[str]] = {}
    numbers = []
    for index, name in enumerate(rows):
        y = header + index * row
        body.append(_text(label_width - 1.5, y + row * 0.7, name, size=2.3, anchor="end"))
        for column, value in enumerate(values[index]):
            x = label_width + column * cell
            cells.setdefault(_heat_colour(value), []).append(_rect_path(x, y, cell, row))
            # Numbers only in the labelled columns (the dimensions): 450 more text runs would cost a
            # second of rendering, and the group scores are tabled in the dimension chapters.
            if value is not None and column in labelled:
                ink = "#ffffff" if value >= 55 else INK
                numbers.append(_text(x + cell / 2, y + row * 0.7, f"{value:.0f}", size=1.9, anchor="middle",
                                     fill=ink))
    body.extend(_path(segments, f'fill="{colour}"') for colour, segments in cells.items())
    if rows and columns:
        bottom, right = header + row * len(rows), label_width + cell * len(columns)
        grid = [f"M{_n(label_width)} {_n(header + index * row)}H{_n(right)}" for index in range(len(rows) + 1)]
        grid += [f"M{_n(label_width + column * cell)} {_n(header)}V{_n(bottom)}" for column in range(len(columns) + 1)]
        body.append(_path(grid, 'fill="none" stroke="#ffffff" stroke-width="0.3"'))
    body.extend(numbers)
    for column in separators:
        x = label_width + column * cell
        body.append(f'<line x1="{_n(x)}" y1="{_n(header)}" x2="{_n(x)}" y2="{_n(header + row * len(rows))}" '
                    f'stroke="{INK}" stroke-width="0.6"/>')
    legend_y = header + row * len(rows) + 3
    for step in range(11):
        body.append(f'<rect x="{_n(label_width + step * 6)}" y="{_n(legend_y)}" width="6" height="2.6" '
                    f'fill="{_heat_colour(step * 10)}"/>')
    body.append(_text(label_width, legend_y + 5.2, "0", size=2.1, fill=MUTED))
    body.append(_text(label_width + 66, legend_y + 5.2, "100", size=2.1, anchor="end", fill=MUTED))
    body.append(_text(label_width + 70, legend_y + 2.2, legend, size=2.1, fill=MUTED))
    scored = [(f"{rows[r]} · {columns[c]}", value) for r, line in enumerate(values) for c, value in enumerate(line)
              if value is not None]
    description = _("%(rows)d rows by %(columns)d columns of scores; highest: %(top)s; lowest: %(bottom)s.") % {
        "rows": len(rows), "columns": len(columns), "top": _listed([max(scored, key=lambda item: item[1])]),
        "bottom": _listed([min(scored, key=lambda item: item[1])])} if scored else ""
    return _svg(width, height, body, title=title, description=description)


@dataclass(frozen=True)
class Band:
    label: str
    rank: int | None
    low: float | None  # 5th percentile
    median: float | None
    high: float | None  # 95th percentile


def rank_bands(bands: Sequence[Band], *, cities: int, axis_title: str, title: str, legend: Sequence[str],
               width: float = 170) -> Chart:
    """Each city's rank (dot) and its 5–95 % Monte Carlo interval (bar), rank 1 on the left."""
    row, label_width, top = 4.6, 24.0, 8.0
    plot_width = width - label_width - 6
    height = top + row * len(bands) + 12
    scale = plot_width / max(cities - 1, 1)

    def x_of(rank: float) -> float:
        return label_width + (rank - 1) * scale

    body = []
    for tick in [1, *range(5, cities + 1, 5)]:
        x = x_of(tick)
        body.append(f'<line x1="{_n(x)}" y1="{_n(top - 1)}" x2="{_n(x)}" y2="{_n(top + row * len(bands))}" '
                    f'stroke="{GRID}" stroke-width="0.3"/>')
        body.append(_text(x, top + row * len(bands) + 4, str(tick), size=2.1, anchor="middle", fill=MUTED))
    # The bars, then the median marks, then the dots, each kind as one node: the rows do not overlap,
    # so this draws the same picture as bar, mark and dot row by row.
    spans, marks, dots = [], [], []
    for index, band in enumerate(bands):
        y = top + index * row + row / 2
        body.append(_text(label_width - 1.5, y + 0.9, band.label, size=2.5, anchor="end"))
        if band.low is not None and band.high is not None:
            spans.append(_rect_path(x_of(band.low), y - 1.1, max((band.high - band.low) * scale, 0.6), 2.2))
        if band.median is not None:
            marks.append(f"M{_n(x_of(band.median))} {_n(y - 1.6)}V{_n(y + 1.6)}")
        if band.rank is not None:
            dots.append(f'<circle cx="{_n(x_of(band.rank))}" cy="{_n(y)}" r="1.1" fill="{BAR}"/>')
    body.append(_path(spans, f'fill="{BAR_LIGHT}"'))
    body.append(_path(marks, f'fill="none" stroke="{MEDIAN}" stroke-width="0.6"'))
    body.extend(dots)
    legend_y = 3.0
    body.append(f'<circle cx="{_n(label_width + 1)}" cy="{_n(legend_y)}" r="1.1" fill="{BAR}"/>')
    body.append(_text(label_width + 3, legend_y + 0.8, legend[0], size=2.1, fill=MUTED))
    body.append(f'<rect x="{_n(label_width + 48)}" y="{_n(legend_y - 1.1)}" width="6" height="2.2" '
                f'fill="{BAR_LIGHT}"/>')
    body.append(_text(label_width + 56, legend_y + 0.8, legend[1], size=2.1, fill=MUTED))
    body.append(f'<line x1="{_n(label_width + 112)}" y1="{_n(legend_y - 1.6)}" x2="{_n(label_width + 112)}" '
                f'y2="{_n(legend_y + 0.8)}" stroke="{MEDIAN}" stroke-width="0.6"/>')
    body.append(_text(label_width + 114, legend_y + 0.8, legend[2], size=2.1, fill=MUTED))
    body.append(_text(label_width + plot_width / 2, height - 1.5, axis_title, size=2.5, anchor="middle", fill=MUTED))
    description = _("Rank of each of %(count)d cities with its 5–95 %% interval: %(bands)s.") % {
        "count": len(bands), "bands": _(", ").join(
            f"{band.label} {band.rank or '–'} ({_score(band.low)}–{_score(band.high)})" for band in bands[:3])}
    return _svg(width, height, body, title=title, description=description)


def radar(axes: Sequence[str], series: Sequence[float | None], reference: Sequence[float | None], *,
          title: str, size: float = 80) -> Chart:
    """The city's scores (filled) against the median city (dashed) on 0–100 spokes.

    Label the axes with short codes and give the legend in the page: WeasyPrint lays out SVG text one
    letter at a time, so thirty radars labelled with full English names cost seconds.
    """
    count = len(axes)
    width, height = size + 16, size + 2
    centre_x, centre_y, radius = width / 2, height / 2, size / 2 - 5

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        distance = radius * value / 100.0
        return centre_x + distance * math.cos(angle), centre_y + distance * math.sin(angle)

    def score_point(index: int, value: float | None) -> tuple[float, float]:
        return point(index, min(max(value or 0.0, 0.0), 100.0))

    # The rings and the spokes as one path (no text lies under them).
    grid = []
    for ring in (25, 50, 75, 100):
        corners = [f"{_n(x)} {_n(y)}" for x, y in (point(i, ring) for i in range(count))]
        if corners:
            grid.append(f"M{corners[0]}L{' '.join(corners[1:])}z" if count > 1 else f"M{corners[0]}z")
    for index in range(count):
        x, y = point(index, 100)
        grid.append(f"M{_n(centre_x)} {_n(centre_y)}L{_n(x)} {_n(y)}")
    body = [_path(grid, f'fill="none" stroke="{GRID}" stroke-width="0.3"')]
    for ring in (50, 100):
        x, y = point(0, ring)
        body.append(_text(x + 0.8, y + 2.2, str(ring), size=1.7, fill=MUTED))
    for index, name in enumerate(axes):
        lx, ly = point(index, 112)
        anchor = "middle" if abs(lx - centre_x) < 3 else ("start" if lx > centre_x else "end")
        body.append(_text(lx, ly + 0.8, name, size=2.1, anchor=anchor))
    median_points = " ".join(f"{_n(x)},{_n(y)}" for x, y in (score_point(i, v) for i, v in enumerate(reference)))
    city_points = " ".join(f"{_n(x)},{_n(y)}" for x, y in (score_point(i, v) for i, v in enumerate(series)))
    body.append(f'<polygon points="{city_points}" fill="{BAR}" fill-opacity="0.25" stroke="{BAR}" '
                f'stroke-width="0.7"/>')
    body.append(f'<polygon points="{median_points}" fill="none" stroke="{MEDIAN}" stroke-width="0.6" '
                f'stroke-dasharray="1.2 0.8"/>')
    scores = zip(axes, series, reference, strict=False)
    description = _("Score (median city) on each axis: %(axes)s.") % {"axes": _(", ").join(
        f"{name} {_score(value)} ({_score(median)})" for name, value, median in scores)}
    return _svg(width, height, body, title=title, description=description)


def group_strips(groups: Sequence[str], points: Sequence[Sequence[float | None]], *, medians: Sequence[float | None],
                 title: str, axis_title: str, width: float = 170) -> Chart:
    """One row per group: every city's score as a tick on 0–100, and the median as a diamond."""
    row, label_width, top = 8.0, 42.0, 3.0
    plot_width = width - label_width - 4
    height = top + row * len(groups) + 11
    scale = plot_width / 100.0
    body = []
    for tick in range(0, 101, 20):
        x = label_width + tick * scale
        body.append(f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(top + row * len(groups))}" '
                    f'stroke="{GRID}" stroke-width="0.3"/>')
        body.append(_text(x, top + row * len(groups) + 4, str(tick), size=2.1, anchor="middle", fill=MUTED))
    for index, name in enumerate(groups):
        y = top + index * row + row / 2
        body.append(_text(label_width - 2, y + 0.9, name, size=2.5, anchor="end"))
        # The cities' ticks as a few paths instead of one line each. Ticks that overlap go to different
        # paths, so that, as with separate lines, overlapping translucent ticks still darken.
        layers: list[list[float]] = []
        for value in points[index]:
            if value is None:
                continue
            x = label_width + value * scale
            layer = next((layer for layer in layers if all(abs(x - other) >= 0.5 for other in layer)), None)
            if layer is None:
                layers.append(layer := [])
            layer.append(x)
        for layer in layers:
            body.append(_path([f"M{_n(x)} {_n(y - 2)}v4" for x in layer],
                              f'fill="none" stroke="{BAR}" stroke-opacity="0.6" stroke-width="0.5"'))
        median = medians[index]
        if median is not None:
            x = label_width + median * scale
            body.append(f'<polygon points="{_n(x)},{_n(y - 2.4)} {_n(x + 1.8)},{_n(y)} {_n(x)},{_n(y + 2.4)} '
                        f'{_n(x - 1.8)},{_n(y)}" fill="{MEDIAN}"/>')
    body.append(_text(label_width + plot_width / 2, height - 1.5, axis_title, size=2.5, anchor="middle", fill=MUTED))
    description = _("Median of the cities in each group: %(medians)s.") % {
        "medians": _listed(list(zip(groups, medians, strict=False)))}
    return _svg(width, height, body, title=title, description=description)
