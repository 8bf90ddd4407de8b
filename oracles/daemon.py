"""The oracle daemon: wires the inbox, device cache, ingest server, aggregator, report and
incident submission; runs until SIGTERM/SIGINT and stops cleanly.

Ingest keeps working while the ledger node is down (events go to the inbox); reports and
incidents wait and are retried with capped exponential backoff, and /health says `ledger: down`."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from eth_account.signers.local import LocalAccount
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from citypass.core.daemon import run_until_stopped
from citypass.protocol.sensor_events import EventDomain
from oracles.aggregate.aggregator import Aggregator
from oracles.config import OracleSettings
from oracles.cosign import CoSigner, answer
from oracles.devices import DeviceCache
from oracles.errors import LedgerUnavailable
from oracles.inbox import Inbox
from oracles.incidents import IncidentFiler
from oracles.ledger import Ledger
from oracles.metrics import Metrics
from oracles.plates.matcher import PlateMatcher
from oracles.plates.tags_client import VehicleTags
from oracles.quorum import QuorumReporter
from oracles.reporter import Reporter
from oracles.server import build_app, serve
from oracles.verify import check_batch

log = logging.getLogger("oracles.daemon")
# TEST-ONLY fault injection: "lie" makes this daemon propose every occupancy bit flipped and
# co-sign anything (tests/oracles/test_oracle_quorum.py). Never set it in production.
TEST_FAULT_ENV = "CITYPASS_ORACLE_TEST_FAULT"
BACKOFF_CAP = 10.0
MISS_REFRESH_SECONDS = 0.5


class OracleDaemon:
    def __init__(
        self, settings: OracleSettings, submitter: LocalAccount, signer_keys: list[bytes]
    ) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.inbox = Inbox(settings.inbox_path)
        self.ledger = Ledger(
            settings.rpc_url,
            settings.device_registry,
            settings.occupancy_oracle,
            settings.incident_registry,
            settings.clock,
            settings.lease_market,
        )
        self.cache = DeviceCache(self.ledger)
        self.submitter = submitter
        self.aggregator = aggregator = Aggregator(
            int(settings.debounce_seconds * 1000),
            int(settings.reconcile_seconds * 1000),
            settings.camera_min_confidence_bps,
        )
        # The submitter signs reports too, plus any co-signers (quorum m > 1).
        keys = [bytes(submitter.key), *signer_keys]
        self.reporter = Reporter(
            self.inbox, self.ledger, submitter, keys, aggregator, self.metrics,
            settings.max_report_words,
        )  # fmt: skip
        self.filer = IncidentFiler(
            self.inbox, self.ledger, submitter, self.metrics, settings.incident_batch
        )
        lie = os.environ.get(TEST_FAULT_ENV) == "lie"
        if lie:
            log.warning("TEST-ONLY fault injection: this daemon lies", extra={"fault": "lie"})
        self.cosigner = CoSigner(self.reporter, self.ledger, submitter, lie)
        self.quorum = QuorumReporter(
            self.reporter, self.ledger, submitter, self.metrics, settings.peers,
            settings.proposer_timeout_seconds, lie,
        )  # fmt: skip
        tags = None
        if settings.api_url:
            tags = VehicleTags(settings.api_url, submitter, settings.plate_cache_seconds)
        self.plates = PlateMatcher(self.inbox, self.ledger, submitter, self.metrics, tags)
        self.domain: EventDomain | None = None
        self.evidence: Any = None
        # One thread talks to the ledger (web3 is not shared across threads); ingest uses others.
        self.chain_pool = ThreadPoolExecutor(1, thread_name_prefix="ledger")
        self.ingest_pool = ThreadPoolExecutor(2, thread_name_prefix="ingest")
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self._miss_refreshed = 0.0

    # ------------------------------------------------------------------------------ running

    async def run(self) -> None:
        """Serve ingest, /health and /metrics and work the ledger until SIGTERM/SIGINT (or
        until `stopping` is set)."""
        runner = await serve(build_app(self), self.settings.host, self.settings.port)
        log.info(
            "oracle daemon listening",
            extra={"host": self.settings.host, "port": self.settings.port},
        )
        self.tasks = [asyncio.create_task(self._main())]

        async def shutdown() -> None:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await runner.cleanup()  # lets requests in flight finish and commit
            self.chain_pool.shutdown(wait=True)
            self.ingest_pool.shutdown(wait=True)
            self.inbox.close()
            if self.evidence is not None:
                self.evidence.close()

        await run_until_stopped(shutdown=shutdown, stop=self.stopping, log=log)

    async def _chain(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.chain_pool, fn, *args)

    async def _main(self) -> None:
        await self._connect()
        await asyncio.gather(self._device_loop(), self._report_loop(), self._retention_loop())

    async def _connect(self) -> None:
        """Wait for the ledger (capped exponential backoff), then bind and load."""
        async for attempt in AsyncRetrying(
            wait=wait_exponential(multiplier=0.2, max=BACKOFF_CAP),
            retry=retry_if_exception_type(LedgerUnavailable),
            before_sleep=lambda state: log.warning(
                "ledger unreachable; retrying", extra={"attempt": state.attempt_number}
            ),
        ):
            with attempt:
                await self._chain(self._connect_sync)
        self.ready.set()
        log.info("ready", extra={"chain_id": self.domain.chain_id if self.domain else None})

    def _connect_sync(self) -> None:
        chain_id = self.ledger.chain_id()
        self.inbox.bind(chain_id, self.settings.device_registry)
        self.domain = EventDomain(chain_id, self.settings.device_registry.lower())
        self.cache.load_all()
        if self.evidence is None:
            from oracles.evidence import EvidenceConfig, open_store

            self.evidence = open_store(EvidenceConfig.from_env(self.settings.evidence_path))

    async def _device_loop(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(
                _backoff(failures) if failures else self.settings.device_refresh_seconds
            )
            try:
                await self._chain(self.cache.refresh)
                failures = 0
            except Exception as exc:  # noqa: BLE001 - logged, retried with backoff
                failures += 1
                log.warning("device refresh failed", extra={"error": str(exc)})

    async def _report_loop(self) -> None:
        failures = 0
        timeout = aiohttp.ClientTimeout(total=self.settings.cosign_wait_seconds + 5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await asyncio.sleep(
                    _backoff(failures) if failures else self.settings.report_interval
                )
                try:
                    if self.settings.peers:
                        await self._peer_report_once(session)
                    else:
                        await self._chain(self._report_once)
                    failures = 0
                except Exception as exc:  # noqa: BLE001 - logged, retried with backoff
                    failures += 1
                    self.metrics.submission_errors.labels(type(exc).__name__).inc()
                    log.warning(
                        "report cycle failed", extra={"error": str(exc), "failures": failures}
                    )

    async def _peer_report_once(self, session: aiohttp.ClientSession) -> None:
        """With peers: plan on the ledger thread, gather co-signatures over HTTP without
        holding it (peers' checks need their own ledger threads, and ours answers them), then
        submit with the quorum; plates and incidents as in `_report_once`."""
        try:
            proposal = await self._chain(self.quorum.plan, self.ledger.now_ms())
            if proposal is not None:
                signatures = await self.quorum.collect(session, proposal)
                if len(signatures) >= proposal.quorum:
                    await self._chain(self.quorum.submit, proposal, signatures)
        finally:
            await self._chain(self._incidents_once)

    async def _retention_loop(self) -> None:
        """Shred evidence past its retention period (oracles/sweep.py), every
        retention_sweep_seconds; a failed sweep is logged and tried again next time."""
        while True:
            try:
                report = await self._chain(self._sweep_once)
                log.info(
                    "retention sweep",
                    extra={"shredded": len(report.shredded), "held": len(report.held)},
                )
            except Exception as exc:  # noqa: BLE001 - logged, retried at the next period
                log.warning("retention sweep failed", extra={"error": str(exc)})
            await asyncio.sleep(self.settings.retention_sweep_seconds)

    def _sweep_once(self) -> Any:
        from oracles.sweep import sweep_evidence

        shredded = self.metrics.shredded
        return sweep_evidence(
            self.evidence, self.ledger, self.settings, self.ledger.now_ms() / 1000,
            on_shred=lambda kind, reason: shredded.labels(kind, reason).inc(),
            awaiting=self.inbox.awaiting_evidence(),
        )  # fmt: skip

    def _report_once(self) -> None:
        self.ledger.refresh_head()
        self.reporter.build(self.ledger.now_ms())
        try:
            self.reporter.submit_pending()
        finally:
            self._incidents_once()

    def _incidents_once(self) -> None:
        """Plates first (a mismatch queues an incident), then incidents, even while a report is
        being retried; only on the daemon designated to file them (file_incidents)."""
        if not self.settings.file_incidents:
            return
        try:
            self.plates.match_pending()
        except Exception as exc:  # noqa: BLE001 - pending reads are retried next cycle
            self.metrics.submission_errors.labels(type(exc).__name__).inc()
            log.warning("plate matching failed; retrying", extra={"error": str(exc)})
        self.filer.file_pending()

    # ------------------------------------------------------------------------------- ingest

    async def ingest(self, wires: list[Any]) -> dict[str, Any]:
        self.metrics.batch_size.observe(len(wires))
        if not self.ready.is_set() or self.domain is None:
            rejected = [
                {
                    "eventId": w.get("eventId", "") if isinstance(w, dict) else "",
                    "reason": "unavailable",
                    "message": "the daemon is still loading the device registry: retry",
                }
                for w in wires
            ]
            self.metrics.rejected.labels("unavailable").inc(len(wires))
            return {"accepted": [], "duplicates": [], "rejected": rejected}
        await self._refresh_on_unknown(wires)
        await self._refresh_chain_clock(wires)
        s = self.settings
        store = self.evidence

        def store_evidence(data: bytes) -> bytes:
            return store.put(data).cid.binary

        verdicts = await asyncio.get_running_loop().run_in_executor(
            self.ingest_pool,
            check_batch,
            wires,
            self.domain,
            self.cache,
            self.inbox,
            self.ledger.now_ms(),
            int(s.max_future_seconds * 1000),
            int(s.max_past_seconds * 1000),
            store_evidence,
        )
        self.metrics.accepted.inc(len(verdicts.accepted))
        self.metrics.duplicates.inc(len(verdicts.duplicates))
        for rejection in verdicts.rejected:
            self.metrics.rejected.labels(rejection["reason"]).inc()
        return verdicts.reply()

    async def _refresh_chain_clock(self, wires: list[Any]) -> None:
        """On the chain clock, the head may have moved ahead since the last poll (a development
        clock jumps): re-read it before judging an event to be from the future."""
        if self.ledger.clock != "chain":
            return
        times = [
            w["eventTimeMs"]
            for w in wires
            if isinstance(w, dict) and type(w.get("eventTimeMs")) is int
        ]
        limit = self.ledger.now_ms() + int(self.settings.max_future_seconds * 1000)
        if times and max(times) > limit:
            try:
                await self._chain(self.ledger.refresh_head)
            except Exception as exc:  # noqa: BLE001 - the event is then judged on the old clock
                log.warning("clock refresh failed", extra={"error": str(exc)})

    async def _refresh_on_unknown(self, wires: list[Any]) -> None:
        """A device registered moments ago is not in the cache yet; rather than refusing its
        first events, refresh once now (at most every MISS_REFRESH_SECONDS, so a stream of
        unknown devices cannot turn into a stream of ledger calls)."""
        devices = self.cache.devices
        unknown = any(
            isinstance(w, dict)
            and isinstance(w.get("device"), str)
            and w["device"].lower() not in devices
            for w in wires
        )
        if not unknown or time.monotonic() - self._miss_refreshed < MISS_REFRESH_SECONDS:
            return
        self._miss_refreshed = time.monotonic()
        try:
            await self._chain(self.cache.refresh)
        except Exception as exc:  # noqa: BLE001 - the periodic refresh retries
            log.warning("device refresh on an unknown device failed", extra={"error": str(exc)})

    async def cosign(self, data: Any) -> tuple[int, dict[str, Any]]:
        """A peer's `POST /v1/peer/cosign` (oracles/cosign.py): (HTTP status, JSON body)."""
        return await answer(
            data, self.cosigner, self._chain, self.ready.is_set(),
            self.settings.cosign_wait_seconds, self.metrics,
        )  # fmt: skip

    # ------------------------------------------------------------------------------- health

    async def refresh_gauges(self) -> None:
        self.metrics.inbox_depth.set(self.inbox.depth())
        if self.evidence is not None:
            from oracles.evidence.store import KIND

            keys = self.evidence.keys
            for (kind, reason), count in keys.deletion_counts().items():
                self.metrics.deletion_records.labels(kind, reason).set(count)
            self.metrics.held.set(len(keys.held(KIND)))
        self.metrics.ledger_up.set(1 if self.ledger.up else 0)

    async def health(self) -> dict[str, Any]:
        await self.refresh_gauges()
        age = self.cache.age_seconds
        return {
            "status": "ok" if self.ledger.up and self.ready.is_set() else "degraded",
            "ready": self.ready.is_set(),
            "ledger": "up" if self.ledger.up else "down",
            "head": self.ledger.head_number,
            "inboxDepth": self.inbox.depth(),
            "lastReportSequence": self.inbox.last_confirmed_sequence(),
            "pendingReports": len(self.inbox.pending_reports()),
            # Slots whose new state is still being debounced or reconciled: reported once it
            # has held (a drained inbox alone does not mean everything seen is on chain).
            "settlingSlots": len(self.aggregator.waiting),
            "incidentBacklog": self.inbox.incident_backlog(),
            "filesIncidents": self.settings.file_incidents,
            "signer": self.submitter.address,
            "peers": list(self.settings.peers),
            # Cameras' plate tags by outcome; "pending" ones wait for the next cycle.
            "plateReads": self.inbox.plate_outcomes(),
            "devices": len(self.cache.devices),
            "deviceCacheAgeSeconds": None if age == float("inf") else round(age, 3),
            "clock": self.ledger.now_ms() // 1000,
            "time": time.time(),
        }


def _backoff(failures: int) -> float:
    return min(BACKOFF_CAP, 0.2 * 2 ** min(failures, 10))
