"""The authority key, kept as an encrypted (V3) keystore in the data directory
(citypass/core/keystore.py does the work; the node's variable and hints are here)."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount

from citypass.core import keystore
from ledger_node.config import AUTHORITY_KEYSTORE, KEYSTORE_DIR
from ledger_node.errors import KeystoreError

PASSWORD_ENV = "LEDGER_NODE_PASSWORD"
RESTORE_HINT = "restore it from your backup"


def resolve_password(password_file: Path | None) -> str:
    """The keystore password from --password-file, else $LEDGER_NODE_PASSWORD. Never echoed."""
    return keystore.resolve_secret(password_file, PASSWORD_ENV, error=KeystoreError)


def keystore_path(data_dir: Path) -> Path:
    return data_dir / KEYSTORE_DIR / AUTHORITY_KEYSTORE


def create_authority(data_dir: Path, password: str) -> LocalAccount:
    return keystore.create_keystore(
        keystore_path(data_dir), password, error=KeystoreError,
        exists_hint="this data directory already has an authority key",
    )  # fmt: skip


def load_authority(data_dir: Path, password: str) -> LocalAccount:
    return keystore.load_keystore(
        keystore_path(data_dir), password, error=KeystoreError,
        name="the authority keystore", missing_hint=RESTORE_HINT, damaged_hint=RESTORE_HINT,
    )  # fmt: skip
