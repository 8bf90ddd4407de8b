"""Retention through the API (docs/api.md "Retention"): the deletion records (AUDITOR: every
kind; INSPECTOR: evidence) and the inspectors' holds on an incident's evidence, which the oracle
daemon's sweep never shreds while held. Holds and evidence deletion records live in the oracle
daemon's evidence key table (CITYPASS_API_EVIDENCE_DIR); the API's own records' in its own."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from api.deps import SessionDep
from api.errors import ApiError, Conflict, PermissionDenied
from api.read_model import row_or_404
from api.retention import EVIDENCE, open_evidence_keys
from api.routers.inspector import IncidentPath, InspectorSession, cid_text
from api.schemas.common import kst_iso
from api.schemas.retention import (
    DELETION_KINDS,
    DeletionPublic,
    DeletionsPublic,
    HoldCreate,
    HoldEventPublic,
    HoldPublic,
    ReleaseCreate,
)
from api.siwe.deps import SiweDep, StaffSessionDep
from citypass.core.shredding import Deletion, KeyTable
from indexer import models as m

router = APIRouter(tags=["retention"])

# Who reads which deletion records: auditors all, inspectors the evidence they review.
READERS = {
    "application": ("AUDITOR",),
    "vehicle": ("AUDITOR",),
    "evidence": ("AUDITOR", "INSPECTOR"),
}


class EvidenceKeysUnavailable(ApiError, status=503, code="evidence_store_unavailable"):
    """The oracle daemon's evidence key table is not where CITYPASS_API_EVIDENCE_DIR says."""


def evidence_keys(request: Request) -> KeyTable:
    state = request.app.state
    keys = getattr(state, "evidence_keys", None)
    if keys is None:
        settings = state.citypass.settings
        keys = open_evidence_keys(settings)
        if keys is None:
            raise EvidenceKeysUnavailable(
                f"no evidence key table under {settings.evidence_dir}: set "
                "CITYPASS_API_EVIDENCE_DIR to the oracle daemon's data directory (the daemon "
                "creates the table when it stores its first evidence)"
            )
        state.evidence_keys = keys
    return keys


EvidenceKeysDep = Annotated[KeyTable, Depends(evidence_keys)]


def deletion_public(d: Deletion) -> DeletionPublic:
    return DeletionPublic(
        seq=d.seq, kind=d.kind, subject=d.subject, deletedAt=kst_iso(int(d.deleted_at)),
        reason=d.reason, rule=d.rule, periodDays=d.period_days, process=d.process,
    )  # fmt: skip


@router.get(
    "/v1/retention/deletions",
    response_model=DeletionsPublic,
    summary="Deletion records of one kind, oldest first (AUDITOR; INSPECTOR for evidence)",
)
def deletions(
    request: Request,
    siwe: SiweDep,
    staff: StaffSessionDep,
    kind: Annotated[Literal[DELETION_KINDS], Query(description=" | ".join(DELETION_KINDS))],  # type: ignore[valid-type]
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="records after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeletionsPublic:
    roles = READERS[kind]
    if not siwe.roles.has_any(roles, staff.address):
        raise PermissionDenied(
            f"{staff.address} may not read the {kind} deletion records: they are for "
            f"{' or '.join(roles)} sessions",
            code="missing_role",
        )
    keys = evidence_keys(request) if kind == EVIDENCE else request.app.state.record_keys
    rows = keys.deletions((kind,), after=after, limit=limit)
    return DeletionsPublic(kind=kind, deletions=[deletion_public(d) for d in rows])


def incident_cid(session: SessionDep, incident_id: int) -> str:
    incident = row_or_404(
        session, m.Incident, incident_id,
        f"incident {incident_id} is not in the read model; list them at /v1/inspector/incidents",
        "unknown_incident",
    )  # fmt: skip
    cid = cid_text(incident.evidence_cid_hex)
    if cid is None:
        raise Conflict(
            f"incident {incident_id} has no evidence object (a sensor-derived incident): "
            "there is nothing to hold",
            code="no_evidence",
        )
    return cid


def hold_public(keys: KeyTable, incident_id: int, cid: str) -> HoldPublic:
    history = keys.hold_history(EVIDENCE, cid)
    deleted = keys.deleted(EVIDENCE, cid)
    return HoldPublic(
        incidentId=incident_id, evidenceCid=cid,
        held=bool(history) and history[-1].action == "hold",
        deleted=deletion_public(deleted) if deleted else None,
        history=[
            HoldEventPublic(action=h.action, by=h.actor, at=kst_iso(int(h.at)),
                            reasonCode=h.reason_code)
            for h in history
        ],
    )  # fmt: skip


@router.get(
    "/v1/inspector/incidents/{incident_id}/hold",
    response_model=HoldPublic,
    summary="Whether the incident's evidence is on hold, its holds and releases, its deletion",
)
def hold_status(
    session: SessionDep, keys: EvidenceKeysDep, _staff: InspectorSession,
    incident_id: IncidentPath,
) -> HoldPublic:  # fmt: skip
    return hold_public(keys, incident_id, incident_cid(session, incident_id))


@router.post(
    "/v1/inspector/incidents/{incident_id}/hold",
    response_model=HoldPublic,
    summary="Put the incident's evidence on hold: the retention sweep keeps it until released",
)
def hold(
    body: HoldCreate, session: SessionDep, keys: EvidenceKeysDep, staff: InspectorSession,
    incident_id: IncidentPath,
) -> HoldPublic:  # fmt: skip
    cid = incident_cid(session, incident_id)
    current = hold_public(keys, incident_id, cid)
    if current.deleted is not None:
        raise Conflict(
            f"the evidence of incident {incident_id} was already deleted (deletion record "
            f"{current.deleted.seq}): there is nothing left to hold",
            code="evidence_deleted",
        )
    if current.held:
        raise Conflict(f"the evidence of incident {incident_id} is already on hold",
                       code="already_held")  # fmt: skip
    keys.set_hold(EVIDENCE, cid, held=True, actor=staff.address, reason_code=body.reasonCode)
    return hold_public(keys, incident_id, cid)


@router.post(
    "/v1/inspector/incidents/{incident_id}/release",
    response_model=HoldPublic,
    summary="Release the hold: the next sweep applies the evidence's retention period again",
)
def release(
    body: ReleaseCreate, session: SessionDep, keys: EvidenceKeysDep, staff: InspectorSession,
    incident_id: IncidentPath,
) -> HoldPublic:  # fmt: skip
    cid = incident_cid(session, incident_id)
    if not hold_public(keys, incident_id, cid).held:
        raise Conflict(f"the evidence of incident {incident_id} is not on hold",
                       code="not_held")  # fmt: skip
    keys.set_hold(EVIDENCE, cid, held=False, actor=staff.address, reason_code=body.reasonCode)
    return hold_public(keys, incident_id, cid)
