"""Deletion records and evidence holds (docs/api.md "Retention")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# Codes, never free text: a hold's reason is read by auditors and must carry nothing personal.
HOLD_REASONS = ("APPEAL", "COMPLAINT", "INVESTIGATION", "COURT_ORDER")
RELEASE_REASONS = (
    "APPEAL_CLOSED", "COMPLAINT_RESOLVED", "INVESTIGATION_CLOSED", "ORDER_LIFTED", "HELD_IN_ERROR",
)  # fmt: skip
DELETION_KINDS = ("application", "evidence", "vehicle")


class DeletionPublic(BaseModel):
    seq: int = Field(description="the record's number in its table (page with ?after=)")
    kind: str = Field(description=" | ".join(DELETION_KINDS))
    subject: str = Field(
        description="what was deleted: an evidence CID, an application id, a vehicle id, or key:<id> for "
        "a data key that protected nothing (orphan)"
    )
    deletedAt: str = Field(description="ISO 8601, KST")
    reason: str = Field(description="retention | request | orphan")
    rule: str = Field(description="the retention rule, e.g. dismissed_incident")
    periodDays: float | None = Field(description="the retention period applied")
    process: str = Field(description="the process that deleted it: citypass-oracle, citypass-api")


class DeletionsPublic(BaseModel):
    kind: str
    deletions: list[DeletionPublic]


class HoldCreate(BaseModel):
    model_config = {"extra": "forbid"}

    reasonCode: Literal[HOLD_REASONS] = Field(  # type: ignore[valid-type]
        description=f"why, as a code: {', '.join(HOLD_REASONS)}"
    )


class ReleaseCreate(BaseModel):
    model_config = {"extra": "forbid"}

    reasonCode: Literal[RELEASE_REASONS] = Field(  # type: ignore[valid-type]
        description=f"why, as a code: {', '.join(RELEASE_REASONS)}"
    )


class HoldEventPublic(BaseModel):
    action: str = Field(description="hold | release")
    by: str = Field(description="the inspector's address")
    at: str = Field(description="ISO 8601, KST")
    reasonCode: str


class HoldPublic(BaseModel):
    incidentId: int
    evidenceCid: str
    held: bool
    deleted: DeletionPublic | None = Field(description="the evidence's deletion record, if any")
    history: list[HoldEventPublic]
