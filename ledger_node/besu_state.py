"""The chain's state at the export block, read and proven for the Besu genesis.

The journal is replayed up to block N on a scratch engine (ledger_node.journal_replay, as
`verify` does), so every block up to N is checked (links, seals, hashes reproduced) before its
state is trusted. Then anvil_dumpState gives every account the engine holds (code, storage,
balance, nonce) as of N: the engine mines nothing past N, and the dump says which block it is.

The dump is proven complete and exact by recomputing the state root from it (ledger_node.
state_trie): it must equal block N's stateRoot, which is in the block header whose hash the
replay reproduced and the authority sealed. The alloc written to genesis.json leaves zero-valued
slots out, as Ethereum's state does; its own root (the Besu genesis block's stateRoot) is
recomputed from the alloc as written.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from citypass.protocol.checkpoints import Checkpoint
from ledger_node.config import load_genesis
from ledger_node.engine import Engine
from ledger_node.errors import BesuExportError
from ledger_node.journal_replay import replayed_journal
from ledger_node.state_trie import (
    AccountState,
    StateFormatError,
    accounts_from_alloc,
    state_root,
    without_zero_slots,
)

# progress(label, done, total): one bar per phase (the CLI draws them on stderr).
Progress = Callable[[str, int, int], None]
REPLAY_LABEL = "Replaying the journal"
TRIE_LABEL = "Recomputing the state root"


@dataclass(frozen=True)
class ChainState:
    """The ledger at block `number`, and the roots that prove the exported alloc is its state."""

    chain_id: int
    number: int
    block_hash: bytes
    timestamp: int
    # Block N's stateRoot, as the engine (and the node) report it; for block 0, whose header
    # anvil gives the empty root, the dump's root once checked against genesis.json.
    state_root: bytes
    recomputed_root: bytes  # from the dumped accounts: equal to state_root, or the export stops
    genesis_root: bytes  # from the alloc as written: the Besu genesis block's stateRoot
    journal_hash: bytes  # the journal's hash chain over blocks 1..N
    alloc: dict[str, dict[str, Any]]
    zero_slots: int  # zero-valued slots the engine still holds, left out of the alloc

    @property
    def checkpoint(self) -> Checkpoint:
        """Block N as a ledger checkpoint (citypass.protocol.checkpoints): witnesses'
        co-signatures of it vouch for the history the Besu chain continues."""
        return Checkpoint(
            self.chain_id, self.number, self.block_hash, self.state_root, self.journal_hash
        )

    def migration_record(self, exported_at: datetime) -> dict[str, Any]:
        """migration.json: where the Besu chain comes from (docs/besu-migration.md)."""
        return {
            "chainId": self.chain_id,
            "exportBlock": self.number,
            "blockHash": "0x" + self.block_hash.hex(),
            "stateRoot": "0x" + self.state_root.hex(),
            "journalHash": "0x" + self.journal_hash.hex(),
            "genesisStateRoot": "0x" + self.genesis_root.hex(),
            "zeroSlotsOmitted": self.zero_slots,
            "accounts": len(self.alloc),
            "blockTimestamp": self.timestamp,
            "exportedAt": exported_at.astimezone(UTC).isoformat(timespec="seconds"),
            "checkpoint": self.checkpoint.to_json(),
        }


async def read_chain_state(
    data_dir: Path, block: int | None, progress: Progress | None = None
) -> ChainState:
    """Replay DATA_DIR's journal to `block` (default: its head) and read the state there."""

    def replay_progress(done: int, total: int) -> None:
        if progress is not None:
            progress(REPLAY_LABEL, done, total)

    async with replayed_journal(
        data_dir, block, replay_progress, require_journal=False
    ) as replayed:
        header = await replayed.engine.block(replayed.number)
        if header["hash"] != "0x" + replayed.block_hash.hex():
            raise BesuExportError(
                f"the engine's block {replayed.number} is {header['hash']}, not the journal's "
                f"0x{replayed.block_hash.hex()}"
            )
        accounts = await _dump_accounts(replayed.engine, replayed.number)
        chain_id = replayed.config.chain_id
        journal_hash = replayed.journal_hash
    total = 2 * len(accounts)

    def trie_progress(offset: int) -> Callable[[int], None]:
        return lambda done: progress(TRIE_LABEL, offset + done, total) if progress else None

    recomputed = state_root(accounts, keep_zero_slots=True, progress=trie_progress(0))
    if replayed.number == 0:
        # anvil gives the genesis header it builds from genesis.json the empty trie's root, not
        # its state's: block 0's state is checked against genesis.json's alloc instead.
        _check_genesis_accounts(data_dir, accounts)
        stated = recomputed
    else:
        stated = bytes.fromhex(header["stateRoot"][2:])
    if recomputed != stated:
        raise BesuExportError(
            f"the state read at block {replayed.number} does not reproduce its state root: "
            f"recomputed 0x{recomputed.hex()}, block {replayed.number} has 0x{stated.hex()}; "
            "nothing was written"
        )
    alloc = {"0x" + account.address.hex(): account.alloc_entry() for account in accounts}
    written = accounts_from_alloc(alloc)
    if written != [without_zero_slots(account) for account in accounts]:
        raise BesuExportError(  # a defect of the alloc's encoding, never of the chain
            f"the alloc does not read back as the state of block {replayed.number}; "
            "nothing was written"
        )
    genesis_root = state_root(written, keep_zero_slots=False, progress=trie_progress(len(accounts)))
    return ChainState(
        chain_id=chain_id,
        number=replayed.number,
        block_hash=replayed.block_hash,
        timestamp=int(header["timestamp"], 16),
        state_root=stated,
        recomputed_root=recomputed,
        genesis_root=genesis_root,
        journal_hash=journal_hash,
        alloc=alloc,
        zero_slots=sum(list(a.storage.values()).count(0) for a in accounts),
    )


def _check_genesis_accounts(data_dir: Path, accounts: list[AccountState]) -> None:
    """Every account of the data directory's genesis.json is in the engine's block 0 as written
    (the engine adds its predeployed system contracts beside them)."""
    dumped = {account.address: account for account in accounts}
    try:
        expected = accounts_from_alloc(load_genesis(data_dir)["alloc"])
    except StateFormatError as exc:
        raise BesuExportError(f"{data_dir / 'genesis.json'}: {exc}") from exc
    for account in expected:
        if dumped.get(account.address) != account:
            raise BesuExportError(
                f"the engine's block 0 does not hold genesis.json's account "
                f"0x{account.address.hex()} as written; nothing was written"
            )


async def _dump_accounts(engine: Engine, number: int) -> list[AccountState]:
    """Every account of anvil_dumpState (gzip'd JSON), after checking it is block `number`'s."""
    head = await engine.head_number()
    raw = await engine.dump_state()
    try:
        dump = json.loads(gzip.decompress(bytes.fromhex(raw.removeprefix("0x"))))
        dumped_block = int(dump["best_block_number"])
        accounts = accounts_from_alloc(dump["accounts"])
    except (ValueError, KeyError, TypeError, OSError, StateFormatError) as exc:
        raise BesuExportError(f"the engine's state dump cannot be read: {exc}") from exc
    if head != number or dumped_block != number:
        raise BesuExportError(
            f"the engine's state is at block {dumped_block} (head {head}), not the export "
            f"block {number}"
        )
    return sorted(accounts, key=lambda account: account.address)
