"""The ORACLE submitter's and co-signers' keys, kept as encrypted (V3) keystores."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from oracles.errors import KeystoreError

MIN_PASSWORD_LENGTH = 8


def resolve_password(password_file: Path | None, password_env: str) -> str:
    """From the password file if given, else the named environment variable. Never echoed."""
    if password_file is not None:
        try:
            password = password_file.read_text().rstrip("\r\n")
        except OSError as exc:
            raise KeystoreError(f"cannot read the password file {password_file}: {exc}") from exc
    else:
        password = os.environ.get(password_env, "")
    if not password:
        raise KeystoreError(f"no keystore password: set {password_env} or pass --password-file")
    return password


def create_keystore(path: Path, password: str, private_key: bytes | None = None) -> LocalAccount:
    """Write a new (or the given) key encrypted under `password`; refuses to overwrite."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KeystoreError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    account = Account.from_key(private_key) if private_key else Account.create()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeystoreError(f"{path} already exists; choose another path or remove it") from exc
    with os.fdopen(fd, "w") as handle:
        json.dump(Account.encrypt(account.key, password), handle)
        handle.flush()
        os.fsync(handle.fileno())
    return account


def load_keystore(path: Path, password: str) -> LocalAccount:
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise KeystoreError(
            f"keystore {path} is missing: create it with `citypass-oracle init`"
        ) from exc
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"keystore {path} is unreadable ({exc})") from exc
    try:
        return Account.from_key(Account.decrypt(keystore, password))
    except ValueError as exc:
        raise KeystoreError(f"wrong password for keystore {path}") from exc
