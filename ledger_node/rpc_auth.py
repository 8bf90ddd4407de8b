"""Who may call which JSON-RPC method: the methods a wallet needs without a token, and the
token's permissions for everything else (Besu's JWT authentication, ledger_node.rpc_tokens).

A request carries its token in the `Authorization: Bearer` header or in the URL path
(`/t/<token>`, for wallets and tools that cannot set headers), over HTTP and WebSocket. A token
never gives less than no token: the keyless methods stay open to every caller."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from Crypto.PublicKey import ECC

from ledger_node.errors import UNAUTHORIZED, RpcError
from ledger_node.rpc_tokens import (
    Claims,
    TokenRefused,
    claims_of,
    moment,
    permission_of,
    signed_payload,
)

# What a member's wallet (MetaMask, ethers, cast, brownie) calls to send a transaction and
# follow it to its receipt; docs/ledger-node.md says why each is here and what stays out.
KEYLESS_METHODS = frozenset(
    {
        "eth_chainId", "net_version", "web3_clientVersion", "eth_blockNumber", "eth_gasPrice",
        "eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_getBlockByNumber",
        "eth_getBlockByHash", "eth_getTransactionCount", "eth_getCode", "eth_estimateGas",
        "eth_sendRawTransaction", "eth_getTransactionByHash", "eth_getTransactionReceipt",
        "eth_unsubscribe", "ledger_status",
    }
)  # fmt: skip
# Blocks without a token are headers: their transaction hashes would open everyone's
# transactions to eth_getTransactionByHash, and their logs bloom tells which blocks touched
# an address.
HEADER_ONLY_METHODS = frozenset({"eth_getBlockByNumber", "eth_getBlockByHash"})
EMPTY_BLOOM = "0x" + "00" * 256
HOW_TO_SEND = "send it as Authorization: Bearer <token> or in the URL path /t/<token>"
_READ_ALL = ["eth:*", "net:*", "web3:*"]
# What each service's token grants (docs/ledger-node.md, ## Who may read what; the demo issues
# these): the API and its read model follow every block, log and seal; an oracle and the
# operators' scripts read contracts and send; auditors read everything the node serves; a
# witness re-executes the journal (eth reads, ledger_getJournalEntry) and submits its
# co-signatures (ledger_submitCosignature), which no keyless caller may.
SERVICE_PERMISSIONS: dict[str, list[str]] = {
    "api": [*_READ_ALL, "ledger:*"],
    "indexer": [*_READ_ALL, "ledger:*"],
    "oracle": _READ_ALL,
    "operators": _READ_ALL,
    "auditor": [*_READ_ALL, "ledger:*", "ots:*", "debug:*", "trace:*"],
    "witness": [*_READ_ALL, "ledger:*"],
}


@dataclass(frozen=True)
class Access:
    """What one connection or request may do: a verified token's claims, a refused token, or
    no token at all."""

    claims: Claims | None = None
    refusal: TokenRefused | None = None
    verifying: bool = True  # False: the node has no public key, so it verifies no token

    def check(self, method: str, params: list[Any]) -> None:
        """Raise the JSON-RPC refusal when this access may not call `method` with `params`."""
        if self.refusal is not None:
            raise _refusal(self.refusal.reason, f"{self.refusal.message}; {method} refused", method)
        if self.claims is not None and self.claims.expired():
            when = moment(self.claims.expires)
            raise _refusal("expired", f"the token expired at {when}; {method} refused", method)
        if self.claims is not None and self.claims.allows(method):
            return
        if method in KEYLESS_METHODS:
            if method in HEADER_ONLY_METHODS and len(params) > 1 and params[1] is True:
                raise _refusal(
                    self._reason(),
                    f"{method} with full transactions needs a token with "
                    f"{permission_of(method)}; {self._missing()} (without one, ask for the "
                    "header: false as the second parameter)",
                    method,
                )
            return
        raise _refusal(
            self._reason(),
            f"{method} needs a token with {permission_of(method)}; {self._missing()}",
            method,
        )

    def headers_only(self, method: str) -> bool:
        """Whether this access gets `method`'s blocks as bare headers."""
        return method in HEADER_ONLY_METHODS and not (self.claims and self.claims.allows(method))

    def _reason(self) -> str:
        if self.claims is not None:
            return "permission"
        return "no_token" if self.verifying else "no_key"

    def _missing(self) -> str:
        if self.claims is not None:
            held = ", ".join(self.claims.permissions)
            return (
                f"the token's permissions do not include it (subject {self.claims.subject!r} "
                f"holds {held})"
            )
        if not self.verifying:
            return (
                "this node has no token public key (ledger-node start --jwt-public-key), so "
                "without a token it serves only the wallet methods"
            )
        return f"none was sent ({HOW_TO_SEND})"


def _refusal(reason: str, message: str, method: str) -> RpcError:
    return RpcError(UNAUTHORIZED, message, {"reason": reason, "method": method})


def header_only(block: Any) -> Any:
    """A block as a keyless caller sees it: no transaction hashes, an empty logs bloom."""
    if isinstance(block, dict):
        return {**block, "transactions": [], "logsBloom": EMPTY_BLOOM}
    return block


SIGNED_TOKENS_CACHED = 256  # services and auditors hold a handful of tokens each


class Authenticator:
    """Verifies the token of each HTTP request or WebSocket against the issuer's public key
    and this ledger's audience."""

    def __init__(self, public_key: ECC.EccKey | None, audience: str) -> None:
        self.public_key = public_key
        self.audience = audience
        # Tokens whose signature verified, by their exact text: a service sends the same token
        # with every request, and the ECDSA check (about 1.5 ms) would run on the event loop each
        # time. The claims (expiry above all) are still judged on every use.
        self._signed: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def access(self, request: web.Request) -> Access:
        try:
            token = _token_of(request)
        except TokenRefused as refusal:
            return Access(refusal=refusal, verifying=self.public_key is not None)
        if token is None:
            return Access(verifying=self.public_key is not None)
        if self.public_key is None:
            return Access(
                refusal=TokenRefused(
                    "no_key",
                    "this node has no token public key (ledger-node start --jwt-public-key), "
                    "so it cannot verify the token sent",
                ),
                verifying=False,
            )
        try:
            return Access(claims=claims_of(self._payload(token), self.audience))
        except TokenRefused as refusal:
            return Access(refusal=refusal)

    def _payload(self, token: str) -> dict[str, Any]:
        payload = self._signed.get(token)
        if payload is None:
            assert self.public_key is not None  # access() answers no_key before
            payload = signed_payload(token, self.public_key)
            self._signed[token] = payload
            if len(self._signed) > SIGNED_TOKENS_CACHED:
                self._signed.popitem(last=False)
        else:
            self._signed.move_to_end(token)
        return payload


def _token_of(request: web.Request) -> str | None:
    in_path = request.match_info.get("token") or None
    header = request.headers.get("Authorization")
    if header is None:
        return in_path
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise TokenRefused("malformed", 'the Authorization header must read "Bearer <token>"')
    bearer = value.strip()
    if in_path is not None and in_path != bearer:
        raise TokenRefused(
            "malformed",
            "two different tokens were sent, one in the Authorization header and one in the "
            "URL path: send one",
        )
    return bearer
