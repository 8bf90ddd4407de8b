"""Residents' membership applications: a wallet applies and reads its own (a resident SIWE
session); the village enterprise's staff (VILLAGE_ENTERPRISE or OPERATOR, a staff session) list,
read, approve (the API onboards the address on CityAccess) and reject them with a reason code."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request

from api.applications.onboarder import Onboarder
from api.applications.personal import ApplicationRecord, PersonalFields, purge_free_pages
from api.applications.service import Applications
from api.applications.store import ApplicationStore
from api.applications.tables import create_tables
from api.errors import PermissionDenied, SettingsError
from api.keystore import load_onboarder
from api.retention import open_record_keys, sweep_periodically
from api.schemas.applications import (
    STATUSES,
    ApplicationCreate,
    ApplicationPublic,
    ApplicationsPublic,
    RejectionCreate,
)
from api.settings import ENV_PREFIX, Settings
from api.siwe.deps import SiweDep, WalletSessionDep, require_role
from api.siwe.store import StaffSession
from api.state import AppState
from citypass.core.shredding import KeyTable

log = logging.getLogger("api.applications")

REVIEWERS = ("VILLAGE_ENTERPRISE", "OPERATOR")


def check_auto_approve(settings: Settings) -> None:
    """Auto-approval without the onboarding key is a settings error: nothing would be approved."""
    if settings.auto_approve and not settings.onboarder_keystore_path.exists():
        raise SettingsError(
            f"{ENV_PREFIX}AUTO_APPROVE needs the onboarding key "
            f"{settings.onboarder_keystore_path}: create it with `citypass-api init-onboarder` "
            "and grant it OPERATOR"
        )


def build_applications(state: AppState, keys: KeyTable) -> Applications:
    """The store (its tables created if missing; clear personal fields of older rows sealed)
    and, when its keystore exists, the onboarding key. Auto-approval without that key is a
    settings error: the API would never approve."""
    settings = state.settings
    check_auto_approve(settings)
    create_tables(state.engine)
    fields = PersonalFields(keys)
    with state.engine.begin() as conn:
        sealed = fields.seal_legacy(conn)
    if sealed:
        log.info("sealed the personal fields of older applications", extra={"count": sealed})
        purge_free_pages(state.engine)
    onboarder = None
    if settings.onboarder_keystore_path.exists():
        account = load_onboarder(settings.onboarder_keystore_path, settings.password)
        onboarder = Onboarder(state.ledger, account)
    return Applications(
        ApplicationStore(state.engine, fields), state.ledger, onboarder, settings.auto_approve
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # At start-up, so a missing or locked onboarding key stops the API with one clear error.
    state = app.state.citypass
    keys = open_record_keys(state.settings)
    applications = build_applications(state, keys)
    app.state.applications = applications
    app.state.record_keys = keys
    log.info(
        "applications",
        extra={"onboarder": applications.onboarder_address,
               "auto_approve": applications.auto_approve},
    )  # fmt: skip
    sweeper = asyncio.create_task(
        sweep_periodically(state.settings, state.engine, keys, state.metrics)
    )
    try:
        yield
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
        keys.close()


router = APIRouter(tags=["membership applications"], lifespan=lifespan)


async def get_applications(request: Request) -> Applications:
    return request.app.state.applications


ApplicationsDep = Annotated[Applications, Depends(get_applications)]
ReviewerSession = Annotated[StaffSession, Depends(require_role(*REVIEWERS))]
Status = Literal["PENDING", "APPROVING", "APPROVED", "REJECTED"]
ApplicationPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="application id")]


def application_public(row: ApplicationRecord, notice: str | None = None) -> ApplicationPublic:
    return ApplicationPublic(
        applicationId=row.application_id, address=row.address, status=row.status,
        name=row.name, phone=row.phone, homeAddress=row.home_address,
        personalDeleted=row.personal_deleted,
        submittedAt=int(row.submitted_at),
        decidedAt=int(row.decided_at) if row.decided_at is not None else None,
        decidedVia=row.decided_via, decidedBy=row.decided_by,
        automatic=row.decided_via == "auto", reasonCode=row.reason_code,
        onboardTxHash=row.onboard_tx_hash, onboardBlock=row.onboard_block, notice=notice,
    )  # fmt: skip


def _listed(rows: list[ApplicationRecord]) -> ApplicationsPublic:
    return ApplicationsPublic(applications=[application_public(r) for r in rows])


@router.post(
    "/v1/applications",
    response_model=ApplicationPublic,
    status_code=201,
    summary="Apply to become a member (a resident session); approved at once when the API "
    "auto-approves",
)
def apply(
    body: ApplicationCreate, applications: ApplicationsDep, wallet: WalletSessionDep
) -> ApplicationPublic:
    submitted = applications.apply(wallet.address, body.name, body.phone, body.homeAddress)
    return application_public(submitted.row, submitted.notice)


@router.get(
    "/v1/applications/mine",
    response_model=ApplicationsPublic,
    summary="The signed-in wallet's applications, newest first",
)
def mine(applications: ApplicationsDep, wallet: WalletSessionDep) -> ApplicationsPublic:
    return _listed(applications.store.search(address=wallet.address))


@router.get(
    "/v1/applications/{application_id}",
    response_model=ApplicationPublic,
    summary="One application: to its applicant, or to the reviewing staff",
)
def one(
    applications: ApplicationsDep, siwe: SiweDep, wallet: WalletSessionDep,
    application_id: ApplicationPath,
) -> ApplicationPublic:  # fmt: skip
    row = applications.store.get(application_id)
    if row.address != wallet.address and not siwe.roles.has_any(REVIEWERS, wallet.address):
        raise PermissionDenied(
            f"application {application_id} is not {wallet.address}'s: an application is "
            f"readable by its applicant and by {' or '.join(REVIEWERS)} staff only",
            code="not_your_application",
        )
    return application_public(row)


@router.get(
    "/v1/staff/applications",
    response_model=ApplicationsPublic,
    summary="Applications for review (default: pending), newest first",
)
def listing(
    applications: ApplicationsDep,
    _staff: ReviewerSession,
    status: Annotated[Status, Query(description=" | ".join(STATUSES))] = "PENDING",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ApplicationsPublic:
    return _listed(applications.store.search(status=status, limit=limit))


@router.post(
    "/v1/staff/applications/{application_id}/approve",
    response_model=ApplicationPublic,
    summary="Approve: onboards the applicant on CityAccess with the API's onboarding key",
)
def approve(
    applications: ApplicationsDep, staff: ReviewerSession, application_id: ApplicationPath
) -> ApplicationPublic:
    return application_public(applications.approve(application_id, by=staff.address))


@router.post(
    "/v1/staff/applications/{application_id}/reject",
    response_model=ApplicationPublic,
    summary="Reject with a reason code (nothing goes on chain)",
)
def reject(
    body: RejectionCreate, applications: ApplicationsDep, staff: ReviewerSession,
    application_id: ApplicationPath,
) -> ApplicationPublic:  # fmt: skip
    return application_public(
        applications.reject(application_id, by=staff.address, reason_code=body.reasonCode)
    )
