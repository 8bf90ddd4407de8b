"""The plate-tag secret of this API (the tag service): 32 random bytes in a 0600 file under the
git-ignored data directory, created on first use, never logged or served. Devices never get it:
`citypass-api plate-keys` hands them month keys derived from it (citypass/protocol/plate_tags)."""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

from api.errors import SettingsError
from citypass.core.files import create_exclusively
from citypass.protocol.plate_tags import KEY_BYTES, month_key

SECRET_FILE = "plate-tag.key"


class PlateSecret:
    """Holds the secret; answers month keys. No repr, so the secret never lands in a log."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "PlateSecret(<hidden>)"

    def month_key(self, month: str) -> bytes:
        return month_key(self._secret, month)


def secret_path(data_dir: Path) -> Path:
    return Path(data_dir) / SECRET_FILE


def load_or_create_secret(data_dir: Path) -> PlateSecret:
    """The secret in `data_dir`, created (0600) if missing; SettingsError if it is unreadable,
    malformed, or readable by others."""
    path = secret_path(data_dir)
    if not path.exists():
        # Another API process may create it meanwhile: then read theirs.
        with contextlib.suppress(FileExistsError):
            create_exclusively(path, secrets.token_bytes(KEY_BYTES).hex() + "\n")
    try:
        if path.stat().st_mode & 0o077:
            raise SettingsError(
                f"{path} is readable by others: chmod 600 it (it is the plate-tag secret)"
            )
        secret = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise SettingsError(
            f"{path} is not a plate-tag secret ({type(exc).__name__}): restore it from the "
            "backup, or remove it to start a new one (registered vehicles must then register "
            "again)"
        ) from exc
    if len(secret) != KEY_BYTES:
        raise SettingsError(f"{path} must hold {KEY_BYTES} bytes in hex")
    return PlateSecret(secret)
