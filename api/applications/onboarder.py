"""The API's onboarding key sending CityAccess.onboard for approved applicants.

The key holds OPERATOR on CityAccess (the role onboard needs) and nothing else is ever sent
with it. One transaction at a time (a lock), so its nonce needs no bookkeeping. The chain
refuses a second onboarding of an address (CityAccessAlreadyMember); the service checks the
member status first so that refusal is a clear 409 rather than a failed transaction.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from api.errors import Conflict, LedgerUnavailable, OnboarderKeyError
from api.ledger import Ledger
from api.relayer import send_and_wait
from citypass.protocol.reverts import decode_revert, revert_data

log = logging.getLogger("api.applications")

RECEIPT_TIMEOUT_S = 60
GAS_MARGIN = 1.3
MEMBER_STATUS = ("NONE", "ACTIVE", "SUSPENDED")


@dataclass(frozen=True)
class Onboarded:
    tx_hash: str
    block: int


class Onboarder:
    def __init__(self, ledger: Ledger, account: LocalAccount) -> None:
        self._ledger = ledger
        self._account = account  # never logged; only its address is
        self.address = account.address
        self._lock = threading.Lock()

    def onboard(self, address: str) -> Onboarded:
        access = self._ledger.contracts["access"]
        call = access.functions.onboard(address)
        w3 = self._ledger.w3
        with self._lock:
            try:
                gas = int(call.estimate_gas({"from": self.address}) * GAS_MARGIN)
            except Exception as exc:
                raise _refusal(exc, self.address, address) from exc
            tx = call.build_transaction({
                "from": self.address, "gas": gas, "gasPrice": 0, "chainId": self._ledger.chain_id,
                "nonce": w3.eth.get_transaction_count(self.address, "pending"),
            })  # fmt: skip
            signed = self._account.sign_transaction(tx)
            hash_hex, receipt = send_and_wait(
                w3, signed.raw_transaction, RECEIPT_TIMEOUT_S,
                lambda sent: LedgerUnavailable(
                    f"onboarding {address} was sent ({sent}) but not mined in time; read the "
                    "application again shortly",
                    code="onboard_pending",
                ),
            )  # fmt: skip
        if receipt["status"] != 1:
            raise LedgerUnavailable(
                f"onboarding {address} reverted on chain ({hash_hex}); approve it again",
                code="onboard_reverted",
            )
        log.info("onboarded", extra={"account": address, "tx": hash_hex})
        return Onboarded(hash_hex, int(receipt["blockNumber"]))


def member_status(ledger: Ledger, address: str) -> str:
    """NONE, ACTIVE or SUSPENDED on CityAccess now (the chain, not the read model)."""
    try:
        return MEMBER_STATUS[int(ledger.contracts["access"].functions.memberStatus(address).call())]
    except Exception as exc:
        raise LedgerUnavailable(
            f"could not read {address}'s membership on CityAccess; retry later"
        ) from exc


def _refusal(exc: Exception, onboarder: str, address: str) -> Exception:
    name, _args = decode_revert(revert_data(exc))
    if name == "CityAccessAlreadyMember":
        return Conflict(f"{address} is already a member", code="already_member")
    if name == "CityAccessMissingRole":
        return OnboarderKeyError(
            f"the API's onboarding key {onboarder} does not hold OPERATOR on CityAccess (or is "
            "suspended): grant it with `brownie run scripts/grant_role.py`",
            code="onboarder_not_operator",
        )
    return LedgerUnavailable(
        f"onboarding {address} would fail on the ledger ({name}); retry later",
        code="onboard_failed",
    )
