"""The relayer's key as an encrypted (V3) keystore under the git-ignored data dir. The password
comes from CITYPASS_API_PASSWORD and is never logged or echoed (citypass/core/keystore.py does
the work; the API's hints are here)."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount

from api.errors import RelayerKeyError
from api.settings import PASSWORD_ENV
from citypass.core import keystore


def create_keystore(path: Path, password: str) -> LocalAccount:
    """A new random relayer key, encrypted under `password`; refuses to overwrite."""
    return keystore.create_keystore(
        path, password, error=RelayerKeyError, password_env=PASSWORD_ENV,
        exists_hint="remove it or use another --data-dir",
    )  # fmt: skip


def load_keystore(path: Path, password: str) -> LocalAccount:
    if not password:
        raise RelayerKeyError(f"no relayer keystore password: set {PASSWORD_ENV}")
    return keystore.load_keystore(
        path, password, error=RelayerKeyError, name="the relayer keystore",
        missing_hint="create it with `citypass-api init-relayer`", password_name=PASSWORD_ENV,
    )  # fmt: skip
