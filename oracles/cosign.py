"""Occupancy reports across independent oracle daemons: the peer's side of
`POST /v1/peer/cosign` (the proposer's side is oracles/quorum.py).

A peer co-signs a proposed report only when, in this order:
1. the body is the agreed JSON (no unknown fields, integers where integers go) and the report
   keeps the contract's shape rules (citypass.protocol.occupancy_report.check_report);
2. it is for this chain and this OccupancyOracle;
3. its signature is the proposer's own, and the proposer is one of the contract's `signers()`
   (so only registered oracles can ask);
4. its sequence is after the chain's `lastSequence()`;
5. it matches this daemon's own view: every slot the report observes has, in this daemon's
   aggregate of its OWN verified events (folded up to now), the same committed value. A slot
   this daemon has not seen, or sees differently, is waited for up to cosign_wait_seconds
   (its events may still be on their way from the edge), then refused as `mismatch`, naming
   the slots.
Every refusal is a 4xx JSON {"error", "message"} (503 while the daemon is still loading or the
ledger is away), is logged and counted (citypass_oracle_cosign_refused{reason}), and changes
nothing: the check only folds received events, as the report loop would."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, ValidationError

from citypass.protocol.occupancy_report import (
    OccupancyReport,
    OccupancyReportError,
    check_report,
    recover_signer,
    report_from_message,
    sign_report,
)
from oracles.errors import LedgerUnavailable
from oracles.ledger import Ledger
from oracles.metrics import Metrics
from oracles.reporter import Reporter

log = logging.getLogger("oracles.cosign")
RETRY_SECONDS = 0.2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ReportFields(_Strict):
    sequence: int
    observedAt: int
    wordIndexes: list[int]
    masks: list[int]
    values: list[int]


class CosignRequest(_Strict):
    chainId: int
    contract: str
    proposer: str
    signature: str
    report: ReportFields


class Refusal(Exception):
    """A request this daemon will not co-sign: HTTP status, a reason code, what is wrong."""

    def __init__(self, status: int, reason: str, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.detail = status, reason, message, detail

    def body(self) -> dict[str, Any]:
        return {"error": self.reason, "message": self.message, **self.detail}


def parse(data: Any) -> tuple[CosignRequest, OccupancyReport, bytes]:
    """The request, its report and the proposer's signature; Refusal(400) naming the field."""
    try:
        request = CosignRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise Refusal(400, "invalid", f"{where}: {first['msg']}") from exc
    report = report_from_message(request.report.model_dump())
    try:
        check_report(report)
    except OccupancyReportError as exc:
        raise Refusal(400, "invalid_report", f"report: {exc}") from exc
    if not is_address(request.proposer):
        raise Refusal(400, "invalid", f"proposer: {request.proposer!r} is not an address")
    text = request.signature
    try:
        signature = bytes.fromhex(text[2:]) if text.startswith("0x") else b""
    except ValueError:
        signature = b""
    if len(signature) != 65:
        raise Refusal(400, "invalid", "signature: must be 0x and 65 bytes of hex (r‖s‖v)")
    return request, report, signature


class CoSigner:
    """Peer checks 2–5 and the signature; its methods run on the daemon's ledger thread."""

    def __init__(
        self, reporter: Reporter, ledger: Ledger, account: LocalAccount, lie: bool = False
    ) -> None:
        self.reporter = reporter
        self.ledger = ledger
        self.account = account
        # TEST-ONLY fault injection (CITYPASS_ORACLE_TEST_FAULT=lie): co-sign anything.
        self.lie = lie

    def authenticate(self, request: CosignRequest, report: OccupancyReport, sig: bytes) -> None:
        chain_id = self.ledger.chain_id()
        if request.chainId != chain_id:
            raise Refusal(
                400, "wrong_chain", f"chainId {request.chainId}: this daemon reports to {chain_id}"
            )
        contract = self.ledger.occupancy.address
        if request.contract.lower() != contract.lower():
            raise Refusal(
                400, "wrong_contract",
                f"contract {request.contract}: this daemon's OccupancyOracle is {contract}",
            )  # fmt: skip
        try:
            signer = recover_signer(report, sig, self.reporter._domain())
        except OccupancyReportError as exc:
            raise Refusal(401, "forged_signature", f"signature: {exc}") from exc
        if signer != to_checksum_address(request.proposer):
            raise Refusal(
                401, "forged_signature",
                f"signature: made by {signer}, not by the proposer {request.proposer}",
            )  # fmt: skip
        if signer not in self.ledger.signers():
            raise Refusal(
                403, "not_a_signer", f"proposer {signer} is not a registered OccupancyOracle signer"
            )
        last = self.ledger.last_sequence()
        if report.sequence <= last:
            raise Refusal(
                409, "old_sequence",
                f"report.sequence {report.sequence}: the chain is at {last}; propose {last + 1}",
            )  # fmt: skip

    def mismatches(self, report: OccupancyReport) -> list[dict[str, Any]]:
        """The report's slots whose value differs from this daemon's own aggregate."""
        if self.lie:
            return []
        self.ledger.refresh_head()
        self.reporter.build(self.ledger.now_ms())
        known = self.reporter.aggregator.slots
        found = []
        for slot, proposed in sorted(report.slot_states().items()):
            state = known.get(slot)
            mine = None if state is None else state.committed
            if mine != proposed:
                found.append({"slot": slot, "proposed": _word(proposed), "mine": _word(mine)})
        return found

    def sign(self, report: OccupancyReport) -> dict[str, Any]:
        signature = sign_report(report, bytes(self.account.key), self.reporter._domain())
        return {
            "signer": self.account.address,
            "sequence": report.sequence,
            "signature": "0x" + signature.hex(),
        }


async def answer(
    data: Any,
    cosigner: CoSigner,
    on_ledger: Callable[..., Awaitable[Any]],
    ready: bool,
    wait_seconds: float,
    metrics: Metrics,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for one co-sign request; `on_ledger` runs a call on the
    daemon's ledger thread."""
    try:
        request, report, signature = parse(data)
        if not ready:
            raise Refusal(503, "unavailable", "the daemon is still loading: retry")
        try:
            await on_ledger(cosigner.authenticate, request, report, signature)
            deadline = time.monotonic() + wait_seconds
            while differing := await on_ledger(cosigner.mismatches, report):
                if time.monotonic() >= deadline:
                    raise Refusal(
                        409, "mismatch",
                        f"report {report.sequence} differs from this daemon's own events on "
                        f"{len(differing)} slot(s), e.g. slot {differing[0]['slot']}: proposed "
                        f"{differing[0]['proposed']}, seen {differing[0]['mine']}",
                        slots=differing[:20],
                    )  # fmt: skip
                await asyncio.sleep(RETRY_SECONDS)
            reply = await on_ledger(cosigner.sign, report)
        except LedgerUnavailable as exc:
            raise Refusal(503, "unavailable", f"{exc}: retry") from exc
    except Refusal as refusal:
        metrics.cosign_refused.labels(refusal.reason).inc()
        log.warning(
            "co-signature refused",
            extra={
                "reason": refusal.reason,
                "why": refusal.message,
                "proposer": data.get("proposer") if isinstance(data, dict) else None,
            },
        )
        return refusal.status, refusal.body()
    metrics.cosigned.inc()
    log.info("co-signed", extra={"sequence": report.sequence, "proposer": request.proposer})
    return 200, reply


def _word(value: bool | None) -> str:
    return "unknown" if value is None else "occupied" if value else "free"
