"""The daemon's view of the ledger: contract handles, the clock, and sending transactions from
the ORACLE account (nonce from the chain, gas from an estimate with a margin, gas price 0)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted

from citypass.core.node_web3 import node_web3
from citypass.core.rpc_url import redacted
from citypass.protocol.contracts import ARTIFACTS_DIR
from citypass.protocol.occupancy_report import OccupancyReport, report_from_message
from citypass.protocol.reverts import revert_data, revert_text
from oracles.errors import ConfigError, LedgerUnavailable, SubmissionError
from oracles.evidence.retention import IncidentFacts

GAS_MARGIN = 1.25
RECEIPT_TIMEOUT = 60.0
CONNECTION_ERRORS = (requests.RequestException, ConnectionError, OSError, TimeExhausted)
# IncidentStatus (contracts/types/SensorTypes.sol) and the Incident struct's fields used here.
INCIDENT_STATUSES = ("NONE", "OPEN", "CONFIRMED", "DISMISSED")
STATUS, REVIEWED_AT, CONTENT_HASH = 1, 4, 7


def abi(name: str) -> list[dict[str, Any]]:
    path = ARTIFACTS_DIR / f"{name}.json"
    try:
        return json.loads(path.read_text())["abi"]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path} is missing or invalid: run `brownie compile` first") from exc


class Ledger:
    def __init__(
        self,
        rpc_url: str,
        device_registry: str,
        occupancy_oracle: str,
        incident_registry: str,
        clock: str = "wall",
        lease_market: str = "",
    ) -> None:
        self.w3 = node_web3(rpc_url, timeout=10)
        self.rpc_url = rpc_url
        self.devices = self.w3.eth.contract(
            Web3.to_checksum_address(device_registry), abi=abi("IDeviceRegistry")
        )
        self.occupancy = self.w3.eth.contract(
            Web3.to_checksum_address(occupancy_oracle), abi=abi("IOccupancyOracle")
        )
        self.incidents = self.w3.eth.contract(
            Web3.to_checksum_address(incident_registry), abi=abi("IIncidentRegistry")
        )
        # Only for plate matching (oracles/plates): leases of a slot and check-in.
        self.market = (
            self.w3.eth.contract(Web3.to_checksum_address(lease_market), abi=abi("LeaseMarket"))
            if lease_market
            else None
        )
        self.clock = clock
        self._chain_offset = 0.0  # chain time - wall time, when clock == "chain"
        self.up = False
        self.head_number = 0
        self._chain_id: int | None = None

    # ------------------------------------------------------------------------------ status

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.guard(lambda: int(self.w3.eth.chain_id))
        return self._chain_id

    def refresh_head(self) -> int:
        """Read the head (and, for the chain clock, its time); marks the ledger up or down."""
        block = self.guard(lambda: self.w3.eth.get_block("latest"))
        self.head_number = int(block["number"])
        if self.clock == "chain":
            # Blocks are sealed at wall time + the development clock's offset; keep the largest
            # offset seen so the daemon's clock never runs backwards.
            self._chain_offset = max(self._chain_offset, int(block["timestamp"]) - time.time())
        return self.head_number

    def now_ms(self) -> int:
        return int((time.time() + self._chain_offset) * 1000)

    def guard(self, call: Any) -> Any:
        """Run a read; connection failures become LedgerUnavailable (retried by callers)."""
        try:
            value = call()
        except CONNECTION_ERRORS as exc:
            self.up = False
            raise LedgerUnavailable(
                redacted(f"ledger node {self.rpc_url} unreachable: {exc}")
            ) from exc
        self.up = True
        return value

    def signers(self) -> list[str]:
        """The OccupancyOracle's registered report signers, checksummed."""
        found = self.guard(lambda: self.occupancy.functions.signers().call())
        return [Web3.to_checksum_address(a) for a in found]

    def last_sequence(self) -> int:
        return int(self.guard(lambda: self.occupancy.functions.lastSequence().call()))

    def quorum(self) -> int:
        return int(self.guard(lambda: self.occupancy.functions.quorum().call()))

    def incident_index(self) -> dict[bytes, list[IncidentFacts]]:
        """Every incident's status and review time, by its evidence's content hash (what the
        evidence retention sweep needs; one incidentOf call per incident)."""

        def read() -> dict[bytes, list[IncidentFacts]]:
            found: dict[bytes, list[IncidentFacts]] = {}
            registry = self.incidents.functions
            for incident_id in range(1, int(registry.incidentCount().call()) + 1):
                incident = registry.incidentOf(incident_id).call()
                facts = IncidentFacts(
                    incident_id, INCIDENT_STATUSES[incident[STATUS]], int(incident[REVIEWED_AT])
                )
                found.setdefault(bytes(incident[CONTENT_HASH]), []).append(facts)
            return found

        return self.guard(read)

    # ------------------------------------------------------------------------- transactions

    def send(self, function: Any, account: LocalAccount) -> str:
        """Sign and send a contract call as `account`; returns the tx hash (hex) at once."""

        def build() -> str:
            nonce = self.w3.eth.get_transaction_count(account.address, "pending")
            base = {
                "from": account.address,
                "nonce": nonce,
                "gasPrice": 0,
                "chainId": self.chain_id(),
            }
            try:
                estimate = function.estimate_gas(base)
            except (ContractCustomError, ContractLogicError) as exc:
                data = revert_data(exc)
                reason = revert_text(data) if data else _describe(exc)
                raise SubmissionError(f"the chain refuses the call: {reason}", data or b"") from exc
            tx = function.build_transaction({**base, "gas": int(estimate * GAS_MARGIN) + 50_000})
            signed = account.sign_transaction(tx)
            return "0x" + bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction)).hex()

        return self.guard(build)

    def receipt(self, tx_hash: str, timeout: float = RECEIPT_TIMEOUT) -> dict[str, Any]:
        receipt = self.guard(
            lambda: self.w3.eth.wait_for_transaction_receipt(
                HexStr(tx_hash), timeout=timeout, poll_latency=0.05
            )
        )
        return dict(receipt)

    def find_receipt(self, tx_hash: str) -> dict[str, Any] | None:
        from web3.exceptions import TransactionNotFound

        try:
            return dict(self.guard(lambda: self.w3.eth.get_transaction_receipt(HexStr(tx_hash))))
        except TransactionNotFound:
            return None


def _describe(exc: Exception) -> str:
    data = getattr(exc, "data", None) or getattr(exc, "message", None)
    return f"{exc} {data!r}" if data and str(data) not in str(exc) else str(exc)


@dataclass(frozen=True)
class LandedReport:
    """A report as the chain applied it: the struct and the signatures its transaction carried
    (read back from the calldata), so a daemon can tell whose report won a sequence."""

    report: OccupancyReport
    signatures: tuple[bytes, ...]
    tx_hash: str


def landed_report(ledger: Ledger, sequence: int) -> LandedReport | None:
    """The report applied with `sequence` (its OccupancyReported event, then its transaction's
    calldata), or None if the chain has not applied that sequence."""

    def read() -> LandedReport | None:
        logs = ledger.occupancy.events.OccupancyReported().get_logs(
            from_block=0, argument_filters={"sequence": sequence}
        )
        if not logs:
            return None
        tx_hash = logs[-1]["transactionHash"]
        tx = ledger.w3.eth.get_transaction(tx_hash)
        _fn, args = ledger.occupancy.decode_function_input(tx["input"])
        fields = args["report"]
        # web3 gives the struct as a dict of its fields (or, in older versions, a tuple).
        names = ("sequence", "observedAt", "wordIndexes", "masks", "values")
        values = [fields[n] for n in names] if isinstance(fields, dict) else list(fields)
        report = report_from_message(dict(zip(names, values, strict=True)))
        return LandedReport(
            report, tuple(bytes(s) for s in args["signatures"]), "0x" + bytes(tx_hash).hex()
        )

    return ledger.guard(read)
