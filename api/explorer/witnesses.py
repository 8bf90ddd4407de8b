"""The ledger's witnesses as the explorer and /v1/explorer/witnesses show them, from the node's
`ledger_getWitnessStatus`: CityAccess's witness set at the node's head, each member with its
latest co-signed block. A block B is witnessed by w when w's latest co-signed block is ≥ B (a
checkpoint commits to the whole history before it).

Read live, not from the read model: the node already answers the set with the names and holds
the co-signatures (nothing else does), and "witnessed by" is a statement about co-signatures
that exist now, so an indexed history of WitnessSet/WitnessRemoved would add a table without
changing any answer. The answer is cached for a second, so one page makes one call however many
blocks it shows; an unreachable node or a refusal becomes a status that says why (the page still
renders).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from api.i18n.catalog import N_

METHOD = "ledger_getWitnessStatus"
CACHE_SECONDS = 1.0
# A witness behind the head that has not co-signed for this long gets a note on the landing page
# (a witness daemon co-signs each block it has re-executed, within seconds when it keeps up).
QUIET_AFTER_SECONDS = 300

# Why there is no status (each a msgid; the page adds the node's detail after it).
UNREACHABLE = N_("the node did not answer")
NOT_SERVED = N_("the node does not serve ledger_getWitnessStatus (a node without witnesses)")
REFUSED = N_("the node refused ledger_getWitnessStatus")
MALFORMED = N_("the node's answer to ledger_getWitnessStatus is malformed")


@dataclass(frozen=True)
class Witness:
    address: str
    label: str  # the name on CityAccess (citypass/protocol/witness_names.py)
    latest: int | None  # its latest co-signed block, None before its first co-signature
    signed_at: int | None  # when the node accepted that co-signature (Unix seconds)

    def witnessed(self, block: int) -> bool:
        return self.latest is not None and self.latest >= block

    def behind(self, head: int) -> int | None:
        """Blocks between its latest co-signed block and the head (None: never co-signed)."""
        return None if self.latest is None else max(head - self.latest, 0)

    def quiet_for(self, head: int, now: float) -> int | None:
        """Seconds since its last co-signature when it is behind the head and has been quiet
        for QUIET_AFTER_SECONDS or more, else None (keeping up, or the chain is idle)."""
        if self.latest is None or self.signed_at is None or self.latest >= head:
            return None
        quiet = int(now) - self.signed_at
        return quiet if quiet >= QUIET_AFTER_SECONDS else None

    def json(self, head: int) -> dict[str, Any]:
        return {
            "witness": self.address,
            "name": self.label,
            "latest": self.latest,
            "signedAt": self.signed_at,
            "behind": self.behind(head),
        }


@dataclass(frozen=True)
class BlockWitnesses:
    """One block's witness status: who witnessed it out of how many."""

    number: int
    by: tuple[Witness, ...]
    total: int


@dataclass(frozen=True)
class WitnessStatus:
    head: int
    witnesses: tuple[Witness, ...]
    problem: str | None = None  # a msgid above when the node gave no status
    detail: str = ""  # the node's own words, shown after the problem

    @property
    def available(self) -> bool:
        return self.problem is None

    def of_block(self, number: int) -> BlockWitnesses:
        by = tuple(w for w in self.witnesses if w.witnessed(number))
        return BlockWitnesses(number, by, len(self.witnesses))


def unavailable(problem: str, detail: str) -> WitnessStatus:
    return WitnessStatus(0, (), problem, detail[:300])


def _quantity(value: Any, field: str) -> int:
    if isinstance(value, str) and value.startswith("0x"):
        return int(value, 16)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"{field} is {value!r}, not a block number")


def parse_status(result: Any) -> WitnessStatus:
    """The node's answer as a WitnessStatus; ValueError names what is malformed."""
    if not isinstance(result, dict) or not isinstance(result.get("witnesses"), list):
        raise ValueError("no witnesses list")
    members = []
    for n, item in enumerate(result["witnesses"]):
        if not isinstance(item, dict) or not Web3.is_address(item.get("witness")):
            raise ValueError(f"witnesses[{n}].witness is not an address")
        latest, signed_at = item.get("latest"), item.get("signedAt")
        members.append(
            Witness(
                Web3.to_checksum_address(item["witness"]),
                str(item.get("name") or ""),
                None if latest is None else _quantity(latest, f"witnesses[{n}].latest"),
                None if signed_at is None else _quantity(signed_at, f"witnesses[{n}].signedAt"),
            )
        )
    return WitnessStatus(_quantity(result.get("head"), "head"), tuple(members))


def fetch_status(w3: Web3) -> WitnessStatus:
    """The node's witness status now, or a status that says why there is none."""
    try:
        reply = w3.provider.make_request(RPCEndpoint(METHOD), [])
    except Exception as exc:  # connection refused, timeout: the page says so
        return unavailable(UNREACHABLE, type(exc).__name__)
    error = reply.get("error")
    if error:
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        method_missing = isinstance(error, dict) and error.get("code") == -32601
        return unavailable(NOT_SERVED if method_missing else REFUSED, message)
    try:
        return parse_status(reply.get("result"))
    except (ValueError, TypeError) as exc:
        return unavailable(MALFORMED, str(exc))


class WitnessWatch:
    """The node's witness status, fetched at most once per CACHE_SECONDS (concurrent page loads
    wait for the one call in flight instead of making their own)."""

    def __init__(self, w3: Web3, cache_seconds: float = CACHE_SECONDS) -> None:
        self.w3 = w3
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._status: WitnessStatus | None = None
        self._fetched = 0.0

    def status(self) -> WitnessStatus:
        with self._lock:
            now = time.monotonic()
            if self._status is None or now - self._fetched >= self.cache_seconds:
                self._status = fetch_status(self.w3)
                self._fetched = time.monotonic()
            return self._status
