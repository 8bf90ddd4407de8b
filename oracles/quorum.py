"""Occupancy reports across independent oracle daemons, k of n: the proposer's side.

Each daemon builds its own reports from its own verified events (oracles/reporter.py). With
peers configured, a report reaches the chain only with k signatures (the contract's quorum):

- Turns. The next sequence s = lastSequence()+1 belongs to signer number s mod n of the
  contract's `signers()` sorted by address; a daemon of rank r after it (r = 0 for the owner)
  proposes only once s has been the next sequence for r × proposer_timeout seconds. A proposer
  that is down or refused therefore delays a report by one timeout, never stops it.
- Proposing. The head pending report, its values refreshed from the daemon's current aggregate,
  signed by this daemon, goes to every peer's `POST /v1/peer/cosign` (oracles/cosign.py);
  every valid signature from a registered signer counts. With k of them the proposer submits.
- Settling. When another daemon's report took one of our sequences, the chain's report is
  recorded as confirmed and our slots it did not cover are carried into a fresh report numbered
  after the chain (nothing we saw is dropped; what it covered is not sent twice).

A second submission of the same sequence is refused by the contract
(OccupancyOracleDuplicateReport): harmless, counted as `duplicate`."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from eth_account.signers.local import LocalAccount

from citypass.protocol.occupancy_report import (
    OccupancyReport,
    OccupancyReportError,
    ReportDomain,
    build_report,
    order_signatures,
    recover_signer,
    report_args,
    report_from_message,
    sign_report,
)
from citypass.protocol.reverts import decode_revert
from oracles.aggregate.words import split_by_words
from oracles.errors import SubmissionError
from oracles.inbox import ReportRecord
from oracles.ledger import Ledger, landed_report
from oracles.metrics import Metrics
from oracles.reporter import Reporter

log = logging.getLogger("oracles.quorum")
LOST_RACE = ("OccupancyOracleDuplicateReport", "OccupancyOracleOutOfOrder")


@dataclass(frozen=True)
class Proposal:
    report: OccupancyReport
    signature: bytes
    proposer: str
    domain: ReportDomain
    signers: frozenset[str]
    quorum: int
    record: ReportRecord | None  # the stored report it proposes (None: not ours as stored)

    def body(self) -> dict[str, Any]:
        """What `POST /v1/peer/cosign` takes (docs/oracle-daemon.md, Co-signing protocol)."""
        return {
            "chainId": self.domain.chain_id,
            "contract": self.domain.verifying_contract,
            "proposer": self.proposer,
            "signature": "0x" + self.signature.hex(),
            "report": self.report.message(),
        }


def rank(me: str, signers: list[str], sequence: int) -> int | None:
    """How many turns after the owner of `sequence` this signer comes (None: not a signer)."""
    order = sorted(signers, key=lambda address: int(address, 16))
    if me not in order:
        return None
    return (order.index(me) - sequence) % len(order)


# A service object, compared and hashed by identity; no repr (it holds the submitter key).
@dataclass(eq=False, repr=False)
class QuorumReporter:
    """Runs on the daemon's ledger thread (plan, submit); `collect` is async (peers' HTTP)."""

    reporter: Reporter
    ledger: Ledger
    account: LocalAccount
    metrics: Metrics
    peers: tuple[str, ...]
    proposer_timeout: float
    # TEST-ONLY fault injection (CITYPASS_ORACLE_TEST_FAULT=lie): proposals flip every bit.
    lie: bool = False
    # (next sequence, since when, monotonic)
    _turn: tuple[int, float] | None = field(init=False, default=None)

    # ------------------------------------------------------------------ ledger thread

    def plan(self, now_ms: int) -> Proposal | None:
        """Fold new events, settle what the chain applied, and return our proposal for the
        next sequence if it is our turn."""
        self.ledger.refresh_head()
        self.reporter.build(now_ms)
        on_chain = self.ledger.last_sequence()
        self._settle(on_chain, now_ms)
        pending = self.reporter.inbox.pending_reports()
        if not pending:
            self._turn = None
            return None
        head = pending[0]
        signers = self.ledger.signers()
        mine = rank(self.account.address, signers, head.sequence)
        if mine is None:
            log.warning(
                "this daemon's key is not a registered OccupancyOracle signer: it cannot propose",
                extra={"signer": self.account.address},
            )
            return None
        if self._turn is None or self._turn[0] != head.sequence:
            self._turn = (head.sequence, time.monotonic())
        if time.monotonic() - self._turn[1] < mine * self.proposer_timeout:
            return None
        report = self._refresh(head)
        if self.lie:
            report = _flipped(report)
        domain = self.reporter._domain()
        return Proposal(
            report, sign_report(report, bytes(self.account.key), domain), self.account.address,
            domain, frozenset(signers), self.ledger.quorum(), None if self.lie else head,
        )  # fmt: skip

    def submit(self, proposal: Proposal, signatures: dict[str, bytes]) -> None:
        report = proposal.report
        call = self.ledger.occupancy.functions.submitReport(
            report_args(report), order_signatures(signatures)
        )
        try:
            tx_hash = self.ledger.send(call, self.account)
        except SubmissionError as exc:
            error, _args = decode_revert(exc.data)
            if error not in LOST_RACE:
                raise
            self.metrics.proposals.labels("duplicate").inc()
            log.info(
                "another daemon's report took this sequence", extra={"sequence": report.sequence}
            )
            return
        receipt = self.ledger.receipt(tx_hash)
        if receipt["status"] != 1:
            self.metrics.proposals.labels("reverted").inc()
            log.info("report reverted (raced)", extra={"sequence": report.sequence, "tx": tx_hash})
            return
        self.metrics.proposals.labels("landed").inc()
        if proposal.record is not None:
            self.reporter.mark_confirmed(proposal.record, tx_hash, int(receipt["gasUsed"]))
        log.info(
            "report landed",
            extra={"sequence": report.sequence, "signers": sorted(signatures), "tx": tx_hash},
        )

    def _refresh(self, head: ReportRecord) -> OccupancyReport:
        """The head report with each slot's value as our aggregate has it now (peers compare
        against their current view) and observedAt not before the chain's."""
        stored = report_from_message(head.payload)
        states = self._current(stored.slot_states())
        observed_at = max(stored.observed_at, int(self._chain_observed_at()))
        report = build_report(head.sequence, observed_at, states)
        if report != stored:
            head.payload.update(report.message())
            self.reporter.inbox.report_payload(head.sequence, head.payload)
        return report

    def _settle(self, on_chain: int, now_ms: int) -> None:
        pending = self.reporter.inbox.pending_reports()
        behind = [r for r in pending if r.sequence <= on_chain]
        if not behind:
            return
        landed_records, dropped, carried = [], [], set()
        for record in behind:
            ours = report_from_message(record.payload)
            landed = landed_report(self.ledger, record.sequence)
            if landed is None or landed.report.struct_hash() == ours.struct_hash():
                self.reporter.mark_confirmed(record, landed.tx_hash if landed else None, None)
                continue
            self.metrics.superseded.inc()
            landed_records.append((record.sequence, landed.report.message(), landed.tx_hash))
            dropped.append(record.sequence)
            carried |= set(ours.slot_states()) - set(landed.report.slot_states())
        if not dropped:
            return
        later = [r for r in pending if r.sequence > on_chain]
        times: list[int] = []
        for record in later:
            carried |= set(report_from_message(record.payload).slot_states())
            times += record.payload.get("eventTimesMs", [])
        states = self._current(dict.fromkeys(carried, False))
        observed_at = max(
            [self._chain_observed_at(), *(r.payload["observedAt"] for r in later)], default=1
        )
        observed_at = max(1, min(observed_at, now_ms // 1000), self._chain_observed_at())
        payloads = []
        for sequence, chunk in enumerate(
            split_by_words(states, self.reporter.max_report_words), on_chain + 1
        ):
            payloads.append(
                {**build_report(sequence, observed_at, chunk).message(), "eventTimesMs": times}
            )
            times = []
        self.reporter.inbox.rebase_reports(
            landed_records, dropped + [r.sequence for r in later], payloads
        )
        log.info(
            "another daemon's report took our sequence: slots carried over",
            extra={"sequences": dropped, "carried": len(states), "next": on_chain + 1},
        )

    def _current(self, slots: dict[int, bool]) -> dict[int, bool]:
        """Our aggregate's committed value of each slot (the given value if it has none)."""
        known = self.reporter.aggregator.slots
        return {
            slot: value if known.get(slot) is None or known[slot].committed is None
            else bool(known[slot].committed)
            for slot, value in slots.items()
        }  # fmt: skip

    def _chain_observed_at(self) -> int:
        oracle = self.ledger.occupancy.functions
        return int(self.ledger.guard(lambda: oracle.lastObservedAt().call()))

    # ----------------------------------------------------------------------- async side

    async def collect(self, session: aiohttp.ClientSession, proposal: Proposal) -> dict[str, bytes]:
        """Our signature and every valid one the peers give, by signer address."""
        body = proposal.body()
        answers = await asyncio.gather(
            *(self._ask(session, url, body) for url in self.peers), return_exceptions=True
        )
        signatures = {proposal.proposer: proposal.signature}
        for url, answer in zip(self.peers, answers, strict=True):
            if isinstance(answer, BaseException):
                self.metrics.peer_answers.labels("unreachable").inc()
                log.warning("peer unreachable", extra={"peer": url, "error": str(answer)})
                continue
            status, reply = answer
            if status != 200:
                reason = str(reply.get("error", f"http_{status}"))
                self.metrics.peer_answers.labels(reason).inc()
                log.warning(
                    "peer refused to co-sign",
                    extra={"peer": url, "reason": reason, "why": reply.get("message")},
                )
                continue
            signer = _checked_signature(proposal, reply)
            if signer is None:
                self.metrics.peer_answers.labels("bad_signature").inc()
                log.warning("peer's signature is not valid: ignored", extra={"peer": url})
                continue
            self.metrics.peer_answers.labels("signed").inc()
            signatures[signer] = bytes.fromhex(reply["signature"][2:])
        if len(signatures) < proposal.quorum:
            self.metrics.proposals.labels("no_quorum").inc()
        return signatures

    async def _ask(
        self, session: aiohttp.ClientSession, url: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        async with session.post(url.rstrip("/") + "/v1/peer/cosign", json=body) as reply:
            data = await reply.json(content_type=None)
            return reply.status, data if isinstance(data, dict) else {}


def _checked_signature(proposal: Proposal, reply: dict[str, Any]) -> str | None:
    """The signer of a peer's reply if it is a registered signer's signature of this report."""
    text = reply.get("signature")
    if not isinstance(text, str) or not text.startswith("0x"):
        return None
    try:
        signer = recover_signer(proposal.report, bytes.fromhex(text[2:]), proposal.domain)
    except (ValueError, OccupancyReportError):
        return None
    return signer if signer in proposal.signers else None


def _flipped(report: OccupancyReport) -> OccupancyReport:
    """TEST-ONLY: every observed slot's value inverted (a lying oracle's report)."""
    values = tuple(mask & ~value for mask, value in zip(report.masks, report.values, strict=True))
    return OccupancyReport(
        report.sequence, report.observed_at, report.word_indexes, report.masks, values
    )
