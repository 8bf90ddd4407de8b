"""A minimal receiver that plays the oracle daemon's HTTP contract (POST /v1/events), for the
edge's tests and demos. It is NOT the oracle daemon: it verifies each event's shape and
signature and keeps per-device sequence order as the daemon does, and can be told to fail
(HTTP 503, 413 above a size, permanent rejections, a refused connection, a slow reply)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from citypass.core.net import free_port
from citypass.protocol.sensor_events import (
    EventDomain,
    SensorEventError,
    parse_event,
    recover_signer,
)


class ContractReceiver:
    def __init__(self, domain: EventDomain, port: int | None = None) -> None:
        self.domain = domain
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.events: dict[str, dict[str, Any]] = {}  # event id → wire, first accepted
        self.order: list[str] = []  # event ids in acceptance order
        self.batches: list[list[str]] = []
        self.last_sequence: dict[str, int] = {}
        self.fail_statuses: list[int] = []  # answer these statuses first, one per request
        self.max_events: int | None = None  # 413 above this
        self.reject: Callable[[dict[str, Any]], str | None] = lambda wire: None
        self.gap_once: set[str] = set()  # answer sequence_gap once for these ids
        self.delay_s = 0.0
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------------------- lifecycle

    def start(self) -> ContractReceiver:
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/events", self._events)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def wait_for(self, count: int, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.events) >= count:
                return True
            time.sleep(0.05)
        return False

    # ------------------------------------------------------------------------------ handler

    async def _events(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_statuses:
            return web.Response(status=self.fail_statuses.pop(0), text="induced failure")
        try:
            body = json.loads(await request.read())
            wires = body["events"]
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": 'body must be {"events": [...]}'}, status=400)
        if self.max_events is not None and len(wires) > self.max_events:
            return web.Response(status=413, text="batch too large")
        accepted: list[str] = []
        duplicates: list[str] = []
        rejected: list[dict[str, str]] = []
        self.batches.append([str(w.get("eventId")) for w in wires])
        for wire in wires:
            event_id = str(wire.get("eventId"))
            try:
                signed = parse_event(wire)
                if recover_signer(signed, self.domain).lower() != signed.event.device:
                    raise SensorEventError("bad_signature", "signature is not the device's")
            except SensorEventError as exc:
                rejected.append({"eventId": event_id, "reason": exc.reason, "message": str(exc)})
                continue
            device, sequence = signed.event.device, signed.event.sequence
            last = self.last_sequence.get(device, 0)
            if sequence <= last:
                duplicates.append(event_id)
                continue
            if sequence > last + 1 or event_id in self.gap_once:
                self.gap_once.discard(event_id)
                rejected.append(
                    {
                        "eventId": event_id,
                        "reason": "sequence_gap",
                        "message": f"expected {last + 1}",
                    }
                )
                continue
            self.last_sequence[device] = sequence
            reason = self.reject(wire)
            if reason is not None:
                rejected.append({"eventId": event_id, "reason": reason, "message": "induced"})
                continue
            self.events[event_id] = wire
            self.order.append(event_id)
            accepted.append(event_id)
        return web.json_response(
            {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}
        )
