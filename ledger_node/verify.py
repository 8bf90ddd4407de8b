"""`ledger-node verify`: an auditor re-executes the whole journal on a scratch engine and checks
every block hash, every parent link and every authority seal, the journal's hash chain, the
journal against the data directory's head marker and snapshots, the recorded permission contract
against the chain, and (--checkpoint) the replay against checkpoints witnesses co-signed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger_node.config import load_config
from ledger_node.errors import VerificationError
from ledger_node.integrity import ACCESS_META, IntegrityError
from ledger_node.journal_chain import check_chain
from ledger_node.journal_replay import replayed_journal
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
    # Files first: a malformed one, or a forged co-signature, is refused before the replay.
    witnessed = CheckpointCheck([load_claim(path, config.chain_id) for path in checkpoints])
    async with replayed_journal(data_dir, progress=progress, observe=witnessed.observe) as replayed:
        config, journal, check = replayed.config, replayed.journal, replayed.check
        assert journal is not None  # replayed_journal requires one when no block is named
        try:
            chain = check_chain(journal, replayed.genesis_hash, fill=False)
        except IntegrityError as exc:
            raise VerificationError(str(exc)) from exc
        report = VerifyReport(
            authority=config.authority,
            chain_id=config.chain_id,
            blocks=replayed.number,
            transactions=replayed.transactions,
        )
        report.lines.append(
            f"genesis 0x{replayed.genesis_hash.hex()} (chain {config.chain_id}, authority "
            f"{config.authority})"
        )
        access = replayed.access
        recorded = journal.get_meta(ACCESS_META)
        if recorded != access:
            raise VerificationError(
                f"the journal's access_contract was altered: it names {recorded or 'none'}, but "
                f"re-execution finds {access or 'none'} (the authority's first deployment that "
                "answers transactionAllowed); restore the data directory from a backup "
                "(ledger-node backup)"
            )
        report.head_hash = "0x" + replayed.block_hash.hex()
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
            f"hash chain: journal hash 0x{replayed.journal_hash.hex()} at block {report.blocks}; every stored "
            f"link reproduced{unlinked if chain.missing else ''}"
        )
        report.lines.extend(witnessed.finish(report.blocks))
        report.lines.append(f"head {report.head_hash}")
    return report
