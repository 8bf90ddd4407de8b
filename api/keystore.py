"""The API's keys as encrypted (V3) keystores under the git-ignored data dir: the relayer's and
the onboarding key that onboards approved applicants (password CITYPASS_API_PASSWORD), and the
treasury's, which mints top-ups and burns cash-outs (password CITYPASS_API_TREASURY_PASSWORD).
Passwords are never logged or echoed; citypass/core/keystore.py does the work, the API's hints
are here."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount

from api.errors import ApiError, OnboarderKeyError, RelayerKeyError, TreasuryKeyError
from api.settings import PASSWORD_ENV, TREASURY_PASSWORD_ENV
from citypass.core import keystore


def create_keystore(
    path: Path, password: str, error: type[ApiError] = RelayerKeyError
) -> LocalAccount:
    """A new random key (the relayer's, or the onboarding key with its `error`), encrypted
    under `password`; refuses to overwrite."""
    return keystore.create_keystore(
        path, password, error=error, password_env=PASSWORD_ENV,
        exists_hint="remove it or use another --data-dir",
    )  # fmt: skip


def load_keystore(path: Path, password: str) -> LocalAccount:
    return _load(path, password, RelayerKeyError, "relayer", "init-relayer")


def load_onboarder(path: Path, password: str) -> LocalAccount:
    return _load(path, password, OnboarderKeyError, "onboarding", "init-onboarder")


def _load(path: Path, password: str, error: type[ApiError], whose: str, init: str) -> LocalAccount:
    if not password:
        raise error(f"no {whose} keystore password: set {PASSWORD_ENV}")
    return keystore.load_keystore(
        path, password, error=error, name=f"the {whose} keystore",
        missing_hint=f"create it with `citypass-api {init}`", password_name=PASSWORD_ENV,
    )  # fmt: skip


def create_treasury_keystore(
    path: Path, password: str, private_key: bytes | None = None
) -> LocalAccount:
    """The treasury key (new, or `private_key` imported) encrypted under `password`."""
    return keystore.create_keystore(
        path, password, error=TreasuryKeyError, password_env=TREASURY_PASSWORD_ENV,
        exists_hint="remove it or use another --data-dir", private_key=private_key,
    )  # fmt: skip


def load_treasury_keystore(path: Path, password: str) -> LocalAccount | None:
    """The treasury account, or None when this API has no treasury keystore (it then mints
    nothing). A keystore that is there but cannot be opened is an error: say so at start."""
    if not path.exists():
        return None
    if not password:
        raise TreasuryKeyError(
            f"the treasury keystore {path} is there but {TREASURY_PASSWORD_ENV} is not set"
        )
    return keystore.load_keystore(
        path, password, error=TreasuryKeyError, name="the treasury keystore",
        missing_hint="create it with `citypass-api init-treasury`",
        password_name=TREASURY_PASSWORD_ENV,
    )  # fmt: skip
