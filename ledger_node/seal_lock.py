"""The node's read/write lock between accepting transactions and everything that must see the
engine and the journal still: sealing, snapshots, restoring the engine, resuming after a full
disk.

Accepting holds it shared, so several batches' engine hand-offs overlap (anvil ingests them on
its own threads; one at a time it ran at about a third of its speed). Sealing holds it
exclusive: a block is mined only when every journaled hand-off has been answered, and no batch
reaches the engine while a block is mined, recorded and its membership events applied to the
gate. A waiting exclusive holder goes first: new shared holders queue behind it, so a steady
stream of batches never starves the sealer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class SealLock:
    def __init__(self) -> None:
        self._shared = 0  # holders of the shared side
        self._exclusive = False  # the exclusive side is held
        self._exclusive_waiting = 0
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(
                lambda: not self._exclusive and self._exclusive_waiting == 0
            )
            self._shared += 1
        try:
            yield
        finally:
            async with self._changed:
                self._shared -= 1
                if self._shared == 0:
                    self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        async with self._changed:
            self._exclusive_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._exclusive and self._shared == 0)
            finally:
                self._exclusive_waiting -= 1
                # A waiter given up (cancelled) may have been all that held shared ones back.
                self._changed.notify_all()
            self._exclusive = True
        try:
            yield
        finally:
            async with self._changed:
                self._exclusive = False
                self._changed.notify_all()
