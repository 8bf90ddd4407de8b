"""What the scripts print: aligned tables, won amounts, months, id ranges, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


def progress(items: Sequence[Any], label: str) -> Iterator[Any]:
    """A click progress bar on stdout for long loops (a plain pass-through for one item)."""
    if len(items) <= 1:
        yield from items
        return
    import click

    with click.progressbar(
        items, label=label, file=sys.stdout, show_pos=True, show_eta=False, width=30
    ) as bar:
        yield from bar


def table(rows: Iterable[Sequence[Any]], header: Sequence[str], right: Sequence[int] = ()) -> str:
    """A plain aligned text table; columns listed in `right` are right-aligned."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in header]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in body)
    return "\n".join(out)


def won(amount: int) -> str:
    return f"{int(amount):,}"


def epoch_label(epoch: int) -> str:
    """Statement epoch (year * 12 + month - 1) as YYYY-MM."""
    year, month = divmod(int(epoch), 12)
    return f"{year:04d}-{month + 1:02d}"


def compact_ids(ids: Sequence[int]) -> str:
    """[3, 4, 5, 9] -> '3-5, 9'."""
    runs: list[str] = []
    ordered = sorted(ids)
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[index], ordered[end]
        runs.append(str(first) if first == last else f"{first}-{last}")
        index = end + 1
    return ", ".join(runs)


def show_bytes32(value: bytes) -> str:
    """A bytes32 reference as it was typed when it is readable text, else as 0x-hex."""
    raw = bytes(value)
    text = raw.rstrip(b"\x00")
    try:
        decoded = text.decode()
    except UnicodeDecodeError:
        decoded = ""
    if decoded and decoded.isprintable() and b"\x00" not in text:
        return repr(decoded)
    return "0x" + raw.hex()
