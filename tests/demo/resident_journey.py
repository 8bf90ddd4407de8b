"""A new resident's journey through the API of a running stack, as a wallet app makes it: only
HTTP, an eth-account key and the typed data the API serves (no contract ABI, no call data
encoded here). JOURNEYS.md: sign in, apply and be approved, top up through the payment
provider, find a space tonight, get a quote, book by signing typed data, see the lease, check in
and out, and cancel another booking.

Each step returns what the API answered, so a test can check it against the chain."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount

from citypass.core.timeunits import KST

SANGSALMI = (37.50312, 126.78745)  # the village centre (demo/village.py)


class JourneyError(AssertionError):
    pass


class Resident:
    def __init__(self, api_url: str, key: LocalAccount | None = None) -> None:
        self.api = api_url.rstrip("/")
        self.key = key or Account.create()
        self.address = self.key.address
        self.http = requests.Session()

    # ------------------------------------------------------------------------------- HTTP

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = path if path.startswith("http") else f"{self.api}{path}"
        reply = self.http.request(method, url, timeout=60, **kwargs)
        if reply.status_code not in (200, 201):
            raise JourneyError(f"{method} {path}: {reply.status_code} {reply.text[:500]}")
        return reply.json() if reply.content else None

    # ----------------------------------------------------------------------------- journey

    def sign_in(self) -> dict[str, Any]:
        """EIP-4361 with the nonce the API issues, signed with personal_sign; resident scope."""
        issued = self.call("POST", "/v1/auth/nonce")
        now = datetime.now(UTC).replace(microsecond=0)
        text = "\n".join(
            [
                f"{issued['domain']} wants you to sign in with your Ethereum account:",
                self.address,
                "",
                "Sign in to CityPass.",
                "",
                f"URI: {self.api}/v1/auth/siwe",
                "Version: 1",
                f"Chain ID: {issued['chainId']}",
                f"Nonce: {issued['nonce']}",
                f"Issued At: {now.isoformat().replace('+00:00', 'Z')}",
                f"Expiration Time: {(now + timedelta(minutes=10)).isoformat().replace('+00:00', 'Z')}",
            ]
        )
        signature = self.key.sign_message(encode_defunct(text=text)).signature
        session = self.call(
            "POST", "/v1/auth/siwe",
            json={"message": text, "signature": "0x" + signature.hex(), "scope": "resident"},
        )  # fmt: skip
        self.http.headers["Authorization"] = f"Bearer {session['token']}"
        return session

    def apply(self) -> dict[str, Any]:
        return self.call(
            "POST", "/v1/applications",
            json={"name": "김민지", "phone": "010-1234-5678",
                  "homeAddress": "부천시 오정구 삼정동 101-1", "privacyConsent": True},
        )  # fmt: skip

    def top_up(self, amount: int, provider_url: str) -> dict[str, Any]:
        """Order a top-up, pay it at the provider, and wait until the API says it is minted."""
        order = self.call("POST", "/v1/topups", json={"amount": amount})
        self.call(
            "POST", f"{provider_url}/v1/payments",
            json={"orderId": order["id"], "amount": amount},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            current = self.call("GET", f"/v1/topups/{order['id']}")
            if current["status"] == "minted":
                return current
            if current["status"] == "mint_failed" or time.monotonic() > deadline:
                raise JourneyError(f"top-up {order['id']} ended {current}")
            time.sleep(0.5)

    def search_tonight(self, start: int, end: int) -> list[dict[str, Any]]:
        found = self.call(
            "GET", "/v1/slots/search",
            params={"lat": SANGSALMI[0], "lon": SANGSALMI[1], "radius_m": 3000,
                    "start": iso_kst(start), "end": iso_kst(end)},
        )  # fmt: skip
        return list(found["slots"])

    def quote(self, slot_id: int, start: int, end: int) -> dict[str, Any]:
        return self.call("GET", f"/v1/slots/{slot_id}/quote", params={"start": start, "end": end})

    def book(self, slot_id: int, start: int, end: int, max_price: int) -> dict[str, Any]:
        """Prepare, sign the ForwardRequest (and the permit the API asks for), relay."""
        body = {"from": self.address, "slotId": slot_id, "start": iso_kst(start),
                "end": iso_kst(end), "maxPrice": max_price}  # fmt: skip
        reply = self.http.post(f"{self.api}/v1/prepare/book", json=body, timeout=60)
        if reply.status_code == 409 and "permit" in reply.text:
            permit = self.call(
                "GET", "/v1/typed-data/permit",
                params={"owner": self.address, "value": max_price, "spender": "market"},
            )  # fmt: skip
            body["permit"] = {
                "deadline": permit["message"]["deadline"],
                "signature": self.sign_typed(permit),
            }
            reply = self.http.post(f"{self.api}/v1/prepare/book", json=body, timeout=60)
        if reply.status_code != 200:
            raise JourneyError(f"prepare book: {reply.status_code} {reply.text[:500]}")
        return self.relay(reply.json())

    def lease_action(self, action: str, lease_id: int) -> dict[str, Any]:
        typed = self.call(
            "POST", f"/v1/prepare/{action}", json={"from": self.address, "leaseId": lease_id}
        )
        return self.relay(typed)

    def leases(self) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/v1/members/{self.address}/leases")["leases"])

    # ------------------------------------------------------------------------------ signing

    def sign_typed(self, typed: dict[str, Any]) -> str:
        """What a wallet's eth_signTypedData_v4 answers for the served typed data."""
        message = encode_typed_data(full_message=typed)
        return "0x" + self.key.sign_message(message).signature.hex()

    def relay(self, typed: dict[str, Any]) -> dict[str, Any]:
        # ERC2771Forwarder.ForwardRequestData: the signed fields but the nonce (the forwarder
        # knows it), and the signature
        request = {k: v for k, v in typed["message"].items() if k != "nonce"}
        request["signature"] = self.sign_typed(typed)
        request["chainId"] = typed["domain"]["chainId"]
        request["verifyingContract"] = typed["domain"]["verifyingContract"]
        return self.call("POST", "/v1/relay/forward", json=request)


def iso_kst(timestamp: int) -> str:
    """As the app sends times: ISO 8601 in Korea's time, with its offset."""
    return datetime.fromtimestamp(timestamp, KST).isoformat()
