"""How a preparing thread of the relay batcher cuts the queue into batches (api/relay_batch.py):
by the batch's gas budget, with the first request that does not fit starting the next batch, a
request too big for any batch refused at once, and nothing left unanswered when it stops. The
batcher's threads are stopped first, so only the test takes from its queue."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from api.errors import ApiError, LedgerUnavailable
from api.relay_batch import (
    BATCH_BASE_GAS,
    BATCH_GAS_BUDGET,
    MAX_REQUEST_GAS,
    PER_REQUEST_OVERHEAD_GAS,
    RelayBatcher,
    _Item,
)
from api.schemas.relay import ForwardRequestCreate

SIGNER = "0x" + "11" * 20


def _item(gas: int) -> _Item:
    request = ForwardRequestCreate.model_validate(
        {
            "from": SIGNER,
            "to": "0x" + "22" * 20,
            "value": 0,
            "gas": gas,
            "deadline": 2**40,
            "data": "0x12345678",
            "signature": "0x" + "00" * 65,
        }  # fmt: skip
    )
    return _Item(request, lambda _request: None)


@pytest.fixture
def stopped_batcher() -> Any:
    batcher = RelayBatcher(checks=None, account=None)  # type: ignore[arg-type]
    batcher.stop()
    return batcher


def test_a_batch_takes_what_its_gas_holds_and_the_next_request_starts_the_next(stopped_batcher):
    gas = 160_000
    fits = (BATCH_GAS_BUDGET - BATCH_BASE_GAS) // (gas + PER_REQUEST_OVERHEAD_GAS)
    items = [_item(gas) for _ in range(fits + 5)]
    for item in items[1:]:
        stopped_batcher._queue.put(item)
    batch, carried = stopped_batcher._collect(items[0])
    assert batch == items[:fits]
    assert carried is items[fits]
    assert sum(i.request.gas + PER_REQUEST_OVERHEAD_GAS for i in batch) + BATCH_BASE_GAS <= (
        BATCH_GAS_BUDGET
    )
    # The rest stays queued, in order, for the next batch.
    assert [stopped_batcher._queue.get_nowait() for _ in range(4)] == items[fits + 1 :]


def test_a_request_too_big_for_any_batch_is_refused_not_queued_again(stopped_batcher):
    big, small = _item(MAX_REQUEST_GAS + 1), _item(100_000)
    stopped_batcher._queue.put(small)
    batch, carried = stopped_batcher._collect(big)
    assert (batch, carried) == ([], None)
    with pytest.raises(ApiError) as refused:
        big.future.result(timeout=1)
    assert refused.value.code == "gas_too_high" and refused.value.status == 422
    assert stopped_batcher._queue.get_nowait() is small  # the next request is not lost
    exact = _item(MAX_REQUEST_GAS)
    assert stopped_batcher._collect(exact) == ([exact], None)


def test_stopping_answers_every_queued_request(stopped_batcher):
    waiting = [_item(100_000) for _ in range(3)]
    for item in waiting:
        stopped_batcher._queue.put(item)
    stopped_batcher.stop()
    for item in waiting:
        with pytest.raises(LedgerUnavailable):
            item.future.result(timeout=1)


def test_a_request_carried_to_the_next_batch_is_answered_when_the_batcher_stops(monkeypatch):
    """A preparing thread stopped while it holds the request that did not fit its last batch
    puts it back, so stop() answers it with the rest of the queue."""
    monkeypatch.setattr("api.relay_batch.PREPARERS", 1)
    account = SimpleNamespace(on_batch=lambda _requests, _seconds: None)
    batcher = RelayBatcher(checks=None, account=account)  # type: ignore[arg-type]
    processing, release = threading.Event(), threading.Event()

    def slow_process(batch: list[_Item]) -> None:
        processing.set()
        release.wait(10)

    batcher._process = slow_process  # type: ignore[method-assign]
    first, carried = _item(10_000_000), _item(10_000_000)  # two do not fit one batch
    batcher._queue.put(first)
    batcher._queue.put(carried)
    assert processing.wait(5)
    stopping = threading.Thread(target=batcher.stop)
    stopping.start()
    release.set()
    stopping.join(15)
    with pytest.raises(LedgerUnavailable):
        carried.future.result(timeout=1)
