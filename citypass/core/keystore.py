"""Encrypted (V3, scrypt) keystores and the secrets that unlock them, for every daemon.

Each daemon passes its own error class (so its CLI prints one `error:` line) and its own hints
(what to run or restore), and keeps its own variable names; the reading, writing and wording
are the same everywhere. A secret is never echoed: no message here includes one."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from citypass.core.files import create_exclusively

MIN_PASSWORD_LENGTH = 8
# What eth-account uses by default (scrypt N = 2**18): about a second of CPU and 256 MiB per
# encryption or decryption, which is the point for a key that guards the ledger.
# CITYPASS_LIGHT_KDF=1 lowers it to N = 2**12, like geth's --lightkdf, for throwaway keys only:
# the test suite (hundreds of keystores made and opened, minutes of CPU) and `make demo`
# (whose password file is written beside its keys). A stolen light keystore falls to password
# guessing 64 times faster. Only new keystores are affected: opening reads the cost from the file.
LIGHT_KDF_ENV = "CITYPASS_LIGHT_KDF"
LIGHT_SCRYPT_N = 2**12
# What eth-account raises when the password does not open the key (the MAC check fails).
_WRONG_PASSWORD = "MAC mismatch"


def resolve_secret(
    file: Path | None,
    env_name: str,
    *,
    error: type[Exception],
    what: str = "keystore password",
    file_option: str = "--password-file",
    min_length: int = 1,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The secret from `file` if given (its trailing newline dropped), else from $env_name.

    Raises `error` naming the variable and the option when it is missing or too short."""
    if file is not None:
        try:
            secret = file.read_text().rstrip("\r\n")
        except OSError as exc:
            # "the password file", "the admin token file": named as the option the user gave.
            given_as = file_option.removeprefix("--").replace("-", " ")
            raise error(f"cannot read the {given_as} {file}: {exc.strerror or exc}") from exc
    else:
        secret = (os.environ if environ is None else environ).get(env_name, "")
    if not secret:
        raise error(f"no {what}: set {env_name} or pass {file_option}")
    if len(secret) < min_length:
        raise error(
            f"the {what} must have at least {min_length} characters: set {env_name} or pass "
            f"{file_option}"
        )
    return secret


def light_kdf(environ: Mapping[str, str] | None = None) -> bool:
    """Whether CITYPASS_LIGHT_KDF=1 asks for the light scrypt cost (see LIGHT_KDF_ENV)."""
    return (os.environ if environ is None else environ).get(LIGHT_KDF_ENV, "") == "1"


def encrypt_key(private_key: bytes, password: str) -> dict[str, Any]:
    """A V3 keystore document for `private_key`: scrypt at eth-account's default cost, or at
    LIGHT_SCRYPT_N when light_kdf()."""
    if light_kdf():
        return Account.encrypt(private_key, password, kdf="scrypt", iterations=LIGHT_SCRYPT_N)
    return Account.encrypt(private_key, password)


def create_keystore(
    path: Path,
    password: str,
    *,
    error: type[Exception],
    exists_hint: str = "remove it or choose another path",
    password_env: str | None = None,
    private_key: bytes | None = None,
) -> LocalAccount:
    """Encrypt a new key (or `private_key`) under `password` into a new 0600 file at `path`.

    Refuses a password shorter than MIN_PASSWORD_LENGTH (naming `password_env` when that is
    the only place it comes from) and an existing file; the file and its directory are fsync'd
    before the account is returned."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise error(
            f"set {password_env} to a password of at least {MIN_PASSWORD_LENGTH} characters"
            if password_env
            else f"the keystore password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    account = Account.from_key(private_key) if private_key else Account.create()
    try:
        create_exclusively(path, json.dumps(encrypt_key(account.key, password)))
    except FileExistsError as exc:
        raise error(f"{path} already exists: {exists_hint}") from exc
    return account


def load_keystore(
    path: Path,
    password: str,
    *,
    error: type[Exception],
    name: str = "the keystore",
    missing_hint: str,
    damaged_hint: str = "",
    password_name: str = "password",
) -> LocalAccount:
    """The account in the keystore at `path`. `name` says whose it is in messages ("the
    authority keystore"); `missing_hint` says how to create or restore it."""
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise error(f"{name} {path} is missing: {missing_hint}") from exc
    except (OSError, ValueError) as exc:
        raise error(
            f"{name} {path} is unreadable ({exc})" + (f"; {damaged_hint}" if damaged_hint else "")
        ) from exc
    return decrypt_keystore(
        keystore, password, f"{name} {path}", error=error, password_name=password_name
    )


def decrypt_keystore(
    keystore: Any,
    password: str,
    where: str,
    *,
    error: type[Exception],
    password_name: str = "password",
) -> LocalAccount:
    """The account in a parsed keystore document; `where` names it in messages."""
    try:
        return Account.from_key(Account.decrypt(keystore, password))
    except ValueError as exc:
        if str(exc) == _WRONG_PASSWORD:
            raise error(f"wrong {password_name} for {where}") from exc
        raise error(f"{where} is not a usable V3 keystore ({exc})") from exc
    except (KeyError, TypeError, AttributeError, NotImplementedError) as exc:
        # A damaged or foreign document: a missing field, a wrong type, another version.
        raise error(f"{where} is not a usable V3 keystore ({type(exc).__name__}: {exc})") from exc


@dataclass(frozen=True)
class DaemonKey:
    """A daemon's own key, at a fixed place in its data directory, with that daemon's password
    variable, error class and hints: the node's authority key, the edge's device key."""

    relative_path: Path
    password_env: str
    error: type[Exception]
    name: str  # "the authority keystore", in messages
    exists_hint: str
    # What to run or restore when the file is missing; `{data_dir}` is filled in.
    missing_hint: str
    damaged_hint: str = ""

    def resolve_password(self, password_file: Path | None) -> str:
        """The keystore password from --password-file, else $password_env. Never echoed."""
        return resolve_secret(password_file, self.password_env, error=self.error)

    def path(self, data_dir: Path) -> Path:
        return data_dir / self.relative_path

    def create(self, data_dir: Path, password: str) -> LocalAccount:
        return create_keystore(
            self.path(data_dir), password, error=self.error, exists_hint=self.exists_hint
        )

    def load(self, data_dir: Path, password: str) -> LocalAccount:
        return load_keystore(
            self.path(data_dir), password, error=self.error, name=self.name,
            missing_hint=self.missing_hint.format(data_dir=data_dir),
            damaged_hint=self.damaged_hint,
        )  # fmt: skip
