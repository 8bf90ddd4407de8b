"""citypass/core/token_buckets.py: whole tokens per key, partial grants, the wait, forgetting."""

from __future__ import annotations

from citypass.core import token_buckets
from citypass.core.token_buckets import TokenBuckets


def test_a_batch_gets_the_whole_tokens_left_and_hears_the_wait():
    now = [0.0]
    buckets = TokenBuckets(rate=4.0, burst=3, clock=lambda: now[0])
    assert buckets.take("10.0.0.1", 5) == (3, 0.25)  # three granted; a token back in 1/4 s
    assert buckets.take("10.0.0.2") == (1, 0.0)  # each key has its own bucket
    assert buckets.take("10.0.0.1", 0) == (0, 0.25)  # asking for none only reads the wait
    now[0] = 0.5
    assert buckets.take("10.0.0.1", 5)[0] == 2
    now[0] = 100.0
    assert buckets.take("10.0.0.1", 5)[0] == 3  # refilled up to the burst, not beyond


def test_full_buckets_are_forgotten_past_the_kept_keys(monkeypatch):
    monkeypatch.setattr(token_buckets, "KEYS_KEPT", 2)
    now = [0.0]
    buckets = TokenBuckets(rate=1.0, burst=1, clock=lambda: now[0])
    for key in ("a", "b", "c"):
        buckets.take(key)
    now[0] = 10.0  # all full again
    buckets.take("d")
    assert buckets.take("a") == (1, 1.0)  # a forgotten key starts full
    assert sorted(buckets._buckets) == ["a", "d"]
