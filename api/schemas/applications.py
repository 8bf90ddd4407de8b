"""Membership applications: what a resident sends (the minimum the village enterprise needs to
check residence, DESIGN §6: a name, a phone number, the home address in the village; no plate,
no birth date, nothing on chain) and what the applicant and the reviewing staff read back."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

# Column sizes of api/applications/tables.py too.
NAME_MAX = 100
PHONE_MAX = 20
HOME_MAX = 200
REASON_MAX = 32

# Why the village enterprise turned an application down: codes, never free text.
REASON_CODES = (
    "NOT_RESIDENT", "ADDRESS_UNVERIFIED", "PHONE_UNREACHABLE", "DUPLICATE_PERSON", "INCOMPLETE",
    "OTHER",
)  # fmt: skip
STATUSES = ("PENDING", "APPROVING", "APPROVED", "REJECTED")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Korean numbers: 0 then 9-10 digits (010-1234-5678, 02-123-4567), or +82 without the 0.
_PHONE = re.compile(r"^(?:0|\+82)[1-9][0-9]{7,9}$")


def _text(what: str) -> AfterValidator:
    def check(value: str) -> str:
        value = " ".join(value.split())
        if _CONTROL.search(value):
            raise ValueError(f"{what} must not contain control characters")
        if not any(ch.isalnum() for ch in value):
            raise ValueError(f"{what} must contain letters or digits")
        return value

    return AfterValidator(check)


def _phone(value: str) -> str:
    compact = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(compact):
        raise ValueError("must be a Korean phone number such as 010-1234-5678 or +82 10-1234-5678")
    return compact


def _consent(value: bool) -> bool:
    if value is not True:
        raise ValueError(
            "must be true: the village enterprise keeps these data only with the applicant's "
            "consent"
        )
    return value


Phone = Annotated[str, Field(min_length=9, max_length=PHONE_MAX), AfterValidator(_phone)]


class ApplicationCreate(BaseModel):
    model_config = {"extra": "forbid"}

    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX), _text("the name")] = Field(
        description="the applicant's name, as the village enterprise knows residents"
    )
    phone: Phone = Field(
        description="a Korean phone number the village enterprise can call to check residence"
    )
    homeAddress: Annotated[
        str, Field(min_length=5, max_length=HOME_MAX), _text("the home address")
    ] = Field(description="the applicant's home address in the village")
    privacyConsent: Annotated[bool, Field(strict=True), AfterValidator(_consent)] = Field(
        description="must be true: the applicant agrees that the village enterprise keeps "
        "these data off chain to check residence (Personal Information Protection Act)"
    )


class RejectionCreate(BaseModel):
    model_config = {"extra": "forbid"}

    reasonCode: Literal[REASON_CODES] = Field(  # type: ignore[valid-type]
        description=f"why, as a code: {', '.join(REASON_CODES)}"
    )


class ApplicationPublic(BaseModel):
    applicationId: int
    address: str
    status: str = Field(description=" | ".join(STATUSES))
    name: str | None = Field(description="null once the personal fields were deleted")
    phone: str | None = Field(description="null once the personal fields were deleted")
    homeAddress: str | None = Field(description="null once the personal fields were deleted")
    personalDeleted: bool = Field(
        default=False,
        description="the personal fields were deleted at the end of their retention period "
        "(their key destroyed; docs/privacy.md)",
    )
    submittedAt: int = Field(description="unix seconds")
    decidedAt: int | None
    decidedVia: str | None = Field(
        description="staff (a reviewer), auto (CITYPASS_API_AUTO_APPROVE) or onChain (the "
        "address was onboarded another way, e.g. scripts/member.py)"
    )
    decidedBy: str | None = Field(description="the reviewer's address (staff decisions)")
    automatic: bool = Field(description="approved automatically by this API's setting")
    reasonCode: str | None = Field(description="rejections: why")
    onboardTxHash: str | None = Field(description="the CityAccess.onboard transaction it sent")
    onboardBlock: int | None
    notice: str | None = Field(default=None, description="said once, when applying")


class ApplicationsPublic(BaseModel):
    applications: list[ApplicationPublic]
