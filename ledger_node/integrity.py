"""Journal integrity: the data directory can tell a shortened, replaced or emptied journal.

Beside journal.sqlite the node keeps a head marker (journal.head): the newest sealed block's
number and hash and the permission contract, rewritten atomically (temp file, fsync, rename,
fsync of the directory) after each sealed block is committed. The journal is committed first, so
the marker may lag the journal by a block after a crash, but it is never ahead of an intact one:
a journal that is shorter than the marker, holds another block at the marker's height, or names
another permission contract has been damaged. The snapshots (their file names carry the block
they were taken at) are a second witness of how far the chain had come.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from ledger_node.config import JOURNAL_FILE, SNAPSHOT_DIR, fsync_dir
from ledger_node.engine import Engine
from ledger_node.errors import LedgerNodeError
from ledger_node.journal import Journal
from ledger_node.permission import allowed_call_data

log = logging.getLogger("ledger_node.integrity")
MARKER_FILE = "journal.head"
MARKER_FORMAT = 1
# At most this often (seconds) the marker is rewritten: the most it lags a running journal.
MARKER_INTERVAL_SECONDS = 0.2
ACCESS_META = "access_contract"
# Set in the journal once a marker file exists: from then on a missing marker is damage, not an
# older data directory that never had one.
MARKER_META = "head_marker"
SNAPSHOT_NAME = re.compile(r"^state-(\d{12})\.json$")
RESTORE = "restore the data directory from a backup (ledger-node backup)"


class IntegrityError(LedgerNodeError):
    """The journal does not match what the data directory recorded about it."""


@dataclass(frozen=True)
class HeadMark:
    block: int
    hash: bytes
    access_contract: str | None


class HeadMarker:
    """The writer of one data directory's marker, on a thread of its own.

    Sealing only hands over the newest head; the thread writes it, at most once per
    `interval`, so the two fsyncs of a marker write (about as costly as the journal's own
    commit) never sit on the sealing path, and a burst of blocks costs one write. The marker lags
    by design (by at most `interval` plus one write), which is safe: it only ever understates
    the journal. A clean exit waits for the newest head to be written (atexit)."""

    def __init__(self, data_dir: Path, interval: float = MARKER_INTERVAL_SECONDS) -> None:
        self.path = data_dir / MARKER_FILE
        self.interval = interval
        self._cond = threading.Condition()
        self._pending: HeadMark | None = None
        self._busy = False
        self._flushing = False
        self._failing = False
        self._latest: tuple[int, str | None] | None = None
        self._thread: threading.Thread | None = None

    def record(self, number: int, block_hash: bytes, access_contract: str | None) -> None:
        with self._cond:
            latest = self._latest
            # Monotone: a late caller with an older block must not move the marker back.
            if latest is not None and ((number, access_contract) == latest or number < latest[0]):
                return
            self._pending = HeadMark(number, block_hash, access_contract)
            self._latest = (number, access_contract)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="head-marker", daemon=True)
                self._thread.start()
                atexit.register(self.flush)
            self._cond.notify_all()

    def write_now(self, number: int, block_hash: bytes, access_contract: str | None) -> None:
        """Write at once, on the caller's thread (at start, before the journal notes that it has
        a marker: the note must never exist without the file)."""
        with self._cond:
            write_marker(self.path, HeadMark(number, block_hash, access_contract))
            self._latest = (number, access_contract)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the newest recorded head is on disk; False if it is not within timeout."""
        with self._cond:
            self._flushing = True
            self._cond.notify_all()
            try:
                return self._cond.wait_for(
                    lambda: (self._pending is None or self._failing) and not self._busy,
                    timeout=timeout,
                )
            finally:
                self._flushing = False

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None)
                mark, self._pending, self._busy = self._pending, None, True
            assert mark is not None  # the wait above returns only with a pending mark
            try:
                write_marker(self.path, mark)
                failed = False
            except OSError as exc:
                failed = True
                if not self._failing:
                    log.error("could not update the head marker %s: %s", self.path, exc)
            with self._cond:
                self._busy = False
                if failed and self._pending is None:
                    self._pending = mark  # tried again after the interval
                elif self._failing and not failed:
                    log.info("the head marker %s is written again", self.path)
                self._failing = failed
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._flushing, timeout=self.interval)


def write_marker(path: Path, mark: HeadMark) -> None:
    body = json.dumps(
        {
            "format": MARKER_FORMAT,
            "block": mark.block,
            "hash": "0x" + mark.hash.hex(),
            "access_contract": mark.access_contract,
        }
    ).encode()
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, body + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    fsync_dir(path.parent)


def read_marker(data_dir: Path) -> HeadMark | None:
    path = data_dir / MARKER_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"the head marker {path} is unreadable ({exc}); {RESTORE}") from exc
    try:
        if raw["format"] != MARKER_FORMAT:
            raise ValueError(f"format {raw['format']!r}")
        block = int(raw["block"])
        block_hash = bytes.fromhex(str(raw["hash"]).removeprefix("0x"))
        access = raw["access_contract"]
        if block < 0 or len(block_hash) != 32 or not (access is None or isinstance(access, str)):
            raise ValueError("field out of range")
    except (KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(f"the head marker {path} is malformed ({exc}); {RESTORE}") from exc
    return HeadMark(block, block_hash, access)


def snapshot_files(data_dir: Path) -> list[int]:
    """Block numbers of the snapshot files on disk, newest first."""
    directory = data_dir / SNAPSHOT_DIR
    if not directory.is_dir():
        return []
    found = (SNAPSHOT_NAME.match(entry.name) for entry in directory.iterdir())
    return sorted((int(m.group(1)) for m in found if m), reverse=True)


def check_journal_present(data_dir: Path) -> None:
    """Before the journal is opened (opening creates a missing one): a data directory whose
    marker or snapshots say the node has run must still have its journal."""
    if (data_dir / JOURNAL_FILE).exists():
        return
    mark = read_marker(data_dir)
    if mark is not None:
        raise IntegrityError(
            f"the journal is missing: {data_dir / JOURNAL_FILE} does not exist, but the head "
            f"marker records block {mark.block} (the node has run here); {RESTORE}"
        )
    snapshots = snapshot_files(data_dir)
    if snapshots:
        raise IntegrityError(
            f"the journal is missing: {data_dir / JOURNAL_FILE} does not exist, but a snapshot "
            f"of block {snapshots[0]} does; {RESTORE}"
        )


@dataclass(frozen=True)
class JournalCheck:
    mark: HeadMark | None
    # The marker could not vouch for the journal's permission contract (an older data
    # directory, or a crash between recording the contract and the next marker): the chain must.
    access_unconfirmed: bool


def check_journal(data_dir: Path, journal: Journal) -> JournalCheck:
    """Compare the journal with the head marker and the snapshots; raises IntegrityError naming
    what is wrong.

    The marker and the snapshot files are read before the journal: a running node commits a
    block to the journal before it writes either, so this order never sees them ahead of an
    intact journal."""
    mark = read_marker(data_dir)
    files = snapshot_files(data_dir)
    head = journal.head()
    head_number = head.number if head else 0
    for number in files[:1] + [s.block for s in journal.snapshots()[:1]]:
        if number > head_number:
            raise IntegrityError(
                f"the journal was shortened: it ends at block {head_number}, but a snapshot was "
                f"taken at block {number}; {RESTORE}"
            )
    access = journal.get_meta(ACCESS_META)
    if mark is None:
        if journal.get_meta(MARKER_META) is not None:
            raise IntegrityError(
                f"the head marker {data_dir / MARKER_FILE} is missing, so the journal cannot be "
                f"checked for truncation; {RESTORE}"
            )
        return JournalCheck(None, access is not None)
    if head is None and mark.block > 0:
        raise IntegrityError(
            f"the journal is empty (deleted or replaced), but the head marker records block "
            f"{mark.block}; {RESTORE}"
        )
    if head_number < mark.block:
        raise IntegrityError(
            f"the journal was shortened: it ends at block {head_number}, but the head marker "
            f"records block {mark.block} ({mark.block - head_number} sealed blocks are gone); "
            f"{RESTORE}"
        )
    recorded = journal.block(mark.block) if mark.block else None
    if mark.block and (recorded is None or recorded.hash != mark.hash):
        found = f"0x{recorded.hash.hex()}" if recorded else "nothing"
        raise IntegrityError(
            f"the journal was replaced: its block {mark.block} is {found}, but the head marker "
            f"records 0x{mark.hash.hex()}; {RESTORE}"
        )
    if mark.access_contract is not None and access != mark.access_contract:
        raise IntegrityError(
            f"the journal's access_contract was altered: it names {access or 'none'}, but the "
            f"head marker records {mark.access_contract}; {RESTORE}"
        )
    return JournalCheck(mark, mark.access_contract is None and access is not None)


def mark_journal(journal: Journal) -> None:
    """Note in the journal that it has a marker (once, after the marker file is written)."""
    if journal.get_meta(MARKER_META) is None:
        journal.set_meta(MARKER_META, MARKER_FILE)


# ------------------------------------------------------------- the permission contract on chain


def created_address(sender: bytes, nonce: int) -> str:
    import rlp

    return to_checksum_address(keccak(rlp.encode([sender, nonce]))[12:])


async def answers_transaction_allowed(engine: Engine, authority: str, address: str) -> bool:
    data = allowed_call_data(bytes.fromhex(authority[2:]), None, 0, 0, 0, b"")
    reply = (await engine.batch([("eth_call", [{"to": address, "data": data}, "latest"])]))[0]
    result = reply.get("result")
    return isinstance(result, str) and len(result) == 66 and int(result, 16) == 1


async def access_contract_in_block(
    engine: Engine, authority: str, tx_hashes: tuple[bytes, ...]
) -> str | None:
    """The node's discovery rule, applied to one block on an engine standing at that block: the
    first contract the authority deployed in it that answers transactionAllowed(authority)."""
    if not tx_hashes:
        return None
    replies = await engine.batch(
        [("eth_getTransactionReceipt", ["0x" + h.hex()]) for h in tx_hashes]
    )
    for reply in replies:
        receipt: dict[str, Any] = reply.get("result") or {}
        created = receipt.get("contractAddress")
        if not created or to_checksum_address(receipt["from"]) != authority:
            continue
        if await answers_transaction_allowed(engine, authority, created):
            return to_checksum_address(created)
    return None


async def access_contract_at_head(engine: Engine, authority: str) -> str | None:
    """The discovery rule at head state: the authority's first deployment (in nonce order) that
    answers transactionAllowed(authority)."""
    sender = bytes.fromhex(authority[2:])
    nonce = int(await engine.call("eth_getTransactionCount", [authority, "latest"]), 16)
    for start in range(0, nonce, 500):
        addresses = [created_address(sender, n) for n in range(start, min(nonce, start + 500))]
        codes = await engine.batch([("eth_getCode", [a, "latest"]) for a in addresses])
        for address, code in zip(addresses, codes, strict=True):
            if code.get("result", "0x") not in ("0x", None) and await answers_transaction_allowed(
                engine, authority, address
            ):
                return address
    return None


async def confirm_access_on_chain(engine: Engine, authority: str, recorded: str | None) -> None:
    found = await access_contract_at_head(engine, authority)
    if found != recorded:
        raise IntegrityError(
            f"the journal's access_contract was altered: it names {recorded or 'none'}, but the "
            f"chain's permission contract (the authority's first deployment that answers "
            f"transactionAllowed) is {found or 'none'}; {RESTORE}"
        )
