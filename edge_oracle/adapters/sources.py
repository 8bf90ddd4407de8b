"""Where input lines come from: a regular file (resumable from a committed byte offset, optionally
followed like `tail -f`), a FIFO or character device (a serial-like stream), or stdin.

A source yields (line number, byte offset after the line, text). Regular files are resumed from
the offset committed with the outbox, so a restart neither re-reads nor skips a line; streams
cannot be re-read, so lines already read are always handed on before the daemon stops."""

from __future__ import annotations

import os
import stat
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from edge_oracle.errors import ConfigError

FOLLOW_POLL_S = 0.2


@dataclass(frozen=True)
class Line:
    source: str
    number: int
    offset: int  # byte offset just after this line (only meaningful for resumable sources)
    text: str | None  # None when the bytes are not UTF-8


class LineSource:
    """One input. `format` is "slot" (magnetometer/ultrasonic) or "camera"."""

    def __init__(self, spec: str, format: str, *, follow: bool = False) -> None:
        if format not in ("slot", "camera"):
            raise ConfigError(f"unknown input format {format!r}")
        self.spec = spec
        self.format = format
        self.follow = follow
        self.name = f"{format}:{spec}"
        self.path = None if spec == "-" else Path(spec)
        if self.path is not None and not self.path.exists():
            raise ConfigError(f"input {spec} does not exist: check the path")
        mode = self.path.stat().st_mode if self.path is not None else 0
        self.resumable = self.path is not None and stat.S_ISREG(mode)
        if self.path is not None and not (
            self.resumable or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)
        ):
            raise ConfigError(f"input {spec} is not a file, FIFO or character device")

    @property
    def image_root(self) -> Path | None:
        return self.path.parent if self.path is not None else None

    def lines(self, start: tuple[int, int], stop: threading.Event) -> Iterator[Line]:
        """Lines after `start` = (lines already consumed, byte offset)."""
        number, offset = start if self.resumable else (0, 0)
        handle: BinaryIO
        if self.path is None:
            handle = sys.stdin.buffer
        else:
            # A FIFO open blocks until a writer appears; that is the wanted behaviour.
            handle = open(self.path, "rb", buffering=0 if not self.resumable else -1)  # noqa: SIM115
        try:
            if self.resumable and offset:
                handle.seek(offset)
            pending = b""
            while not stop.is_set():
                chunk = handle.readline()
                if not chunk:
                    if self.follow and self.resumable:
                        stop.wait(FOLLOW_POLL_S)
                        continue
                    break
                pending += chunk
                if not pending.endswith(b"\n") and self.follow and self.resumable:
                    continue  # a writer is mid-line: wait for the rest
                offset += len(pending)
                number += 1
                raw, pending = pending, b""
                if not raw.strip():
                    yield Line(self.name, number, offset, "")
                    continue
                try:
                    text = raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    text = None
                yield Line(self.name, number, offset, text)
        finally:
            if self.path is not None:
                handle.close()


def make_fifo(path: Path) -> None:
    """For tests and demos: a named pipe a serial-like reader can be pointed at."""
    os.mkfifo(path)
