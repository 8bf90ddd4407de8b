"""The delivery loop: the oldest pending events, in order, in batches to the oracle daemon's
`POST /v1/events`, marked delivered only after the daemon answered for them.

The daemon's answer (HTTP 200): {"accepted": [id…], "duplicates": [id…],
"rejected": [{"eventId", "reason", "message"}]}. Accepted and duplicates are delivered. A
rejection for `sequence_gap` or `unavailable` is retried later; the batch stops at the first one
so order is kept. Any other rejection is final: the event moves to the dead letters with its
reason. HTTP 413 halves the batch. Connection errors, timeouts and other statuses back off
exponentially with jitter, capped, forever: the daemon deduplicates by event id, so re-sending
is safe and nothing is ever dropped.

With several oracle daemons (independent oracles, EdgeSettings.oracle_url comma-separated) one
Deliverer runs per daemon, each with its own progress in the outbox: a daemon that is down
holds back no other, and receives everything it missed once it is back."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_never
from tenacity.wait import wait_random_exponential

from edge_oracle.config import EdgeSettings
from edge_oracle.metrics import EdgeMetrics
from edge_oracle.outbox import Outbox, Pending

log = logging.getLogger("edge_oracle.delivery")
RETRYABLE_REASONS = ("sequence_gap", "unavailable")


class Transient(Exception):
    """This attempt made no progress; back off and try again. The message is the cause."""

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


class Stopping(Exception):
    """The daemon is stopping: leave the retry loop."""


@dataclass
class DeliveryStatus:
    oracle_reachable: bool | None = None
    last_error: str | None = None
    last_attempt_ms: int | None = None


class Deliverer:
    def __init__(
        self, outbox: Outbox, settings: EdgeSettings, metrics: EdgeMetrics, url: str | None = None
    ) -> None:
        self.outbox = outbox
        self.settings = settings
        self.metrics = metrics
        self.status = DeliveryStatus()
        self.limit = settings.batch_events
        self.url = (url or settings.oracle_urls[0]).rstrip("/")
        self.events_url = self.url + "/v1/events"
        # Progress is per daemon only when the outbox delivers to several.
        self.destination = self.url if outbox.destinations else None

    async def run(self, stop: asyncio.Event, *, until_empty: asyncio.Event | None = None) -> None:
        """Deliver until `stop` is set. If `until_empty` is given, also return once the outbox is
        empty after `until_empty` was set (the inputs are exhausted)."""
        timeout = aiohttp.ClientTimeout(total=self.settings.request_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not stop.is_set():
                try:
                    delivered = await self._with_backoff(session, stop)
                except Stopping:
                    return
                if delivered == 0:
                    if (
                        until_empty is not None
                        and until_empty.is_set()
                        and self.outbox.depth() == 0
                    ):
                        return
                    await _sleep_or_stop(stop, self.settings.poll_interval_s)

    async def _with_backoff(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> int:
        async def sleep(seconds: float) -> None:
            if await _sleep_or_stop(stop, seconds):
                raise Stopping()

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Transient),
            wait=wait_random_exponential(
                multiplier=self.settings.backoff_initial_s, max=self.settings.backoff_max_s
            ),
            stop=stop_never,
            sleep=sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if stop.is_set():
                    raise Stopping()
                return await self.deliver_once(session)
        return 0  # unreachable: stop_never

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        cause = exc.cause if isinstance(exc, Transient) else "error"
        self.metrics.retries.labels(cause).inc()
        log.warning(
            f"delivery attempt {state.attempt_number} failed ({exc}); retrying in "
            f"{state.upcoming_sleep:.1f} s",
        )

    async def deliver_once(self, session: aiohttp.ClientSession) -> int:
        """One batch; returns how many events were settled (delivered or dead-lettered), or -1
        when the batch was too large and a smaller one should follow at once."""
        batch = self.outbox.pending(self.limit, self.settings.batch_bytes, self.destination)
        self.metrics.outbox_depth.set(self.outbox.depth())
        if not batch:
            return 0
        self.status.last_attempt_ms = int(time.time() * 1000)
        body = json.dumps({"events": [p.wire for p in batch]}, separators=(",", ":"))
        try:
            async with session.post(
                self.events_url, data=body, headers={"Content-Type": "application/json"}
            ) as reply:
                status = reply.status
                text = await reply.text()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._unreachable(f"{exc.__class__.__name__}: {exc}")
            raise Transient(
                "unreachable", f"oracle daemon unreachable ({exc.__class__.__name__})"
            ) from exc
        self.status.oracle_reachable = True
        if status == 413:
            return self._too_large(batch)
        if status != 200:
            self.status.last_error = f"HTTP {status}: {text[:200]}"
            cause = "server_error" if status >= 500 else f"http_{status}"
            raise Transient(cause, f"oracle daemon answered HTTP {status}")
        try:
            answer = json.loads(text)
            settled = self._apply(batch, answer)
        # RecursionError: a reply nested deep enough to exhaust the parser is no agreed JSON.
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            self.status.last_error = f"unreadable reply: {exc}"
            raise Transient(
                "bad_reply", f"oracle daemon's reply is not the agreed JSON ({exc})"
            ) from exc
        self.limit = self.settings.batch_events
        self.status.last_error = None
        self.metrics.outbox_depth.set(self.outbox.depth())
        if settled == 0:
            raise Transient("retry_later", "the oracle daemon asked to retry the first event later")
        return settled

    def _unreachable(self, why: str) -> None:
        self.status.oracle_reachable = False
        self.status.last_error = why

    def _too_large(self, batch: list[Pending]) -> int:
        if len(batch) == 1:
            # One event alone is too large for this daemon: it can never be delivered as is.
            self.outbox.dead_letter(
                [(batch[0].row, "oversized", "HTTP 413 for a single event")],
                destination=self.destination,
            )
            self.metrics.dead_lettered.labels("oversized").inc()
            log.error(
                f"event {batch[0].event_id} is too large for the oracle daemon: dead-lettered"
            )
            return 1
        self.limit = max(1, len(batch) // 2)
        self.metrics.retries.labels("too_large").inc()
        log.warning(f"batch of {len(batch)} events too large (HTTP 413): trying {self.limit}")
        # Not progress, but nothing to back off from either: the next attempt is smaller.
        return -1

    def _apply(self, batch: list[Pending], answer: dict[str, Any]) -> int:
        accepted = {str(i).lower() for i in answer.get("accepted", [])}
        duplicates = {str(i).lower() for i in answer.get("duplicates", [])}
        rejected = {str(r["eventId"]).lower(): r for r in answer.get("rejected", [])}
        now_ms = int(time.time() * 1000)
        delivered: list[int] = []
        dead: list[tuple[int, str, str]] = []
        stopped = False
        missing = 0
        for item in batch:
            key = item.event_id.lower()
            if key in accepted or key in duplicates:
                delivered.append(item.row)
                outcome = "accepted" if key in accepted else "duplicate"
                self.metrics.delivered.labels(outcome).inc()
                self.metrics.latency.observe(max(0, now_ms - item.created_ms) / 1000)
            elif key in rejected:
                reason = str(rejected[key].get("reason", "unknown"))
                if reason in RETRYABLE_REASONS:
                    if not stopped:
                        self.metrics.retries.labels(reason).inc()
                    stopped = True  # keep order: this and later events wait
                elif not stopped:
                    message = str(rejected[key].get("message", ""))
                    dead.append((item.row, reason, message))
                    self.metrics.dead_lettered.labels(reason).inc()
                    log.error(f"event {item.event_id} refused for good: {reason}: {message}")
            else:
                missing += 1
                stopped = True
        if missing:
            log.warning(f"the oracle daemon did not answer for {missing} events: re-sending them")
        self.outbox.mark_delivered(delivered, now_ms, self.destination)
        self.outbox.dead_letter(dead, now_ms, self.destination)
        self.metrics.batch_size.observe(len(batch))
        return len(delivered) + len(dead)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, waking early on stop; True if stopping."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
