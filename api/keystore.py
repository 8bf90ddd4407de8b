"""The relayer's key as an encrypted (V3) keystore under the git-ignored data dir. The password
comes from CITYPASS_API_PASSWORD and is never logged or echoed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from api.errors import RelayerKeyError
from api.settings import PASSWORD_ENV

MIN_PASSWORD_LENGTH = 8


def create_keystore(path: Path, password: str) -> LocalAccount:
    """A new random relayer key, encrypted under `password`; refuses to overwrite."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RelayerKeyError(
            f"set {PASSWORD_ENV} to a password of at least {MIN_PASSWORD_LENGTH} characters"
        )
    account = Account.create()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise RelayerKeyError(
            f"{path} already exists; remove it or use another --data-dir"
        ) from exc
    with os.fdopen(fd, "w") as handle:
        json.dump(Account.encrypt(account.key, password), handle)
        handle.flush()
        os.fsync(handle.fileno())
    return account


def load_keystore(path: Path, password: str) -> LocalAccount:
    if not password:
        raise RelayerKeyError(f"no relayer keystore password: set {PASSWORD_ENV}")
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise RelayerKeyError(
            f"relayer keystore {path} is missing: create it with `citypass-api init-relayer`"
        ) from exc
    except (OSError, ValueError) as exc:
        raise RelayerKeyError(f"relayer keystore {path} is unreadable ({exc})") from exc
    try:
        return Account.from_key(Account.decrypt(keystore, password))
    except ValueError as exc:
        raise RelayerKeyError(f"wrong {PASSWORD_ENV} for the relayer keystore {path}") from exc
