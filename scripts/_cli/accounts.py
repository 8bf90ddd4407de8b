"""Who signs and which address: stakeholder names, development indexes, brownie keystores."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

from .errors import CliError, UsageError

PASSWORD_ENV = "CITYPASS_KEYSTORE_PASSWORD"
# A file holding the password (a secrets mount, the demo's PASSWORD-DEMO-ONLY.txt), read when
# no password variable is set.
PASSWORD_FILE_ENV = "CITYPASS_KEYSTORE_PASSWORD_FILE"
# Where keystore names resolve, instead of brownie's ~/.brownie/accounts (the demo's keys).
KEYSTORE_DIR_ENV = "CITYPASS_KEYSTORE_DIR"

# Development accounts by index: the same order as tests/conftest.py and Stakeholders.
STAKEHOLDERS = {
    "admin": 0,
    "treasury": 1,
    "village-enterprise": 2,
    "city-fund": 3,
    "platform": 4,
    "operator": 5,
    "oracle": 6,
}
_STAKEHOLDER_ALIASES = {"village": "village-enterprise", "city": "city-fund"}


def _stakeholder(spec: str) -> str | None:
    key = spec.strip().lower().replace("_", "-")
    key = _STAKEHOLDER_ALIASES.get(key, key)
    return key if key in STAKEHOLDERS else None


def _dev_accounts() -> Any:
    from brownie import accounts

    return accounts


def resolve_signer(spec: str, *, development: bool) -> Any:
    """A brownie account that can sign: see parsing.add_transaction_options for the forms."""
    spec = spec.strip()
    stakeholder = _stakeholder(spec)
    if development and not spec.endswith(".json"):
        accounts = _dev_accounts()
        if stakeholder is not None:
            return _dev_index(accounts, STAKEHOLDERS[stakeholder], f"--as {spec}")
        if spec.isdigit():
            return _dev_index(accounts, int(spec), f"--as {spec}")
        if is_hex_address(spec):
            address = _checked_address(spec, "signer")
            for account in accounts:
                if account.address == address:
                    return account
            raise CliError(
                f"{address} is not an account this node can sign for; use an account index "
                "0-19 or a keystore name"
            )
    elif spec.isdigit() or is_hex_address(spec):
        raise UsageError(
            f"--as {spec}: on a live network sign with a brownie keystore name or .json path "
            "(account indexes and bare addresses only work on development)"
        )
    return load_keystore(stakeholder or spec)


def _dev_index(accounts: Any, index: int, label: str) -> Any:
    if index >= len(accounts):
        raise UsageError(f"{label}: the development chain has accounts 0-{len(accounts) - 1}")
    return accounts[index]


def keystore_path(name: str) -> Path:
    candidate = Path(name).expanduser()
    if name.endswith(".json"):
        return candidate
    if os.environ.get(KEYSTORE_DIR_ENV):
        return Path(os.environ[KEYSTORE_DIR_ENV]).expanduser() / f"{name}.json"
    from brownie._config import _get_data_folder

    return _get_data_folder() / "accounts" / f"{name}.json"


def _password_env_names(name: str) -> list[str]:
    stem = re.sub(r"[^A-Z0-9]+", "_", Path(name).stem.upper()).strip("_")
    return [f"{PASSWORD_ENV}_{stem}", PASSWORD_ENV]


def load_keystore(name: str) -> Any:
    """Unlock a brownie keystore with the password from the environment (never printed)."""
    path = keystore_path(name)
    if not path.is_file():
        raise CliError(
            f"no keystore {name!r} ({path} missing): create it with `brownie accounts new "
            f"{Path(name).stem}` (or import a key with `brownie accounts import`), or on "
            "development pass an account index"
        )
    env_names = _password_env_names(name)
    password = next((os.environ[env] for env in env_names if os.environ.get(env)), None)
    if password is None and os.environ.get(PASSWORD_FILE_ENV):
        password = _password_from_file(Path(os.environ[PASSWORD_FILE_ENV]).expanduser())
        env_names.append(PASSWORD_FILE_ENV)
    if password is None and not sys.stdin.isatty():
        raise CliError(
            f"keystore {name!r} is locked: set {env_names[1]} (or {env_names[0]}) to its "
            f"password, or {PASSWORD_FILE_ENV} to a file holding it"
        )
    from brownie import accounts

    try:
        return accounts.load(str(path), password=password)
    except ValueError:
        source = next((env for env in env_names if os.environ.get(env)), "the prompt")
        raise CliError(
            f"wrong password for keystore {name!r} (from {source}); check the variable"
        ) from None


def _password_from_file(path: Path) -> str:
    try:
        return path.read_text().rstrip("\r\n")
    except OSError as exc:
        raise CliError(
            f"cannot read the keystore password file {path} ({PASSWORD_FILE_ENV}): "
            f"{exc.strerror or exc}"
        ) from None


def _checked_address(spec: str, what: str) -> str:
    if (
        spec[2:].lower() != spec[2:]
        and spec[2:].upper() != spec[2:]
        and not is_checksum_address(spec)
    ):
        raise UsageError(
            f"{what} {spec} has a bad checksum (mixed case that does not match): "
            "check for a typo, or write it all lower-case"
        )
    address = to_checksum_address(spec)
    if int(address, 16) == 0:
        raise UsageError(f"{what} is the zero address, which is not an account")
    return address


def resolve_address(spec: str, *, development: bool, what: str = "account") -> str:
    """An address from 0x…, or (development) a stakeholder name / index, or a keystore name."""
    spec = str(spec).strip()
    if spec.startswith(("0x", "0X")):
        if not is_hex_address(spec):
            raise UsageError(f"{what} {spec!r} is not an address (0x followed by 40 hex digits)")
        return _checked_address(spec, what)
    stakeholder = _stakeholder(spec)
    if development:
        accounts = _dev_accounts()
        if stakeholder is not None:
            return accounts[STAKEHOLDERS[stakeholder]].address
        if spec.isdigit():
            return _dev_index(accounts, int(spec), f"{what} {spec}").address
    path = keystore_path(stakeholder or spec) if re.fullmatch(r"[\w.\-/~]+", spec) else None
    if path is not None and path.is_file():
        try:
            return to_checksum_address(
                "0x" + json.loads(path.read_text())["address"].removeprefix("0x")
            )
        except (KeyError, ValueError):
            raise CliError(f"{path} is not a keystore file") from None
    forms = "0x followed by 40 hex digits"
    if development:
        forms += ", a stakeholder name, an account index 0-19"
    raise UsageError(f"{what} {spec!r} is not an address ({forms}, or a brownie keystore name)")
