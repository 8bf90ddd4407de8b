"""citypass/core/keystore.py: secrets from a file or the environment, creating and loading V3
keystores, and messages that name the file, the variable and the fix but never the secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from citypass.core.keystore import (
    LIGHT_KDF_ENV,
    LIGHT_SCRYPT_N,
    MIN_PASSWORD_LENGTH,
    DaemonKey,
    create_keystore,
    decrypt_keystore,
    light_kdf,
    load_keystore,
    resolve_secret,
)

PASSWORD = "correct horse battery"
ENV = "CITYPASS_TEST_PASSWORD"


class DaemonError(Exception):
    """Stands in for a daemon's own error class."""


def cheap_keystore(path: Path, password: str = PASSWORD) -> str:
    """A keystore with a tiny scrypt cost, so loading it in a test takes no time."""
    account = Account.create()
    path.write_text(json.dumps(Account.encrypt(account.key, password, iterations=2)))
    return account.address


def load(path: Path, password: str = PASSWORD):
    return load_keystore(
        path, password, error=DaemonError, name="the test keystore", missing_hint="run `init`"
    )


def test_a_secret_comes_from_the_file_without_its_newline_else_from_the_variable(tmp_path):
    file = tmp_path / "password"
    file.write_text(" spaced secret \n")
    assert resolve_secret(file, ENV, error=DaemonError, environ={ENV: "ignored"}) == (
        " spaced secret "
    )
    assert resolve_secret(None, ENV, error=DaemonError, environ={ENV: "from-env"}) == "from-env"


def test_a_missing_secret_names_the_variable_and_the_option(tmp_path):
    with pytest.raises(
        DaemonError, match=f"no keystore password: set {ENV} or pass --password-file"
    ):
        resolve_secret(None, ENV, error=DaemonError, environ={})
    with pytest.raises(DaemonError, match="cannot read the password file .*nope: No such file"):
        resolve_secret(tmp_path / "nope", ENV, error=DaemonError, environ={})


def test_a_short_secret_is_refused_without_echoing_it():
    with pytest.raises(DaemonError) as refused:
        resolve_secret(
            None, "TOKEN", error=DaemonError, what="admin token", file_option="--token-file",
            min_length=16, environ={"TOKEN": "short-token"},
        )  # fmt: skip
    assert "at least 16 characters: set TOKEN or pass --token-file" in str(refused.value)
    assert "short-token" not in str(refused.value)


def test_create_writes_a_private_keystore_that_loads_back(tmp_path):
    # At the light scrypt cost the suite sets (tests/conftest.py): the file is otherwise the same.
    path = tmp_path / "keystore" / "key.json"
    account = create_keystore(path, PASSWORD, error=DaemonError, private_key=b"\x01" * 32)
    assert account.address == Account.from_key(b"\x01" * 32).address
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert PASSWORD not in path.read_text()
    assert load(path).address == account.address
    for other in ("0", "yes", "true", " 1"):
        assert not light_kdf({LIGHT_KDF_ENV: other})
    with pytest.raises(DaemonError, match="already exists: remove it or use another path"):
        create_keystore(
            path, PASSWORD, error=DaemonError, exists_hint="remove it or use another path"
        )


def test_create_refuses_a_short_password_with_the_hint(tmp_path):
    short = "x" * (MIN_PASSWORD_LENGTH - 1)
    with pytest.raises(
        DaemonError, match=f"^the keystore password must have at least {MIN_PASSWORD_LENGTH}"
    ):
        create_keystore(tmp_path / "key.json", short, error=DaemonError)
    with pytest.raises(
        DaemonError, match=f"^set X to a password of at least {MIN_PASSWORD_LENGTH}"
    ):
        create_keystore(tmp_path / "key.json", short, error=DaemonError, password_env="X")
    assert not (tmp_path / "key.json").exists()


def test_load_opens_a_keystore(tmp_path):
    address = cheap_keystore(tmp_path / "key.json")
    assert load(tmp_path / "key.json").address == address


def test_a_wrong_password_names_the_keystore_but_not_the_password(tmp_path):
    cheap_keystore(tmp_path / "key.json")
    with pytest.raises(DaemonError) as refused:
        load(tmp_path / "key.json", "not-the-password")
    message = str(refused.value)
    assert message == f"wrong password for the test keystore {tmp_path / 'key.json'}"
    assert "not-the-password" not in message


def test_a_missing_keystore_says_how_to_make_one(tmp_path):
    with pytest.raises(DaemonError, match=r"the test keystore .*nope\.json is missing: run `init`"):
        load(tmp_path / "nope.json")


def test_a_damaged_keystore_is_unreadable_or_unusable_not_a_wrong_password(tmp_path):
    path = tmp_path / "key.json"
    path.write_text("{not json")
    with pytest.raises(DaemonError, match="is unreadable"):
        load(path)
    path.write_text(json.dumps({"address": "00"}))
    with pytest.raises(DaemonError, match="is not a usable V3 keystore"):
        load(path)
    with pytest.raises(DaemonError, match="device #3 is not a usable V3 keystore"):
        decrypt_keystore([], PASSWORD, "device #3", error=DaemonError)


def test_a_daemon_key_lives_at_its_place_in_the_data_dir_with_the_daemons_hints(
    tmp_path, monkeypatch
):
    key = DaemonKey(
        relative_path=Path("keystore") / "daemon.json",
        password_env=ENV,
        error=DaemonError,
        name="the daemon keystore",
        exists_hint="this data directory has a key",
        missing_hint="run `daemon init --data-dir {data_dir}`",
    )
    assert key.path(tmp_path) == tmp_path / "keystore" / "daemon.json"
    with pytest.raises(DaemonError, match=rf"missing: run `daemon init --data-dir {tmp_path}`$"):
        key.load(tmp_path, PASSWORD)
    (tmp_path / "keystore").mkdir()
    address = cheap_keystore(key.path(tmp_path))
    assert key.load(tmp_path, PASSWORD).address == address
    # The existing file is refused after encrypting (at the suite's light scrypt cost).
    with pytest.raises(DaemonError, match="already exists: this data directory has a key"):
        key.create(tmp_path, PASSWORD)


@pytest.mark.parametrize(("light", "cost"), [("1", LIGHT_SCRYPT_N), ("", 2**18)])
def test_only_an_explicit_light_kdf_lowers_the_scrypt_cost(tmp_path, monkeypatch, light, cost):
    """A keystore guarding a real key gets eth-account's full scrypt cost unless
    CITYPASS_LIGHT_KDF is exactly "1" (throwaway keys: the suite, the demo)."""
    monkeypatch.setenv(LIGHT_KDF_ENV, light)
    path = tmp_path / "key.json"
    account = create_keystore(path, PASSWORD, error=DaemonError)
    params = json.loads(path.read_text())["crypto"]["kdfparams"]
    assert (params["n"], params["r"], params["p"]) == (cost, 8, 1)
    assert load(path).address == account.address
    for other in ("0", "yes", "true", " 1"):
        assert not light_kdf({LIGHT_KDF_ENV: other})
