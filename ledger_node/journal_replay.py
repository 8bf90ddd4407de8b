"""Re-executing a data directory's journal, block by block, on a scratch engine.

`ledger-node verify` replays the whole journal; `ledger-node export-besu --block N` replays it up
to block N and then reads the state. Both check on the way what an auditor checks: every block
is there in order, links to its parent, carries the authority's seal and is reproduced by
re-execution; and both follow the journal's hash chain (citypass.protocol.checkpoints).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from citypass.protocol.checkpoints import genesis_link, journal_link
from citypass.protocol.seals import seal_signer
from ledger_node.config import GENESIS_FILE, JOURNAL_FILE, NodeConfig, load_config, load_genesis
from ledger_node.engine import Engine
from ledger_node.errors import ConfigError, LedgerNodeError, VerificationError
from ledger_node.integrity import (
    IntegrityError,
    JournalCheck,
    access_contract_in_block,
    check_journal,
    check_journal_present,
)
from ledger_node.journal import Journal
from ledger_node.replay import ReplayMismatch, replay_block

# Called with the engine, the permission contract found so far, the block number, the engine's
# block and the journal hash at it, for the genesis and after every replayed block (verify's
# --checkpoint compares them with co-signed checkpoints while the engine is at that block).
BlockObserver = Callable[[Engine, str | None, int, dict, bytes], Awaitable[None]]


class BlockNotHeld(LedgerNodeError):
    """The block asked for is not in the journal (beyond its head, or gone from it)."""


@dataclass
class ReplayedJournal:
    """A scratch engine holding the chain as of `number`, and what the replay established."""

    config: NodeConfig
    journal: Journal | None  # None: the data directory has sealed nothing yet
    engine: Engine
    check: JournalCheck
    genesis_hash: bytes
    number: int = 0  # the last block replayed (0: only the genesis)
    block_hash: bytes = b""  # its hash
    journal_hash: bytes = b""  # the journal's hash chain up to it
    transactions: int = 0
    # The permission contract that re-execution finds (the authority's first deployment that
    # answers transactionAllowed), or None if there is none up to `number`.
    access: str | None = None


def journal_head(data_dir: Path, *, required: bool) -> int:
    """The journal's last block number (0 for a data directory that has sealed nothing);
    ConfigError when `required` and there is no journal at all."""
    path = data_dir / JOURNAL_FILE
    try:
        check_journal_present(data_dir)
    except IntegrityError as exc:
        raise VerificationError(str(exc)) from exc
    if not path.exists():
        if required:
            raise ConfigError(f"{path} is missing: there is nothing to verify")
        return 0
    journal = Journal(path, readonly=True)
    try:
        head = journal.head()
        return head.number if head else 0
    finally:
        journal.close()


@contextlib.asynccontextmanager
async def replayed_journal(
    data_dir: Path,
    upto: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    require_journal: bool = True,
    observe: BlockObserver | None = None,
) -> AsyncIterator[ReplayedJournal]:
    """Replay blocks 1..`upto` (default: the journal's head) of DATA_DIR's journal on a scratch
    engine, checking every link, seal and hash; yields the engine stopped at that block.

    Raises BlockNotHeld when `upto` is not in the journal, VerificationError on the first block
    that does not check out. `progress(done, total)` follows the replay. Without
    `require_journal`, a data directory that has sealed nothing (no journal) is its genesis."""
    config = load_config(data_dir)
    load_genesis(data_dir)
    head = journal_head(data_dir, required=require_journal)
    journal_path = data_dir / JOURNAL_FILE
    if upto is not None and upto > head:
        raise BlockNotHeld(f"the journal holds no block {upto}: its head is block {head}")
    # A data directory that has sealed nothing has no journal yet: opening it read-only would
    # fail, and the chain is its genesis.
    journal = Journal(journal_path, readonly=True) if journal_path.exists() else None
    if upto is not None and upto > 0 and journal is not None and journal.block(upto) is None:
        journal.close()
        raise BlockNotHeld(f"the journal no longer holds block {upto} (its head is block {head})")
    engine = Engine(data_dir / GENESIS_FILE, gas_limit=config.gas_limit, chain_id=config.chain_id)
    try:
        check = _check(data_dir, journal)
        await engine.start()
        genesis = await engine.block(0)
        genesis_hash = bytes.fromhex(genesis["hash"][2:])
        state = ReplayedJournal(
            config=config,
            journal=journal,
            engine=engine,
            check=check,
            genesis_hash=genesis_hash,
            block_hash=genesis_hash,
            journal_hash=genesis_link(genesis_hash),
        )
        if observe is not None:
            await observe(engine, None, 0, genesis, state.journal_hash)
        if journal is not None:
            await _replay(state, journal, head if upto is None else upto, progress, observe)
        yield state
    finally:
        await engine.stop()
        if journal is not None:
            journal.close()


def _check(data_dir: Path, journal: Journal | None) -> JournalCheck:
    if journal is None:
        return JournalCheck(None, False)
    try:
        return check_journal(data_dir, journal)
    except IntegrityError as exc:
        raise VerificationError(str(exc)) from exc


async def _replay(
    state: ReplayedJournal,
    journal: Journal,
    upto: int,
    progress: Callable[[int, int], None] | None,
    observe: BlockObserver | None,
) -> None:
    config = state.config
    for block in journal.blocks_after(0):
        if block.number > upto:
            break
        expected = state.number + 1
        if block.number != expected:
            raise BlockNotHeld(
                f"block {expected} is missing from the journal (next is {block.number})"
            )
        if block.parent_hash != state.block_hash:
            raise VerificationError(
                f"block {block.number}: parent link broken (records 0x{block.parent_hash.hex()}, "
                f"previous block is 0x{state.block_hash.hex()})"
            )
        signer = seal_signer(
            block.seal, config.chain_id, block.number, block.hash, block.parent_hash
        )
        if signer != config.authority:
            raise VerificationError(
                f"block {block.number}: seal is not the authority's (signed by "
                f"{signer or 'nobody: invalid signature'}, expected {config.authority})"
            )
        try:
            replayed = await replay_block(state.engine, journal, block)
        except ReplayMismatch as exc:
            raise VerificationError(str(exc)) from exc
        if state.access is None:
            state.access = await access_contract_in_block(
                state.engine, config.authority, block.tx_hashes
            )
        state.journal_hash = journal_link(state.journal_hash, block.number, block.hash, block.seal)
        state.number = block.number
        state.block_hash = block.hash
        state.transactions += len(block.tx_hashes)
        if observe is not None:
            await observe(state.engine, state.access, block.number, replayed, state.journal_hash)
        if progress is not None:
            progress(block.number, upto)
