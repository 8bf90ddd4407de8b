"""The authority key, kept as an encrypted (V3) keystore in the data directory
(citypass/core/keystore.py does the work; the node's variable and hints are here)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from eth_account.signers.local import LocalAccount

from citypass.core import keystore
from ledger_node.config import AUTHORITY_KEYSTORE, KEYSTORE_DIR
from ledger_node.errors import KeystoreError

PASSWORD_ENV = "LEDGER_NODE_PASSWORD"
RESTORE_HINT = "restore it from your backup"

AUTHORITY_KEY = keystore.DaemonKey(
    relative_path=Path(KEYSTORE_DIR) / AUTHORITY_KEYSTORE,
    password_env=PASSWORD_ENV,
    error=KeystoreError,
    name="the authority keystore",
    exists_hint="this data directory already has an authority key",
    missing_hint=RESTORE_HINT,
    damaged_hint=RESTORE_HINT,
)
resolve_password = AUTHORITY_KEY.resolve_password
keystore_path = AUTHORITY_KEY.path
create_authority = AUTHORITY_KEY.create
load_authority = AUTHORITY_KEY.load


def unlock_authority(data_dir: Path, password: str) -> Future[LocalAccount]:
    """load_authority on a thread of its own: the keystore's scrypt takes about a second, which
    a start spends re-executing the journal meanwhile (the key only signs seals, and sealing
    begins after recovery). A missing keystore is still refused at once."""
    if not keystore_path(data_dir).is_file():
        load_authority(data_dir, password)  # raises the one-line "is missing" error
    unlocker = ThreadPoolExecutor(1, thread_name_prefix="keystore")
    try:
        return unlocker.submit(load_authority, data_dir, password)
    finally:
        unlocker.shutdown(wait=False)  # the thread ends with its one task
