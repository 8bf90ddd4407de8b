"""The ORACLE submitter's and co-signers' keys, kept as encrypted (V3) keystores
(citypass/core/keystore.py does the work; the oracle's hints are here)."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount

from citypass.core import keystore
from oracles.errors import KeystoreError


def resolve_password(password_file: Path | None, password_env: str) -> str:
    """From the password file if given, else the named environment variable. Never echoed."""
    return keystore.resolve_secret(password_file, password_env, error=KeystoreError)


def create_keystore(path: Path, password: str, private_key: bytes | None = None) -> LocalAccount:
    """Write a new (or the given) key encrypted under `password`; refuses to overwrite."""
    return keystore.create_keystore(
        path, password, error=KeystoreError, private_key=private_key,
        exists_hint="choose another path or remove it",
    )  # fmt: skip


def load_keystore(path: Path, password: str) -> LocalAccount:
    return keystore.load_keystore(
        path, password, error=KeystoreError, missing_hint="create it with `citypass-oracle init`"
    )
