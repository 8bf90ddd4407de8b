"""The permission gate kept current with every sealed block: cached permissions dropped from the
block's membership events, and, until the permission contract is known, the authority's
deployments searched for it (the first contract that answers transactionAllowed(authority) with
true; recorded in the journal for restarts)."""

from __future__ import annotations

import logging
from typing import Any

from ledger_node.engine import Engine
from ledger_node.integrity import ACCESS_META, access_contract_in_block
from ledger_node.journal import Journal, JournalBlock
from ledger_node.permission import PermissionGate

log = logging.getLogger("ledger_node")


class GateFollower:
    def __init__(
        self, engine: Engine, gate: PermissionGate, journal: Journal, authority: str
    ) -> None:
        self.engine = engine
        self.gate = gate
        self.journal = journal
        self.authority = authority
        self._discovery_backlog: list[JournalBlock] = []

    async def after_block(
        self, engine_block: dict[str, Any], block: JournalBlock
    ) -> list[dict[str, Any]]:
        """Update the gate from a sealed block; returns the block's logs (for subscribers)."""
        logs: list[dict[str, Any]] = []
        if block.tx_hashes:
            try:
                logs = (
                    await self.engine.call("eth_getLogs", [{"blockHash": engine_block["hash"]}])
                    or []
                )
            except Exception:
                log.exception(
                    "could not read block %d's logs; dropping every cached permission", block.number
                )
                self.gate.set_access_contract(self.gate.access_address)
        self.gate.invalidate_from_logs(logs)
        if self.gate.access_address is None and block.tx_hashes:
            self._discovery_backlog.append(block)
            try:
                while self._discovery_backlog and self.gate.access_address is None:
                    await self._discover(self._discovery_backlog[0])
                    self._discovery_backlog.pop(0)
            except Exception:  # retried with the next block
                log.exception("looking for the permission contract failed; will retry")
        return logs

    async def _discover(self, block: JournalBlock) -> None:
        address = await access_contract_in_block(self.engine, self.authority, block.tx_hashes)
        if address is not None:
            self.journal.set_meta(ACCESS_META, address)
            self.gate.set_access_contract(address)
            log.info("permission contract discovered at %s", address)
