"""The relay's rate limits: one token per request from a key's bucket (a signer address or a
client IP), a refusal being RateLimited (429) with the whole seconds until the next token.

One API process serves one ledger; buckets are not shared across processes (documented)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from api.errors import RateLimited
from citypass.core.token_buckets import TokenBuckets


class TokenBucket:
    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.buckets = TokenBuckets(rate, burst, clock)

    def take(self, key: str, what: str) -> None:
        """Spend one token of `key` or raise RateLimited with the seconds until the next one."""
        granted, wait = self.buckets.take(key)
        if not granted:
            seconds = math.ceil(wait)
            raise RateLimited(
                f"too many relay requests for {what}: at most {self.buckets.burst} at once and "
                f"{self.buckets.rate:g} per second; retry in {seconds} s",
                retry_after=seconds,
            )
