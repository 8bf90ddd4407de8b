"""Server-side SVG charts for the dashboard: no script, no external asset, every value labelled
in the picture itself (and in a <title> per mark for hover)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 48
PALETTE = ("#2f6f9f", "#d9822b", "#3b9c6b", "#8e5ea2", "#c44e52", "#6b6b6b")


def _frame(title: str, body: str, height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">'
        f'<text x="{LEFT}" y="18" class="chart-title">{escape(title)}</text>{body}</svg>'
    )


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
) -> str:
    """Vertical bars, one per label, each with its value written above it."""
    texts = list(value_text) if value_text is not None else [f"{v:g}" for v in values]
    plot_h = height - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    top = max([float(v) for v in values] + [0.0]) or 1.0
    step = plot_w / max(len(values), 1)
    width = step * 0.7
    parts = [_axis(plot_h)]
    for i, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        h = plot_h * float(value) / top
        x = LEFT + i * step + (step - width) / 2
        y = TOP + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
            f'<text x="{x + width / 2:.1f}" y="{y - 4:.1f}" class="value">{escape(text)}</text>'
            f'<text x="{x + width / 2:.1f}" y="{TOP + plot_h + 16}" class="label">'
            f"{escape(label)}</text>"
        )
    return _frame(title, "".join(parts), height)


def line(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    baselines: dict[str, float] | None = None,
) -> str:
    """One polyline per series with labelled points; dashed horizontal baselines."""
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    everything = [float(v) for values in series.values() for v in values]
    everything += list((baselines or {}).values())
    top = max(everything + [0.0]) * 1.1 or 1.0
    count = max(len(labels), 1)
    step = plot_w / max(count - 1, 1)

    def at(i: int, v: float) -> tuple[float, float]:
        x = LEFT + (i * step if count > 1 else plot_w / 2)
        return x, TOP + plot_h - plot_h * v / top

    parts = [_axis(plot_h)]
    for n, (name, value) in enumerate((baselines or {}).items()):
        y = at(0, value)[1]
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="baseline" '
            f'stroke="{PALETTE[4 + n % 2]}"/><text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" '
            f'class="baseline-label">{escape(name)}: {value:g}</text>'
        )
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % 4]
        points = [at(i, float(v)) for i, v in enumerate(values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y), label, value in zip(points, labels, values, strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(name)} {escape(label)}: {value:g}</title></circle>"
                f'<text x="{x:.1f}" y="{y - 7:.1f}" class="value">{value:g}</text>'
            )
        parts.append(
            f'<text x="{LEFT + 8 + 150 * n}" y="{HEIGHT - 6}" class="legend" fill="{colour}">'
            f"● {escape(name)}</text>"
        )
    for i, label in enumerate(labels):
        x = at(i, 0)[0]
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" class="label">{escape(label)}</text>'
        )
    return _frame(title, "".join(parts))


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
            f'<text x="{label_w - 8}" y="{y + 18}" class="hlabel">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" class="hvalue">{escape(text)}</text>'
        )
    return _frame(title, "".join(parts), height)
