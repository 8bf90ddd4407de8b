"""Signing in to a running API with Sign-In with Ethereum as a wallet would: an EIP-4361 message
for the API's domain and chain, signed with personal_sign by an eth-account key, exchanged at
POST /v1/auth/siwe for a bearer token (staff or resident scope). Shared by the API's and the
explorer's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from eth_account import Account
from eth_account.messages import encode_defunct

from citypass.protocol.siwe_message import SiweMessage, render_message


def siwe_message(
    url: str, ledger_id: int, account: Any, nonce: str | None = None, **changes
) -> str:
    """The message the API at `url` accepts from `account`; `changes` override its fields."""
    now = datetime.now(UTC).replace(microsecond=0)
    fields = {
        "domain": url.removeprefix("http://"), "address": account.address,
        "uri": f"{url}/v1/auth/siwe", "version": "1", "chain_id": ledger_id,
        "nonce": nonce or requests.post(url + "/v1/auth/nonce", timeout=30).json()["nonce"],
        "issued_at": now, "statement": "Sign in to CityPass staff tools.",
        "expiration_time": now + timedelta(minutes=10),
    }  # fmt: skip
    fields.update(changes)
    return render_message(SiweMessage(**fields))


def personal_sign(account: Any, text: str) -> str:
    return "0x" + Account.sign_message(encode_defunct(text=text), account.key).signature.hex()


def sign_in(
    url: str, ledger_id: int, account: Any, scope: str | None = None, **changes
) -> requests.Response:
    """POST /v1/auth/siwe (scope omitted: the API's default, staff)."""
    text = siwe_message(url, ledger_id, account, **changes)
    body = {"message": text, "signature": personal_sign(account, text)}
    if scope is not None:
        body["scope"] = scope
    return requests.post(url + "/v1/auth/siwe", json=body, timeout=30)


def session_token(url: str, ledger_id: int, account: Any, scope: str = "staff", **changes) -> str:
    reply = sign_in(url, ledger_id, account, scope, **changes)
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


def bearer(url: str, ledger_id: int, account: Any, scope: str = "staff", **changes) -> dict:
    """The Authorization header of a fresh session of `account`."""
    return {"Authorization": f"Bearer {session_token(url, ledger_id, account, scope, **changes)}"}


_RESIDENT_SESSIONS: dict[tuple[str, str], dict] = {}


def resident_bearer(url: str, ledger_id: int, account: Any) -> dict:
    """The header of `account`'s own wallet session (scope resident) on the API at `url`, opened
    once and reused: what reading a resident's own records needs, even while polling."""
    key = (url, account.address)
    if key not in _RESIDENT_SESSIONS:
        _RESIDENT_SESSIONS[key] = bearer(url, ledger_id, account, scope="resident")
    return _RESIDENT_SESSIONS[key]
