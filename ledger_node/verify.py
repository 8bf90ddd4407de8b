"""`ledger-node verify`: an auditor re-executes the whole journal on a scratch engine and checks
every block hash, every parent link and every authority seal, the journal against the data
directory's head marker and snapshots, and the recorded permission contract against the chain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger_node.errors import VerificationError
from ledger_node.integrity import ACCESS_META
from ledger_node.journal_replay import replayed_journal


@dataclass
class VerifyReport:
    blocks: int = 0
    transactions: int = 0
    authority: str = ""
    chain_id: int = 0
    head_hash: str = ""
    lines: list[str] = field(default_factory=list)


async def verify_data_dir(
    data_dir: Path, progress: Callable[[int, int], None] | None = None
) -> VerifyReport:
    async with replayed_journal(data_dir, progress=progress) as replayed:
        config, journal, check = replayed.config, replayed.journal, replayed.check
        assert journal is not None  # replayed_journal requires one when no block is named
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
        report.lines.append(f"head {report.head_hash}")
    return report
