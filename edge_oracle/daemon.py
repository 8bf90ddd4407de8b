"""`citypass-edge run`: inputs → outbox → oracle daemon, with /health and /metrics, until
SIGTERM/SIGINT (or, with exit_when_done, until the inputs end and the outbox is empty)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from citypass.core.daemon import run_until_stopped
from edge_oracle.adapters.sources import LineSource
from edge_oracle.config import EdgeSettings
from edge_oracle.delivery import Deliverer
from edge_oracle.devices import KeyRing
from edge_oracle.errors import EdgeOracleError
from edge_oracle.ingest import Ingestor, IngestThreads
from edge_oracle.metrics import EdgeMetrics
from edge_oracle.normaliser import Normaliser
from edge_oracle.outbox import Outbox
from edge_oracle.plate_hasher import PlateHasher
from edge_oracle.server import build_app

log = logging.getLogger("edge_oracle")


async def run_daemon(
    settings: EdgeSettings,
    keys: KeyRing,
    sources: list[LineSource],
    *,
    exit_when_done: bool = False,
) -> None:
    outbox = Outbox(settings.outbox_path, settings.domain)
    metrics = EdgeMetrics()
    normaliser = Normaliser(int(settings.comms_lost_after_s * 1000), outbox.states())
    plates = PlateHasher(settings.plate_keys_path, metrics.plates)
    ingestor = Ingestor(outbox, keys, settings.domain, normaliser, metrics, plates)
    # One deliverer per oracle daemon, each with its own progress (outbox.set_destinations).
    outbox.set_destinations(settings.oracle_urls)
    deliverers = [Deliverer(outbox, settings, metrics, url) for url in settings.oracle_urls]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    inputs_done = asyncio.Event()

    def finished() -> None:
        inputs_done.set()
        if threads.error is not None:
            stop.set()  # do not run on without an input; the error is raised below

    threads = IngestThreads(ingestor, sources, lambda: loop.call_soon_threadsafe(finished))
    runner = web.AppRunner(build_app(outbox, deliverers, metrics), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.listen_host, settings.listen_port).start()
    except OSError as exc:
        await runner.cleanup()
        outbox.close()
        raise EdgeOracleError(
            f"cannot listen on {settings.listen_host}:{settings.listen_port} ({exc.strerror});"
            " choose another --listen-port"
        ) from exc

    def ready() -> None:
        threads.start()
        log.info(
            f"edge daemon delivering to {', '.join(d.events_url for d in deliverers)}; health "
            "and metrics on "
            f"http://{settings.listen_host}:{settings.listen_port}"
        )
        print(
            f"edge daemon ready: http://{settings.listen_host}:{settings.listen_port}", flush=True
        )

    async def shutdown() -> None:
        # The ingest thread finishes its current transaction; nothing committed is lost, and
        # nothing half-written is committed.
        await asyncio.to_thread(threads.close)
        await runner.cleanup()
        outbox.close()

    await run_until_stopped(
        ready=ready,
        work=lambda stop: _deliver_all(deliverers, stop, inputs_done if exit_when_done else None),
        shutdown=shutdown,
        stop=stop,
        log=log,
    )
    if threads.error is not None:
        raise EdgeOracleError(f"ingest stopped: {threads.error}")


async def _deliver_all(
    deliverers: list[Deliverer], stop: asyncio.Event, until_empty: asyncio.Event | None
) -> None:
    """Every oracle daemon's delivery loop at once; done when all are (or on stop)."""
    await asyncio.gather(*(d.run(stop, until_empty=until_empty) for d in deliverers))
