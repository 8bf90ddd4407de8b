"""The journal's hash chain (citypass/protocol/checkpoints.py): checked against the blocks it
links, and backfilled for journals recorded before it existed.

journal.py extends the chain in the commit that records each block; here every stored link is
recomputed from the blocks and the genesis hash. A stored link that does not reproduce means a
block, its seal or the link itself was altered after it was recorded: recovery refuses to start
and `ledger-node verify` refuses the journal, naming the block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from citypass.protocol.checkpoints import genesis_link, journal_link
from ledger_node.integrity import RESTORE, IntegrityError
from ledger_node.journal import Journal, JournalBlock

BACKFILL_BATCH = 1000  # links per commit while backfilling: a bounded transaction
BACKFILL_LABEL = "Linking the journal's hash chain"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ChainCheck:
    head: int  # the last block linked
    head_link: bytes  # journalHash(head)
    stored: int  # links that were stored and reproduced (genesis included)
    missing: int  # links that were not stored (backfilled when `fill`)


def check_chain(
    journal: Journal,
    genesis_hash: bytes,
    *,
    fill: bool,
    progress: Progress | None = None,
    diagnose: Callable[[JournalBlock, bytes], None] | None = None,
) -> ChainCheck:
    """Recompute journalHash(n) for every block; raise IntegrityError naming the first stored link
    that differs (or a link past the journal's last block); store the missing ones when `fill`.

    `diagnose(block, parent_hash)` is asked about the block whose link differs before that
    error is raised, so a caller that knows the authority can say what was altered (a forged
    seal, a broken parent link) rather than only that the chain no longer reproduces."""
    # Both in block order, merged as they stream: memory stays flat however long the journal.
    stored = _stored_links(journal)
    pending = next(stored, None)
    link = genesis_link(genesis_hash)
    if pending is not None and pending[0] == 0:
        if pending[1] != link:
            raise IntegrityError(
                f"the journal's hash chain was altered: it starts from 0x{pending[1].hex()}, but "
                f"this chain's genesis block is 0x{link.hex()}; {RESTORE}"
            )
        missing: list[tuple[int, bytes]] = []
        pending = next(stored, None)
    else:
        missing = [(0, link)]
    missing_total = len(missing)
    total = journal.block_count_after(0)
    head, parent = 0, genesis_hash
    for done, block in enumerate(journal.blocks_after(0), start=1):
        link = journal_link(link, block.number, block.hash, block.seal)
        if pending is not None and pending[0] < block.number:
            _not_a_block(pending[0], head)
        if pending is None or pending[0] != block.number:
            missing.append((block.number, link))
            missing_total += 1
        elif pending[1] != link:
            if diagnose is not None:
                diagnose(block, parent)
            raise IntegrityError(
                f"the journal's hash chain does not reproduce at block {block.number}: it stores "
                f"0x{pending[1].hex()}, but the recorded blocks and seals give 0x{link.hex()} (a "
                f"block, its seal or the chain was altered); {RESTORE}"
            )
        else:
            pending = next(stored, None)
        head, parent = block.number, block.hash
        if fill and len(missing) >= BACKFILL_BATCH:
            journal.store_links(missing)
            missing.clear()
            if progress is not None:  # only a journal from before the chain takes this long
                progress(done, total)
    if pending is not None:
        _not_a_block(pending[0], head)
    if fill and missing:
        journal.store_links(missing)
    return ChainCheck(head, link, head + 1 - missing_total, missing_total)


def _stored_links(journal: Journal) -> Iterator[tuple[int, bytes]]:
    """The stored links page by page: each page a fresh query, so backfilling (which writes the
    table) never disturbs an open cursor over it."""
    after = -1
    while page := journal.stored_links(after, BACKFILL_BATCH):
        yield from page
        after = page[-1][0]


def _not_a_block(number: int, head: int) -> None:
    if number > head:
        raise IntegrityError(
            f"the journal was shortened: it ends at block {head}, but its hash chain links "
            f"block {number}; {RESTORE}"
        )
    raise IntegrityError(
        f"the journal's hash chain links block {number}, which the journal does not hold; {RESTORE}"
    )
