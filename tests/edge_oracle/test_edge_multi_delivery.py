"""Delivery to several oracle daemons (independent oracles): every event reaches each daemon
exactly once and in order, with per-daemon progress in the outbox; a daemon that is down holds
back no other and receives everything it missed once it is back."""

from __future__ import annotations

import asyncio

import pytest

from edge_oracle.config import EdgeSettings
from edge_oracle.delivery import Deliverer
from edge_oracle.errors import ConfigError
from edge_oracle.metrics import EdgeMetrics
from edge_oracle.server import health_document
from edge_oracle.testing import ContractReceiver, free_port
from tests.edge_oracle.test_edge_delivery import (
    DOMAIN,
    assert_exactly_once_in_order,
    filled_outbox,
    settings,
)


def test_a_down_oracle_holds_back_no_other_and_catches_up(tmp_path):
    up = ContractReceiver(DOMAIN).start()
    down = ContractReceiver(DOMAIN, free_port())  # not listening yet: connections refused
    config = settings(tmp_path, f"{up.url},{down.url}", batch_events=4)
    outbox = filled_outbox(tmp_path, 15)
    outbox.set_destinations(config.oracle_urls)
    metrics = EdgeMetrics()
    deliverers = [Deliverer(outbox, config, metrics, url) for url in config.oracle_urls]

    async def scenario() -> dict:
        stop, done = asyncio.Event(), asyncio.Event()
        done.set()
        tasks = [asyncio.create_task(d.run(stop, until_empty=done)) for d in deliverers]
        while len(up.events) < 15:
            await asyncio.sleep(0.02)
        # The live daemon has everything; the outbox still holds all 15 for the other.
        assert outbox.depth(up.url) == 0 and outbox.depth(down.url) == 15
        assert outbox.depth() == 15 and outbox.counts()["delivered"] == 0
        health = health_document(outbox, deliverers)
        await asyncio.to_thread(down.start)
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
        return health

    try:
        health = asyncio.run(scenario())
        assert_exactly_once_in_order(up, 15)
        assert_exactly_once_in_order(down, 15)
        assert outbox.depth() == 0 and outbox.counts()["delivered"] == 15
        assert health["oracleReachable"] is False and health["status"] == "degraded"
        by_url = {o["url"]: o for o in health["oracles"]}
        assert by_url[up.url]["pending"] == 0 and by_url[down.url]["pending"] == 15
        assert by_url[down.url]["reachable"] is False and by_url[down.url]["lastError"]
    finally:
        up.close()
        down.close()


def test_oracle_urls_are_each_checked(tmp_path):
    with pytest.raises(ConfigError, match="oracle_url 'ftp://b' is not an http"):
        EdgeSettings.load(
            {"oracle_url": "http://a:1,ftp://b", "data_dir": tmp_path}, need_chain=False
        )
    with pytest.raises(ConfigError, match="the same oracle daemon twice"):
        EdgeSettings.load(
            {"oracle_url": "http://a:1,http://a:1/", "data_dir": tmp_path}, need_chain=False
        )
    config = settings(tmp_path, "http://a:1/, http://b:2")
    assert config.oracle_urls == ("http://a:1", "http://b:2")
