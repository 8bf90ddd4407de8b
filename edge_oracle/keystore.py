"""The device key, kept as an encrypted (V3, scrypt) keystore in the edge's data directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from edge_oracle.errors import KeystoreError

PASSWORD_ENV = "CITYPASS_EDGE_PASSWORD"
MIN_PASSWORD_LENGTH = 8
KEYSTORE_FILE = Path("keystore") / "device.json"


def resolve_password(password_file: Path | None) -> str:
    """The keystore password from --password-file, else $CITYPASS_EDGE_PASSWORD. Never echoed."""
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
    return data_dir / KEYSTORE_FILE


def create_device_key(data_dir: Path, password: str) -> LocalAccount:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KeystoreError(
            f"the keystore password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    path = keystore_path(data_dir)
    if path.exists():
        raise KeystoreError(f"{path} already exists: this data directory has a device key")
    account = Account.create()
    write_private_file(path, json.dumps(Account.encrypt(account.key, password)))
    return account


def load_device_key(data_dir: Path, password: str) -> LocalAccount:
    path = keystore_path(data_dir)
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise KeystoreError(
            f"no device keystore at {path}: run `citypass-edge init --data-dir {data_dir}`"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise KeystoreError(f"the device keystore {path} is unreadable ({exc})") from exc
    return decrypt(keystore, password, str(path))


def decrypt(keystore: dict, password: str, where: str) -> LocalAccount:
    try:
        return Account.from_key(Account.decrypt(keystore, password))
    except (ValueError, KeyError, TypeError) as exc:
        raise KeystoreError(f"wrong password (or a damaged keystore) for {where}") from exc


def write_private_file(path: Path, text: str) -> None:
    """Create a 0600 file durably (fsync file and directory); refuses to overwrite."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
