"""A lessee's vehicle tags of one KST month, from the citypass-api's ORACLE-only endpoint
(`GET /v1/oracle/vehicle-tags/{address}?month=`), cached briefly.

The daemon signs in with Sign-In with Ethereum using its own ORACLE key (a wallet session,
"scope": "resident"; the API checks the ORACLE role on CityAccess on every request), and signs
in again when the session ends."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import requests
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from citypass.protocol.siwe_message import sign_in_message
from oracles.errors import OracleError

log = logging.getLogger("oracles.plates")
STATEMENT = "Sign in as the CityPass oracle daemon (vehicle tags for plate matching)."
TIMEOUT_S = 10.0


class TagsUnavailable(OracleError):
    """The API did not answer or refused: the plate read stays pending and is retried."""


class VehicleTags:
    def __init__(
        self, api_url: str, account: LocalAccount, cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.url = api_url.rstrip("/")
        self._account = account
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, frozenset[bytes]]] = {}
        self._http = requests.Session()
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"VehicleTags({self.url})"

    def tags(self, lessee: str, month: str) -> frozenset[bytes]:
        key = (lessee.lower(), month)
        cached = self._cache.get(key)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        reply = self._get(lessee, month)
        if reply.status_code == 401:  # the session ended: sign in again, once
            self._token = None
            reply = self._get(lessee, month)
        if reply.status_code != 200:
            raise TagsUnavailable(
                f"the API at {self.url} answered {reply.status_code} for vehicle tags: "
                f"{_error_message(reply)}"
            )
        tags = frozenset(bytes.fromhex(t.removeprefix("0x")) for t in reply.json()["tags"])
        self._cache[key] = (self._clock(), tags)
        return tags

    def _get(self, lessee: str, month: str) -> requests.Response:
        if self._token is None:
            self._token = self._sign_in()
        return self._request(
            "GET",
            f"/v1/oracle/vehicle-tags/{lessee}",
            params={"month": month},
            headers={"Authorization": f"Bearer {self._token}"},
        )

    def _sign_in(self) -> str:
        nonce = self._request("POST", "/v1/auth/nonce")
        if nonce.status_code != 200:
            raise TagsUnavailable(f"no sign-in nonce from {self.url}: {_error_message(nonce)}")
        text = sign_in_message(nonce.json(), self.url, self._account.address, STATEMENT)
        signature = Account.sign_message(encode_defunct(text=text), self._account.key).signature
        body = {"message": text, "signature": "0x" + bytes(signature).hex(), "scope": "resident"}
        reply = self._request("POST", "/v1/auth/siwe", json=body)
        if reply.status_code != 200:
            raise TagsUnavailable(f"sign-in to {self.url} refused: {_error_message(reply)}")
        log.info("signed in to the API for vehicle tags", extra={"api": self.url})
        return reply.json()["token"]

    def _request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        try:
            return self._http.request(method, self.url + path, timeout=TIMEOUT_S, **kwargs)  # type: ignore[arg-type]
        except requests.RequestException as exc:
            raise TagsUnavailable(
                f"the API at {self.url} did not answer ({type(exc).__name__})"
            ) from exc


def _error_message(reply: requests.Response) -> str:
    try:
        return str(reply.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return reply.text[:200]
