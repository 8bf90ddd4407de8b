"""Month keys for the edge cameras (`citypass-api plate-keys`): derived here, where the secret
is, and written into the edge daemon's month keys file. The secret never leaves this machine;
a device gets the keys of the months it is provisioned for and no others."""

from __future__ import annotations

from pathlib import Path

from api.errors import SettingsError
from api.vehicles.keys import load_or_create_secret, secret_path
from citypass.protocol.plate_tags import (
    MonthKeysError,
    load_month_keys,
    months_from,
    save_month_keys,
)


def provision(data_dir: Path, out: Path, first: str, count: int) -> list[str]:
    """Write the keys of `count` months from `first` into `out`, keeping the months already
    there that are not past (so provisioning next month early keeps this month's key) and
    dropping the past ones. Returns the months the file now holds."""
    if not secret_path(data_dir).exists():
        raise SettingsError(
            f"{secret_path(data_dir)} does not exist: run this where the API's data directory "
            "is (--data-dir), after the API has started once"
        )
    secret = load_or_create_secret(data_dir)
    keys: dict[str, bytes] = {}
    if out.exists():
        try:
            keys = {m: k for m, k in load_month_keys(out).items() if m >= first}
        except MonthKeysError as exc:
            raise SettingsError(f"{exc}: remove it, or give another --out") from None
    keys.update({month: secret.month_key(month) for month in months_from(first, count)})
    save_month_keys(out, keys)
    return sorted(keys)
