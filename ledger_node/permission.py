"""The permission gateway: every raw transaction's sender is asked of CityAccess.transactionAllowed
(Hyperledger Besu's account-permissioning call) at head state.

Answers are cached per sender and the cache entry is dropped as soon as a block carries a
membership or role event for that account, so the gateway never keeps saying yes after a
suspension has landed in a block. Before CityAccess is deployed only the authority may send.
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode, encode
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from ledger_node.engine import Engine

TRANSACTION_ALLOWED = keccak(b"transactionAllowed(address,address,uint256,uint256,uint256,bytes)")[
    :4
]
# Events after which an account's answer may have changed (topic 0 → index of the account topic).
MEMBERSHIP_EVENTS: dict[bytes, int] = {
    keccak(b"MemberOnboarded(address,address)"): 1,
    keccak(b"MemberSuspended(address,address,bytes32)"): 1,
    keccak(b"MemberReinstated(address,address)"): 1,
    keccak(b"RoleGranted(bytes32,address,address)"): 2,
    keccak(b"RoleRevoked(bytes32,address,address)"): 2,
}


def allowed_call_data(
    sender: bytes, to: bytes | None, value: int, gas_price: int, gas: int, data: bytes
) -> str:
    args = encode(
        ["address", "address", "uint256", "uint256", "uint256", "bytes"],
        [sender, to or b"\x00" * 20, value, gas_price, gas, data],
    )
    return "0x" + (TRANSACTION_ALLOWED + args).hex()


class PermissionGate:
    def __init__(self, engine: Engine, authority: str) -> None:
        self.engine = engine
        self.authority = bytes.fromhex(authority[2:])
        self.access_address: str | None = None
        self._access_lower: str | None = None
        self._cache: dict[bytes, bool] = {}
        self.hits = 0
        self.misses = 0

    def set_access_contract(self, address: str | None) -> None:
        self.access_address = to_checksum_address(address) if address else None
        self._access_lower = self.access_address.lower() if self.access_address else None
        self._cache.clear()

    async def allowed_many(self, txs: list[Any]) -> list[bool]:
        """Whether each decoded transaction's sender may transact (one engine batch for misses)."""
        if self.access_address is None:
            return [tx.sender == self.authority for tx in txs]
        answers: list[bool | None] = []
        misses: dict[bytes, Any] = {}
        for tx in txs:
            cached = self._cache.get(tx.sender)
            if cached is None:
                misses.setdefault(tx.sender, tx)
                self.misses += 1
            else:
                self.hits += 1
            answers.append(cached)
        if misses:
            calls = [
                (
                    "eth_call",
                    [
                        {
                            "to": self.access_address,
                            "data": allowed_call_data(
                                tx.sender, tx.to, tx.value, tx.gas_price, tx.gas, tx.data
                            ),
                        },
                        "latest",
                    ],
                )
                for tx in misses.values()
            ]
            replies = await self.engine.batch(calls)
            for sender, reply in zip(misses, replies, strict=True):
                result = reply.get("result")
                self._cache[sender] = (
                    isinstance(result, str)
                    and len(result) >= 66
                    and decode(["bool"], bytes.fromhex(result[2:]))[0]
                )
        return [
            self._cache[tx.sender] if answer is None else answer
            for tx, answer in zip(txs, answers, strict=True)
        ]

    def invalidate_from_logs(self, logs: list[dict[str, Any]]) -> set[bytes]:
        """Drop cached answers for accounts named in membership/role events; returns them."""
        touched: set[bytes] = set()
        if self.access_address is None:
            return touched
        for log in logs:
            # Cheap tests first: a busy block has thousands of logs, few from CityAccess.
            topics = log.get("topics")
            if not topics or log["address"].lower() != self._access_lower:
                continue
            index = MEMBERSHIP_EVENTS.get(bytes.fromhex(topics[0][2:]))
            if index is None or len(topics) <= index:
                continue
            account = bytes.fromhex(log["topics"][index][2:])[12:]
            self._cache.pop(account, None)
            touched.add(account)
        return touched

    def cached(self, sender: bytes) -> bool | None:
        return self._cache.get(sender)
