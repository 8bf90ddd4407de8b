"""`simulate --deliver`: feed a simulated day through an in-process outbox to an oracle daemon,
paced in simulated time (`speed` simulated seconds per wall second; 0 = as fast as possible)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from edge_oracle.config import EdgeSettings
from edge_oracle.delivery import Deliverer
from edge_oracle.devices import KeyRing
from edge_oracle.ingest import Ingestor
from edge_oracle.metrics import EdgeMetrics
from edge_oracle.normaliser import Normaliser
from edge_oracle.outbox import Outbox
from edge_oracle.readings import Reading
from edge_oracle.simulator.day import SimulatedDay

CHUNK_MS = 1_000  # one outbox transaction per simulated second of readings


async def deliver_day(
    day: SimulatedDay,
    settings: EdgeSettings,
    keys: KeyRing,
    speed: float,
    progress: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> dict[str, int]:
    outbox = Outbox(settings.outbox_path, settings.domain)
    metrics = EdgeMetrics()
    ingestor = Ingestor(
        outbox,
        keys,
        settings.domain,
        Normaliser(int(settings.comms_lost_after_s * 1000), outbox.states()),
        metrics,
    )
    deliverer = Deliverer(outbox, settings, metrics)
    stop = stop or asyncio.Event()
    fed = asyncio.Event()
    sender = asyncio.create_task(deliverer.run(stop, until_empty=fed))
    events = 0
    try:
        t0 = day.readings[0].ts_ms if day.readings else 0
        wall0 = time.monotonic()
        chunk: list[Reading] = []
        for reading in day.readings:
            if stop.is_set():
                break
            if chunk and reading.ts_ms - chunk[0].ts_ms >= CHUNK_MS:
                events += await asyncio.to_thread(ingestor.ingest, chunk)
                if progress:
                    progress(len(chunk))
                chunk = []
            if speed > 0:
                due = wall0 + (reading.ts_ms - t0) / 1000 / speed
                if due > time.monotonic():
                    await asyncio.sleep(due - time.monotonic())
            chunk.append(reading)
        if chunk and not stop.is_set():
            events += await asyncio.to_thread(ingestor.ingest, chunk)
            if progress:
                progress(len(chunk))
        fed.set()
        await sender
    finally:
        stop.set()
        await asyncio.gather(sender, return_exceptions=True)
        counts = outbox.counts()
        outbox.close()
    return {"events": events, **counts}
