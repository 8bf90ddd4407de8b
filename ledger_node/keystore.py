"""The authority key, kept as an encrypted (V3) keystore in the data directory
(citypass/core/keystore.py does the work; the node's variable and hints are here)."""

from __future__ import annotations

from pathlib import Path

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
