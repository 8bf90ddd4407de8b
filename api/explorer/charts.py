"""Server-side SVG charts for the dashboard: no script, no external asset, every value labelled
in the picture itself (and in a <title> per mark for hover). A chart's title is the page's
(an HTML heading above it, so it wraps on a phone and never collides with the marks); the SVG
keeps it as its accessible name. Labels that could run into each other are shortened to the
space they have, the full text staying in the mark's <title>."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 22, 28
PALETTE = ("#2f6f9f", "#d9822b", "#3b9c6b", "#8e5ea2", "#c44e52", "#6b6b6b")


def _frame(title: str, body: str, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">{body}</svg>'
    )


def text_width(text: str, font_px: float) -> float:
    """A generous estimate of a label's width: Hangul and other wide characters take about a
    full em, Latin letters and digits about 0.62 em."""
    return sum(font_px if ord(ch) > 0x2E80 else font_px * 0.62 for ch in text)


def fit(text: str, width: float, font_px: float) -> str:
    """`text`, shortened with an ellipsis to fit `width` pixels."""
    if text_width(text, font_px) <= width:
        return text
    while text and text_width(text + "…", font_px) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _axis(plot_h: int) -> str:
    y = TOP + plot_h
    return f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" class="axis"/>'


def bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    value_text: Sequence[str] | None = None,
    *,
    colour: str = PALETTE[0],
    height: int = HEIGHT,
    baselines: Sequence[float] = (),
) -> str:
    """Vertical bars, one per label, each with its value written above it. `baselines`: dashed
    horizontal reference lines (e.g. the pilot's figures), numbered in the left margin; the
    page's caption says what they are."""
    texts = list(value_text) if value_text is not None else [f"{v:g}" for v in values]
    plot_h = height - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    top = max([float(v) for v in values] + [float(b) for b in baselines] + [0.0]) or 1.0
    step = plot_w / max(len(values), 1)
    width = step * 0.7
    parts = [_axis(plot_h)]
    for n, value in enumerate(baselines):
        y = TOP + plot_h - plot_h * float(value) / top
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="baseline" '
            f'stroke="{PALETTE[4 + n % 2]}"/><text x="{LEFT - 6}" y="{y + 4:.1f}" '
            f'class="baseline-label" fill="{PALETTE[4 + n % 2]}">{value:g}</text>'
        )
    for i, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        h = plot_h * float(value) / top
        x = LEFT + i * step + (step - width) / 2
        y = TOP + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
            f'<text x="{x + width / 2:.1f}" y="{y - 4:.1f}" class="value">{escape(text)}</text>'
            f'<text x="{x + width / 2:.1f}" y="{TOP + plot_h + 16}" class="label">'
            f"{escape(fit(label, step - 2, 11))}</text>"
        )
    return _frame(title, "".join(parts), height)


def hbars(title: str, labels: Sequence[str], values: Sequence[float], texts: Sequence[str]) -> str:
    """Horizontal bars (long labels such as stakeholders or workers), values at the bar end."""
    row = 30
    height = TOP + row * max(len(values), 1) + 12
    label_w = 210
    plot_w = WIDTH - label_w - RIGHT - 90
    top = max([float(v) for v in values] + [0.0]) or 1.0
    parts = []
    for i, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        y = TOP + i * row
        w = plot_w * float(value) / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" class="hlabel">'
            f"{escape(fit(label, label_w - 12, 12))}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" class="hvalue">{escape(text)}</text>'
        )
    return _frame(title, "".join(parts), height)
