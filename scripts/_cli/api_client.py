"""The citypass-api's staff endpoints from a script: sign in with the operator's key (an
EIP-4361 message, personal_sign) and call the API with the session's bearer token.

The scripts read personal data (membership applications) only through the API, which checks
the signer's role on CityAccess; nothing personal is on chain to read."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from eth_account import Account
from eth_account.messages import encode_defunct
from hexbytes import HexBytes

from citypass.protocol.siwe_message import sign_in_message

from .errors import CliError, UsageError

API_URL_ENV = "CITYPASS_API_URL"
DEFAULT_API_URL = "http://127.0.0.1:8080"
TIMEOUT_S = 90
STATEMENT = "Sign in to CityPass staff tools (operator script)."
SIGN_IN_MINUTES = 10


def api_url(text: str | None) -> str:
    """The API's base URL: `text`, else $CITYPASS_API_URL, else the local default."""
    url = (text or os.environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
        raise UsageError(
            f"api={url!r} is not the API's base URL: write it as http://HOST:PORT (no path)"
        )
    return url


def sign_text(signer: Any) -> Callable[[str], str]:
    """personal_sign (EIP-191) with an account: a key held here (a brownie keystore account's
    `private_key`, an eth-account `key`), else an unlocked development account by its node
    (eth_sign)."""
    key = getattr(signer, "private_key", None) or getattr(signer, "key", None)
    if key is not None:
        return lambda text: (
            "0x"
            + bytes(Account.sign_message(encode_defunct(text=text), key).signature)
            .hex()
            .removeprefix("0x")
        )

    def by_node(text: str) -> str:
        from brownie import web3

        # web3 types eth.sign as HexStr; it answers HexBytes, which HexBytes() takes as it is.
        return "0x" + HexBytes(web3.eth.sign(signer.address, text=text)).hex().removeprefix("0x")

    return by_node


class StaffApi:
    """A signed-in session on the API (`sign_in`), answering JSON or raising CliError."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def sign_in(
        cls, url: str, address: str, sign: Callable[[str], str], *, scope: str = "staff"
    ) -> StaffApi:
        """A session for `address`: a nonce, the EIP-4361 message for this API's domain and
        chain, signed by `sign`."""
        api = cls(url)
        nonce = api.call("POST", "/v1/auth/nonce", what="get a sign-in nonce")
        text = sign_in_message(nonce, url, address, STATEMENT, SIGN_IN_MINUTES)
        body = {"message": text, "signature": sign(text), "scope": scope}
        session = api.call("POST", "/v1/auth/siwe", json=body, what=f"sign in as {address}")
        return cls(url, session["token"])

    def call(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        try:
            reply = self._session.request(method, self.url + path, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as exc:
            raise CliError(
                f"could not {what}: the API at {self.url} did not answer "
                f"({type(exc).__name__}); start it, or pass api=URL (or set {API_URL_ENV})"
            ) from exc
        try:
            body = reply.json()
        except ValueError:
            body = None
        if reply.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            detail = error["message"] if isinstance(error, dict) else reply.text[:200]
            raise CliError(f"could not {what}: the API answered {reply.status_code}: {detail}")
        return body
