"""`ledger-node verify`: an auditor re-executes the whole journal on a scratch engine and checks
every block hash, every parent link and every authority seal, the journal's hash chain, the
journal against the data directory's head marker and snapshots, the recorded permission contract
against the chain, and (--checkpoint) the replay against checkpoints witnesses co-signed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from citypass.protocol.checkpoints import genesis_link, journal_link
from citypass.protocol.seals import seal_signer
from ledger_node.config import GENESIS_FILE, JOURNAL_FILE, load_config, load_genesis
from ledger_node.engine import Engine
from ledger_node.errors import ConfigError, VerificationError
from ledger_node.integrity import (
    ACCESS_META,
    IntegrityError,
    access_contract_in_block,
    check_journal,
    check_journal_present,
)
from ledger_node.journal import Journal
from ledger_node.journal_chain import check_chain
from ledger_node.replay import ReplayMismatch, replay_block
from ledger_node.verify_checkpoints import CheckpointCheck, load_claim


@dataclass
class VerifyReport:
    blocks: int = 0
    transactions: int = 0
    authority: str = ""
    chain_id: int = 0
    head_hash: str = ""
    lines: list[str] = field(default_factory=list)


async def verify_data_dir(
    data_dir: Path,
    progress: Callable[[int, int], None] | None = None,
    checkpoints: tuple[Path, ...] = (),
) -> VerifyReport:
    config = load_config(data_dir)
    load_genesis(data_dir)
    # Files first: a malformed one, or a forged co-signature, is refused before the replay.
    witnessed = CheckpointCheck([load_claim(path, config.chain_id) for path in checkpoints])
    journal_path = data_dir / JOURNAL_FILE
    try:
        check_journal_present(data_dir)
    except IntegrityError as exc:
        raise VerificationError(str(exc)) from exc
    if not journal_path.exists():
        raise ConfigError(f"{journal_path} is missing: there is nothing to verify")
    journal = Journal(journal_path, readonly=True)
    try:
        check = check_journal(data_dir, journal)
    except IntegrityError as exc:
        journal.close()
        raise VerificationError(str(exc)) from exc
    engine = Engine(data_dir / GENESIS_FILE, gas_limit=config.gas_limit, chain_id=config.chain_id)
    report = VerifyReport(authority=config.authority, chain_id=config.chain_id)
    await engine.start()
    try:
        genesis = await engine.block(0)
        parent = bytes.fromhex(genesis["hash"][2:])
        report.lines.append(
            f"genesis {genesis['hash']} (chain {config.chain_id}, authority {config.authority})"
        )
        try:
            chain = check_chain(journal, parent, fill=False)
        except IntegrityError as exc:
            raise VerificationError(str(exc)) from exc
        link = genesis_link(parent)
        await witnessed.observe(engine, None, 0, genesis, link)
        total = journal.block_count_after(0)
        expected_number = 1
        access: str | None = None
        for block in journal.blocks_after(0):
            if block.number != expected_number:
                raise VerificationError(
                    f"block {expected_number} is missing from the journal (next is {block.number})"
                )
            if block.parent_hash != parent:
                raise VerificationError(
                    f"block {block.number}: parent link broken (records 0x{block.parent_hash.hex()}, previous block is 0x{parent.hex()})"
                )
            signer = seal_signer(
                block.seal, config.chain_id, block.number, block.hash, block.parent_hash
            )
            if signer != config.authority:
                raise VerificationError(
                    f"block {block.number}: seal is not the authority's (signed by {signer or 'nobody: invalid signature'},"
                    f" expected {config.authority})"
                )
            try:
                replayed = await replay_block(engine, journal, block)
            except ReplayMismatch as exc:
                raise VerificationError(str(exc)) from exc
            if access is None:
                access = await access_contract_in_block(engine, config.authority, block.tx_hashes)
            link = journal_link(link, block.number, block.hash, block.seal)
            await witnessed.observe(engine, access, block.number, replayed, link)
            parent = block.hash
            report.blocks += 1
            report.transactions += len(block.tx_hashes)
            expected_number += 1
            if progress is not None:
                progress(report.blocks, total)
        recorded = journal.get_meta(ACCESS_META)
        if recorded != access:
            raise VerificationError(
                f"the journal's access_contract was altered: it names {recorded or 'none'}, but "
                f"re-execution finds {access or 'none'} (the authority's first deployment that "
                "answers transactionAllowed); restore the data directory from a backup "
                "(ledger-node backup)"
            )
        report.head_hash = "0x" + parent.hex()
        if check.mark is None:
            report.lines.append(
                "journal.head: no head marker (a data directory from before markers)"
            )
        else:
            report.lines.append(
                f"journal.head: the marker's block {check.mark.block} 0x{check.mark.hash.hex()} "
                f"is in the journal; permission contract {access or 'none'}"
            )
        report.lines.append(
            f"verified {report.blocks} blocks and {report.transactions} transactions: every hash reproduced by "
            f"re-execution, every parent link intact, every seal signed by {config.authority}"
        )
        unlinked = f" ({chain.missing} not stored yet: the node links them when it next starts)"
        report.lines.append(
            f"hash chain: journal hash 0x{link.hex()} at block {report.blocks}; every stored "
            f"link reproduced{unlinked if chain.missing else ''}"
        )
        report.lines.extend(witnessed.finish(report.blocks))
        report.lines.append(f"head {report.head_hash}")
    finally:
        await engine.stop()
        journal.close()
    return report
