"""Ethereum state roots, recomputed with a Merkle-Patricia trie (py-trie, ethereum/py-trie).

The world state is a trie of accounts under keccak(address), each leaf
RLP(nonce, balance, storageRoot, codeHash); an account's storage is a trie of RLP(value) under
keccak(slot). The Yellow Paper leaves zero values out of the storage trie, and so does Besu when
it builds a genesis block. anvil, the ledger's engine, does not: a slot it has ever written
stays in its storage trie when the slot goes back to zero (as an RLP(0) leaf), and its blocks'
stateRoot counts it. So a root is computed under one of two conventions, `keep_zero_slots`:
True reproduces the engine's stateRoot, False is the root a Besu genesis of the same state has.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rlp
from eth_hash.auto import keccak
from eth_utils import to_canonical_address
from trie import HexaryTrie


class StateFormatError(ValueError):
    """An account in a state dump or a genesis alloc is not what it should be."""


@dataclass(frozen=True)
class AccountState:
    address: bytes  # 20 bytes
    nonce: int
    balance: int
    code: bytes
    storage: Mapping[int, int]  # slot -> value, as held (zero values included, if any)

    def alloc_entry(self) -> dict[str, Any]:
        """The account in a genesis alloc (Besu, geth): hex quantities, 32-byte storage words,
        zero-valued slots left out (they are not part of the state)."""
        entry: dict[str, Any] = {"balance": hex(self.balance), "nonce": hex(self.nonce)}
        if self.code:
            entry["code"] = "0x" + self.code.hex()
        storage = {
            _word(slot): _word(value) for slot, value in sorted(self.storage.items()) if value != 0
        }
        if storage:
            entry["storage"] = storage
        return entry


def accounts_from_alloc(alloc: Mapping[str, Any]) -> list[AccountState]:
    """Parse a genesis alloc (or anvil's dump, which has the same fields) into accounts."""
    if not isinstance(alloc, Mapping):
        raise StateFormatError("the alloc is not a JSON object of accounts")
    return [_account(address, entry) for address, entry in alloc.items()]


def state_root(
    accounts: Iterable[AccountState],
    *,
    keep_zero_slots: bool,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The state root of `accounts` (see the module's docstring for `keep_zero_slots`);
    `progress(n)` is called after each account."""
    world = HexaryTrie({})
    with world.squash_changes() as batch:
        for count, account in enumerate(accounts, start=1):
            leaf = [
                account.nonce,
                account.balance,
                storage_root(account.storage, keep_zero_slots=keep_zero_slots),
                keccak(account.code),
            ]
            batch[keccak(account.address)] = rlp.encode(leaf)
            if progress is not None:
                progress(count)
    return bytes(world.root_hash)


def storage_root(storage: Mapping[int, int], *, keep_zero_slots: bool) -> bytes:
    trie = HexaryTrie({})
    with trie.squash_changes() as batch:
        for slot, value in storage.items():
            if value or keep_zero_slots:
                # RLP of the value as a scalar: no leading zeros, zero is the empty string.
                batch[keccak(slot.to_bytes(32, "big"))] = rlp.encode(value)
    return bytes(trie.root_hash)


def without_zero_slots(account: AccountState) -> AccountState:
    """The account as Ethereum's state holds it: a zero-valued slot is no slot."""
    storage = {slot: value for slot, value in account.storage.items() if value}
    return dataclasses.replace(account, storage=storage)


def _account(address: str, entry: Any) -> AccountState:
    try:
        canonical = to_canonical_address(address)
    except (ValueError, TypeError) as exc:
        raise StateFormatError(f"alloc key {address!r} is not an address") from exc
    if not isinstance(entry, Mapping):
        raise StateFormatError(f"account {address}: not a JSON object")
    storage = entry.get("storage") or {}
    if not isinstance(storage, Mapping):
        raise StateFormatError(f"account {address}: storage is not a JSON object")
    return AccountState(
        address=canonical,
        nonce=_quantity(entry.get("nonce", 0), f"account {address}: nonce"),
        balance=_quantity(entry.get("balance", 0), f"account {address}: balance"),
        code=_bytes(entry.get("code") or "0x", f"account {address}: code"),
        storage={
            _quantity(slot, f"account {address}: storage slot"): _quantity(
                value, f"account {address}: storage slot {slot}"
            )
            for slot, value in storage.items()
        },
    )


def _quantity(value: Any, what: str) -> int:
    """A hex string (0x…), or a number (anvil writes nonces as JSON numbers)."""
    if isinstance(value, bool):
        raise StateFormatError(f"{what} is not a number")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            number = int(value, 16) if value.startswith(("0x", "0X")) else int(value)
        except ValueError:
            number = -1
        if 0 <= number < 2**256:
            return number
    raise StateFormatError(f"{what} is not a 256-bit number: {value!r}")


def _bytes(value: Any, what: str) -> bytes:
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise StateFormatError(f"{what} is not a 0x hex string")


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()
