"""The device key, kept as an encrypted (V3, scrypt) keystore in the edge's data directory
(citypass/core/keystore.py does the work; the edge's variable and hints are here)."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount

from citypass.core import keystore
from edge_oracle.errors import KeystoreError

PASSWORD_ENV = "CITYPASS_EDGE_PASSWORD"
KEYSTORE_FILE = Path("keystore") / "device.json"


def resolve_password(password_file: Path | None) -> str:
    """The keystore password from --password-file, else $CITYPASS_EDGE_PASSWORD. Never echoed."""
    return keystore.resolve_secret(password_file, PASSWORD_ENV, error=KeystoreError)


def keystore_path(data_dir: Path) -> Path:
    return data_dir / KEYSTORE_FILE


def create_device_key(data_dir: Path, password: str) -> LocalAccount:
    return keystore.create_keystore(
        keystore_path(data_dir), password, error=KeystoreError,
        exists_hint="this data directory has a device key",
    )  # fmt: skip


def load_device_key(data_dir: Path, password: str) -> LocalAccount:
    return keystore.load_keystore(
        keystore_path(data_dir), password, error=KeystoreError, name="the device keystore",
        missing_hint=f"run `citypass-edge init --data-dir {data_dir}`",
    )  # fmt: skip


def decrypt(document: dict, password: str, where: str) -> LocalAccount:
    """A key from a devices file entry's keystore; `where` names the entry in messages."""
    return keystore.decrypt_keystore(document, password, where, error=KeystoreError)
