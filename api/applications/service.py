"""Applying, approving and rejecting: the membership checks on the chain around the store's
status changes, and the onboarding on approval (at once when CITYPASS_API_AUTO_APPROVE)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from api.applications.onboarder import Onboarder, member_status
from api.applications.personal import ApplicationRecord
from api.applications.store import ApplicationStore, decided_conflict
from api.errors import ApiError, Conflict, OnboarderKeyError
from api.ledger import Ledger

log = logging.getLogger("api.applications")

AUTO_NOTICE = (
    "approved automatically: this API approves every application at once "
    "(CITYPASS_API_AUTO_APPROVE, a demo setting)"
)


@dataclass(frozen=True)
class Submitted:
    row: ApplicationRecord
    notice: str | None


class Applications:
    def __init__(
        self, store: ApplicationStore, ledger: Ledger, onboarder: Onboarder | None,
        auto_approve: bool,
    ) -> None:  # fmt: skip
        self.store = store
        self._ledger = ledger
        self._onboarder = onboarder
        self.auto_approve = auto_approve

    @property
    def onboarder_address(self) -> str | None:
        return self._onboarder.address if self._onboarder else None

    def apply(self, address: str, name: str, phone: str, home_address: str) -> Submitted:
        status = member_status(self._ledger, address)
        if status == "ACTIVE":
            raise Conflict(
                f"{address} is already a CityPass member: there is nothing to apply for; book "
                "and ride with this wallet",
                code="already_member",
            )
        if status == "SUSPENDED":
            raise _suspended(address, "ask the village enterprise to reinstate it rather than "
                             "applying again")  # fmt: skip
        row = self.store.submit(address, name, phone, home_address)
        if not self.auto_approve:
            return Submitted(row, None)
        try:
            return Submitted(self.approve(row.application_id, by=None, via="auto"), AUTO_NOTICE)
        except ApiError as exc:  # stored all the same: staff can still approve it
            log.error("automatic approval failed", extra={"application": row.application_id,
                                                          "error": exc.message})  # fmt: skip
            return Submitted(
                self.store.get(row.application_id),
                f"automatic approval failed ({exc.message}); the application waits for the "
                "village enterprise's review",
            )

    def approve(
        self, application_id: int, *, by: str | None, via: str = "staff"
    ) -> ApplicationRecord:
        """Onboard the applicant on CityAccess and record the approval; 409 for an application
        already decided or being approved, for an address already a member or suspended."""
        row = self.store.get(application_id)
        if row.status not in ("PENDING", "APPROVING"):
            raise decided_conflict(row)
        if self._onboarder is None:
            raise OnboarderKeyError(
                "this API has no onboarding key: create it with `citypass-api init-onboarder`, "
                "grant it OPERATOR and restart the API, or onboard the applicant with "
                "`brownie run scripts/member.py main approve ID`",
                code="no_onboarder",
            )
        address = row.address
        status = member_status(self._ledger, address)
        if status == "SUSPENDED":
            raise _suspended(address, "reinstate it (scripts/member.py reinstate) instead of "
                             "approving; the application stays pending")  # fmt: skip
        if status == "ACTIVE":
            self.store.approved(application_id, via="onChain", by=None, tx_hash=None, block=None)
            raise _onboarded_elsewhere(application_id, address)
        self.store.claim(application_id)
        try:
            done = self._onboarder.onboard(address)
        except Conflict as exc:
            if exc.code != "already_member":
                self.store.release(application_id)
                raise
            # Onboarded another way between our check and our transaction.
            self.store.approved(application_id, via="onChain", by=None, tx_hash=None, block=None)
            raise _onboarded_elsewhere(application_id, address) from exc
        except BaseException:
            self.store.release(application_id)
            raise
        return self.store.approved(
            application_id, via=via, by=by, tx_hash=done.tx_hash, block=done.block
        )

    def reject(self, application_id: int, *, by: str, reason_code: str) -> ApplicationRecord:
        return self.store.reject(application_id, by, reason_code)


def _suspended(address: str, what_to_do: str) -> Conflict:
    return Conflict(f"{address} is a suspended member: {what_to_do}", code="member_suspended")


def _onboarded_elsewhere(application_id: int, address: str) -> Conflict:
    return Conflict(
        f"{address} is already a member (onboarded on chain another way); application "
        f"{application_id} is now marked approved and nothing was sent",
        code="already_member",
    )
