"""The authority key, kept as an encrypted (V3) keystore in the data directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger_node.config import AUTHORITY_KEYSTORE, KEYSTORE_DIR, fsync_dir
from ledger_node.errors import KeystoreError

PASSWORD_ENV = "LEDGER_NODE_PASSWORD"
MIN_PASSWORD_LENGTH = 8


def resolve_password(password_file: Path | None) -> str:
    """The keystore password from --password-file, else $LEDGER_NODE_PASSWORD. Never echoed."""
    if password_file is not None:
        try:
            password = password_file.read_text().rstrip("\r\n")
        except OSError as exc:
            raise KeystoreError(
                f"cannot read the password file {password_file}: {exc.strerror}"
            ) from exc
    else:
        password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        raise KeystoreError(f"no keystore password: set {PASSWORD_ENV} or pass --password-file")
    return password


def keystore_path(data_dir: Path) -> Path:
    return data_dir / KEYSTORE_DIR / AUTHORITY_KEYSTORE


def create_authority(data_dir: Path, password: str) -> LocalAccount:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KeystoreError(
            f"the keystore password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    account = Account.create()
    keystore = Account.encrypt(account.key, password)
    path = keystore_path(data_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keystore, handle)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(path.parent)
    return account


def load_authority(data_dir: Path, password: str) -> LocalAccount:
    path = keystore_path(data_dir)
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise KeystoreError(
            f"the authority keystore {path} is missing; restore it from your backup"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise KeystoreError(
            f"the authority keystore {path} is unreadable ({exc}); restore it from your backup"
        ) from exc
    try:
        key = Account.decrypt(keystore, password)
    except ValueError as exc:
        raise KeystoreError(f"wrong password for the authority keystore {path}") from exc
    return Account.from_key(key)
