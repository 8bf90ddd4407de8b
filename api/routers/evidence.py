"""An incident's evidence for the staff who review and audit it (the inspector's journey: the open
incidents with their evidence): the still or clip, read from the oracle daemon's evidence store
(CITYPASS_API_EVIDENCE_DIR, the same host, as for holds), decrypted and checked against the
content hash anchored on chain. Nobody else reads it (DESIGN §6, docs/privacy.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.deps import SessionDep
from api.errors import ApiError, NotFound
from api.routers.inspector import IncidentPath
from api.routers.retention import EvidenceKeysUnavailable, incident_cid
from api.siwe.deps import require_role
from api.siwe.store import StaffSession
from indexer import models as m
from oracles.evidence import EvidenceConfig, EvidenceStore, open_store
from oracles.evidence.errors import EvidenceIntegrityError, EvidenceNotFound, EvidenceShredded

router = APIRouter(tags=["inspector"])
EvidenceReader = Annotated[StaffSession, Depends(require_role("INSPECTOR", "AUDITOR"))]
# What the cameras send (stills, short clips); anything else is served as bytes to download.
MEDIA_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"RIFF", "image/webp"),
)


class EvidenceGone(ApiError, status=410, code="evidence_deleted"):
    """The evidence's data key was destroyed when its retention period ran out."""


class EvidenceUnreadable(ApiError, status=502, code="evidence_unreadable"):
    """The store's object fails its checks: tampered with, sealed under another key, or not the
    object anchored on chain."""


def evidence_store(request: Request) -> EvidenceStore:
    """The oracle daemon's store, opened once. Never created here: the daemon owns the key."""
    state = request.app.state
    store = getattr(state, "evidence_store", None)
    if store is None:
        config = EvidenceConfig.from_env(state.citypass.settings.evidence_dir)
        if not config.key_path.exists():
            raise EvidenceKeysUnavailable(
                f"no evidence key at {config.key_path}: set CITYPASS_API_EVIDENCE_DIR to the "
                "oracle daemon's data directory (the daemon creates its key when it starts)"
            )
        store = state.evidence_store = open_store(config)
    return store


@router.get(
    "/v1/inspector/incidents/{incident_id}/evidence",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "application/octet-stream": {}}}},
    summary="INSPECTOR or AUDITOR: the incident's evidence (still or clip), checked against "
    "the content hash on chain",
)
def evidence(
    session: SessionDep, store: Annotated[EvidenceStore, Depends(evidence_store)],
    _staff: EvidenceReader, incident_id: IncidentPath,
) -> Response:  # fmt: skip
    cid = incident_cid(session, incident_id)
    incident = session.get(m.Incident, incident_id)
    assert incident is not None  # incident_cid answered 404 otherwise
    try:
        data = store.get(cid, expected_hash=bytes.fromhex(incident.content_hash.removeprefix("0x")))
    except EvidenceShredded:
        raise EvidenceGone(
            f"the evidence of incident {incident_id} ({cid}) was deleted when its retention "
            f"period ran out; its deletion record: /v1/retention/deletions?kind=evidence"
        ) from None
    except EvidenceNotFound:
        raise NotFound(
            f"the evidence store has no object {cid} for incident {incident_id}: check that "
            "CITYPASS_API_EVIDENCE_DIR is the oracle daemon's data directory",
            code="evidence_missing",
        ) from None
    except EvidenceIntegrityError as exc:
        raise EvidenceUnreadable(
            f"the evidence of incident {incident_id} ({cid}) fails its check: {exc}"
        ) from None
    media = next((kind for magic, kind in MEDIA_TYPES if data.startswith(magic)), None)
    return Response(
        data,
        media_type=media or "application/octet-stream",
        headers={
            # Personal data: never kept by a browser or a proxy.
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{cid}"',
        },
    )
