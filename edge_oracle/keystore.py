"""The device key, kept as an encrypted (V3, scrypt) keystore in the edge's data directory
(citypass/core/keystore.py does the work; the edge's variable and hints are here)."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount

from citypass.core import keystore
from edge_oracle.errors import KeystoreError

PASSWORD_ENV = "CITYPASS_EDGE_PASSWORD"
KEYSTORE_FILE = Path("keystore") / "device.json"

DEVICE_KEY = keystore.DaemonKey(
    relative_path=KEYSTORE_FILE,
    password_env=PASSWORD_ENV,
    error=KeystoreError,
    name="the device keystore",
    exists_hint="this data directory has a device key",
    missing_hint="run `citypass-edge init --data-dir {data_dir}`",
)
resolve_password = DEVICE_KEY.resolve_password
keystore_path = DEVICE_KEY.path
create_device_key = DEVICE_KEY.create
load_device_key = DEVICE_KEY.load


def decrypt(document: dict, password: str, where: str) -> LocalAccount:
    """A key from a devices file entry's keystore; `where` names the entry in messages."""
    return keystore.decrypt_keystore(document, password, where, error=KeystoreError)
