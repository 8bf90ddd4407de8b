"""The node's co-signature store (ledger_node/checkpoints.py) on a real journal file: what it
keeps of a witness's history, and that the same co-signature twice is stored once."""

from __future__ import annotations

from eth_account import Account

from citypass.protocol.checkpoints import Checkpoint, Cosignature
from ledger_node.checkpoints import HISTORY_SPAN, KEEP_LATEST, CheckpointStore
from ledger_node.journal import Journal


def checkpoint(number: int) -> Checkpoint:
    filler = number.to_bytes(32, "big")
    return Checkpoint(82032, number, filler, filler, filler)


def test_each_witness_keeps_its_latest_and_the_first_of_every_span(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite")
    store = CheckpointStore(journal)
    audit, university = Account.create(), Account.create()
    numbers = list(range(1, 2 * HISTORY_SPAN + KEEP_LATEST * 3, 7))
    for number in numbers:
        # The store keeps what it is given: the node checked the signatures before.
        store.add(checkpoint(number), Cosignature(audit.address, b"\x01" * 65))
    store.add(checkpoint(5), Cosignature(university.address, b"\x02" * 65))
    store.add(checkpoint(5), Cosignature(university.address, b"\x03" * 65))  # again: kept once
    kept = [
        number
        for (number,) in journal.connection().execute(
            "SELECT number FROM cosignatures WHERE witness = ? ORDER BY number", (audit.address,)
        )
    ]
    latest = numbers[-KEEP_LATEST:]
    firsts = sorted({min(n for n in numbers if n // HISTORY_SPAN == span) for span in range(3)})
    assert kept == sorted(set(firsts) | set(latest))
    assert len(kept) < len(numbers)
    assert store.latest()[audit.address].number == numbers[-1]
    assert [s.signature for s in store.at(5)] == [b"\x02" * 65]  # the other witness untouched
    assert store.newest_number() == numbers[-1]
    journal.close()
