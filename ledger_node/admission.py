"""The node's checks of a raw transaction before it is journaled: chain, gas, permission and
nonce, each refusal a JSON-RPC error that says what to change; and the nonce tracking they use.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

from ledger_node.config import NodeConfig
from ledger_node.engine import Engine
from ledger_node.errors import TRANSACTION_REJECTED, EngineError, RpcError
from ledger_node.txcodec import DecodedTx, intrinsic_gas


def check_envelope(tx: DecodedTx, config: NodeConfig) -> None:
    """What needs no state: the chain id, the intrinsic gas and the block gas limit."""
    if tx.chain_id != config.chain_id:
        raise RpcError(
            TRANSACTION_REJECTED,
            f"wrong chain id {tx.chain_id}: this ledger is chain {config.chain_id}; re-sign for it",
        )
    if tx.gas < intrinsic_gas(tx):
        raise RpcError(
            TRANSACTION_REJECTED,
            f"intrinsic gas too low: gas {tx.gas} does not cover the {intrinsic_gas(tx)} "
            "the transaction costs before it runs",
        )
    if tx.gas > config.gas_limit:
        raise RpcError(
            TRANSACTION_REJECTED,
            f"gas {tx.gas} exceeds the block gas limit {config.gas_limit}",
        )


def not_permitted(tx: DecodedTx) -> RpcError:
    return RpcError(
        TRANSACTION_REJECTED,
        f"account {to_checksum_address(tx.sender)} is not permitted to transact on this ledger "
        "(not an active member or role holder of CityAccess)",
    )


def nonce_refusal(tx: DecodedTx, expected: int) -> RpcError | None:
    """None when `tx` has the sender's next nonce; else why it is refused (replay or gap)."""
    if tx.nonce < expected:
        return RpcError(
            TRANSACTION_REJECTED,
            f"nonce {tx.nonce} too low (replay): the next nonce of this account is {expected}",
        )
    if tx.nonce > expected:
        return RpcError(
            TRANSACTION_REJECTED,
            f"nonce gap: nonce {tx.nonce} given, the next nonce of this account is {expected}",
        )
    return None


class NonceTracker:
    """The nonce the node accepts next per sender, reserved in the same synchronous step as the
    journal write (so it never counts a transaction the journal does not hold, and two batches
    accepted at once never take the same nonce); the engine is asked for senders not tracked
    yet."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._next: dict[bytes, int] = {}

    def reserve(self, sender: bytes, nonce: int) -> None:
        self._next[sender] = nonce + 1

    def release(self, sender: bytes, nonce: int) -> None:
        """The engine refused `nonce`: it is the sender's next again, unless a later nonce of
        theirs was reserved meanwhile (that one is journaled and waits in the engine)."""
        if self._next.get(sender) == nonce + 1:
            self._next[sender] = nonce

    def clear(self) -> None:
        """After the engine was restored: the journal decides the nonces again."""
        self._next.clear()

    def expected(self, sender: bytes) -> int:
        """The sender's next nonce; `fetch` must have run for it."""
        return self._next[sender]

    async def fetch(self, senders: set[bytes]) -> None:
        """Ask the engine (one batch) for the senders not tracked yet. A batch accepted while
        this waits may reserve one of them first: its reservation stands."""
        unknown = [sender for sender in senders if sender not in self._next]
        if not unknown:
            return
        replies = await self.engine.batch(
            [("eth_getTransactionCount", [to_checksum_address(s), "pending"]) for s in unknown]
        )
        for sender, reply in zip(unknown, replies, strict=True):
            result = reply.get("result")
            if not isinstance(result, str):
                raise EngineError(
                    f"engine eth_getTransactionCount failed: {reply.get('error', {}).get('message')}"
                )
            self._next.setdefault(sender, int(result, 16))

    async def pending(self, senders: list[bytes]) -> list[int | None]:
        """eth_getTransactionCount(sender, "pending"); None where the engine could not answer.
        Read-only: only accepting a transaction fills the tracking (a read racing a
        submission must not put back an older count). Untracked senders cost one batch."""
        counts: list[int | None] = [self._next.get(sender) for sender in senders]
        unknown = [i for i, count in enumerate(counts) if count is None]
        if unknown:
            replies = await self.engine.batch(
                [
                    ("eth_getTransactionCount", [to_checksum_address(senders[i]), "pending"])
                    for i in unknown
                ]
            )
            for i, reply in zip(unknown, replies, strict=True):
                result = reply.get("result")
                counts[i] = int(result, 16) if isinstance(result, str) else None
        return counts
