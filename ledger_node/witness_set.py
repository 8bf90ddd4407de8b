"""The witness set as CityAccess holds it (`witnesses()`): the organisations whose co-signatures
the node accepts, read from the engine.

The set changes only with a block, so the node's copy is keyed by the head it was read at: a
witness removed in block h is refused from the moment block h is sealed, without a time-based
cache to wait out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_abi import decode
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from citypass.protocol.witness_names import decode_witness_name
from ledger_node.engine import Engine
from ledger_node.errors import EngineError

WITNESSES_CALL = "0x" + keccak(b"witnesses()")[:4].hex()


@dataclass(frozen=True)
class Witness:
    address: str  # checksummed
    name: str  # its label (citypass/protocol/witness_names.py)

    def to_json(self) -> dict[str, str]:
        return {"witness": self.address, "name": self.name}


async def read_witnesses(engine: Engine, access: str | None) -> list[Witness]:
    """The witness set at the engine's latest block, in CityAccess's order; empty before
    CityAccess is deployed, or when the deployed one has no witness set (a call that reverts)."""
    if access is None:
        return []
    reply = await engine.request("eth_call", [{"to": access, "data": WITNESSES_CALL}, "latest"])
    result = reply.get("result")
    if "error" in reply or not isinstance(result, str) or len(result) < 2 + 128:
        if "error" in reply and "revert" not in str(reply["error"].get("message", "")).lower():
            # Not a revert: the engine itself failed, and "no witnesses" would be a lie.
            raise EngineError(
                f"engine eth_call witnesses() failed: {reply['error'].get('message')}"
            )
        return []
    accounts, names = decode(["address[]", "bytes32[]"], bytes.fromhex(result[2:]))
    return [
        Witness(to_checksum_address(account), decode_witness_name(name))
        for account, name in zip(accounts, names, strict=True)
    ]


class WitnessSet:
    """The node's view of the set, read again whenever the head or the access contract moved."""

    def __init__(
        self, engine: Engine, access: Callable[[], str | None], head: Callable[[], int]
    ) -> None:
        self._engine = engine
        self._access = access
        self._head = head
        self._read_at: tuple[int, str | None] | None = None
        self._members: list[Witness] = []

    async def members(self) -> list[Witness]:
        key = (self._head(), self._access())
        if key != self._read_at:
            self._members = await read_witnesses(self._engine, key[1])
            self._read_at = key
        return self._members

    def cached(self) -> list[Witness]:
        """The set as last read (for /health and ledger_status, which never wait on the engine)."""
        return self._members

    async def member(self, address: str) -> Witness | None:
        return next((w for w in await self.members() if w.address == address), None)
