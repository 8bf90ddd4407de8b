"""The demo payment provider's webhook deliveries: each paid checkout's event is POSTed to the
API, signed anew (fresh timestamp) at every attempt, with the same Idempotency-Key, and retried
with backoff while the API is unreachable or answers 5xx/429, as real providers do.

Simulated: it moves no money. See api/payments/demo_provider.py."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from api.payments.signature import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger("demo_pay.deliveries")

FIRST_BACKOFF_S = 0.5
ATTEMPT_TIMEOUT_S = 90.0  # the API answers once the mint is in a block
RETRIED = frozenset({408, 425, 429})


@dataclass
class Delivery:
    receipt_id: str
    event_id: str  # the Idempotency-Key: the same for every attempt and resend
    body: bytes  # exactly what is signed and sent, the same bytes every attempt
    attempts: int = 0
    state: str = "queued"  # queued | retrying | delivered | refused | gave_up
    last_status: int | None = None
    last_answer: Any = None
    first_queued: float = field(default_factory=time.time)
    # The last attempt's signing time: each attempt is signed at a later second, so no two
    # attempts carry the same signature (the API refuses a signature it has seen: a replay).
    signed_at: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "state": self.state, "attempts": self.attempts, "lastStatus": self.last_status,
            "lastAnswer": self.last_answer, "idempotencyKey": self.event_id,
        }  # fmt: skip


class Deliverer:
    """One thread sending due deliveries in order of their due time."""

    def __init__(
        self, webhook_url: str, secret: str, max_backoff: float, give_up_after: float
    ) -> None:
        self._url = webhook_url
        self._secret = secret
        self._max_backoff = max_backoff
        self._give_up_after = give_up_after
        self._due: list[tuple[float, int, Delivery]] = []
        self._sequence = 0
        self._wake = threading.Condition()
        self._stopping = False
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="webhook-deliveries", daemon=True)
        self._thread.start()

    def queue(self, delivery: Delivery, delay: float = 0.0) -> None:
        with self._wake:
            self._sequence += 1
            heapq.heappush(self._due, (time.monotonic() + delay, self._sequence, delivery))
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=ATTEMPT_TIMEOUT_S)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._due or self._due[0][0] > time.monotonic()):
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._stopping:
                    return
                _due, _seq, delivery = heapq.heappop(self._due)
            self._attempt(delivery)

    def _attempt(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        delivery.signed_at = max(int(time.time()), delivery.signed_at + 1)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, delivery.body, delivery.signed_at),
            IDEMPOTENCY_HEADER: delivery.event_id,
        }
        try:
            reply = self._session.post(
                self._url, data=delivery.body, headers=headers, timeout=ATTEMPT_TIMEOUT_S
            )
            delivery.last_status = reply.status_code
            delivery.last_answer = _answer(reply)
            retry = reply.status_code >= 500 or reply.status_code in RETRIED
        except requests.RequestException as exc:
            delivery.last_status, delivery.last_answer = None, f"{type(exc).__name__}: {exc}"
            retry = True
        if not retry:
            delivery.state = "delivered" if delivery.last_status < 300 else "refused"  # type: ignore[operator]
            log.info(
                "webhook " + delivery.state,
                extra={"receipt": delivery.receipt_id, "status": delivery.last_status,
                       "attempts": delivery.attempts},
            )  # fmt: skip
            return
        if time.time() - delivery.first_queued > self._give_up_after:
            delivery.state = "gave_up"
            log.warning("webhook given up", extra={"receipt": delivery.receipt_id})
            return
        delivery.state = "retrying"
        backoff = min(FIRST_BACKOFF_S * 2 ** (delivery.attempts - 1), self._max_backoff)
        log.info(
            "webhook retry",
            extra={"receipt": delivery.receipt_id, "status": delivery.last_status,
                   "in_seconds": backoff},
        )  # fmt: skip
        self.queue(delivery, backoff)


def _answer(reply: requests.Response) -> Any:
    try:
        return reply.json()
    except ValueError:
        return reply.text[:500]
