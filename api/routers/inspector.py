"""Inspectors (SIWE session, INSPECTOR on CityAccess): the incident queue and review actions.

IncidentRegistry does not trust the forwarder (its confirm/dismiss read msg.sender), so a review
is the inspector's own transaction: GET .../transaction answers it unsigned, the inspector's
wallet signs it, POST .../review checks that it is exactly that call by the session's address
and submits it. Nothing else can be sent through this endpoint.

A review says why with a reason code (citypass/protocol/review_reasons.py), never free text
(DESIGN §6); details, where needed, are sealed in the evidence store and only their CID goes on
chain.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Annotated, Literal

from eth_utils import to_checksum_address
from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select
from web3.logs import DISCARD

from api.deps import ClientIpDep, LedgerDep, SessionDep, StateDep
from api.errors import Conflict, LedgerUnavailable, NotFound, PermissionDenied, ValidationFailed
from api.ledger import Ledger
from api.rawtx import decode_raw
from api.read_model import indexed_block
from api.relayer import send_and_wait
from api.schemas.common import hex_bytes
from api.schemas.staff import (
    IncidentPublic,
    IncidentQueuePublic,
    ReviewCreate,
    ReviewPublic,
    UnsignedTransactionPublic,
)
from api.siwe.deps import require_role
from api.siwe.store import StaffSession
from citypass.core.timeunits import day_number, day_start
from citypass.protocol.reverts import decode_revert, revert_data
from citypass.protocol.review_reasons import (
    NEEDS_DETAILS,
    REASONS_FOR,
    ReviewAction,
    ReviewReasonName,
    reason_code,
)
from indexer import models as m
from oracles.evidence import CidError, parse_cid

router = APIRouter(prefix="/v1/inspector", tags=["inspectors (SIWE)"])

InspectorSession = Annotated[StaffSession, Depends(require_role("INSPECTOR"))]
IncidentPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="incident id")]
KINDS = Literal["ILLEGAL_PARKING", "UNAUTHORISED_OCCUPANCY", "ILLEGAL_DUMPING", "JAYWALKING"]
STATUSES = Literal["OPEN", "CONFIRMED", "DISMISSED"]
ACTIONS = tuple(REASONS_FOR)
# Incident struct (contracts/types/SensorTypes.sol): (kind, status, ...); IncidentStatus.OPEN = 1.
INCIDENT_STATUS_FIELD = 1
OPEN = 1
RECEIPT_TIMEOUT = 60


def cid_text(raw_hex: str) -> str | None:
    """The multibase base32 text of a binary CID ('b' + RFC 4648 lower case, unpadded)."""
    if not raw_hex:
        return None
    raw = bytes.fromhex(raw_hex)
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def incident_public(i: m.Incident) -> IncidentPublic:
    return IncidentPublic(
        incidentId=i.incident_id, kind=i.kind, slotId=i.slot_id, lat=i.lat_e6 / 1e6,
        lon=i.lon_e6 / 1e6, observedAt=i.observed_at, confidenceBps=i.confidence_bps,
        status=i.status, evidenceCid=cid_text(i.evidence_cid_hex), contentHash=i.content_hash,
        reviewedBy=i.reviewed_by, reviewReason=i.review_reason,
        reviewDetailsCid=cid_text(i.review_details_cid_hex or ""),
    )  # fmt: skip


@router.get(
    "/incidents",
    response_model=IncidentQueuePublic,
    summary="The incident queue (default: open incidents, oldest first) with evidence CIDs",
)
def queue(
    session: SessionDep,
    _staff: InspectorSession,
    status: STATUSES = "OPEN",
    kind: KINDS | None = None,
    day: Annotated[date | None, Query(description="KST day observed, YYYY-MM-DD")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> IncidentQueuePublic:
    query = select(m.Incident).where(m.Incident.status == status)
    if kind is not None:
        query = query.where(m.Incident.kind == kind)
    if day is not None:
        start = day_start(day_number(day))
        query = query.where(m.Incident.observed_at >= start, m.Incident.observed_at < start + 86400)
    rows = session.scalars(
        query.order_by(m.Incident.observed_at, m.Incident.incident_id).limit(limit)
    )
    return IncidentQueuePublic(
        indexedBlock=indexed_block(session), incidents=[incident_public(i) for i in rows]
    )


def _review_arguments(
    action: ReviewAction, reason: str, details_cid: str | None
) -> tuple[int, bytes]:
    """(reasonCode, detailsCid) for IncidentRegistry.confirm/dismiss, or a 422 naming the field:
    a code that does not fit the action, OTHER without details, a details CID that is not one."""
    if reason not in REASONS_FOR[action]:
        raise ValidationFailed(
            f"reason: {reason} is not a reason to {action}; {action} takes one of "
            f"{', '.join(REASONS_FOR[action])}",
            code="reason_not_for_action",
        )
    if not details_cid:
        if reason in NEEDS_DETAILS:
            raise ValidationFailed(
                f"detailsCid: {reason} needs the CID of the details sealed in the evidence "
                "store; or pick a reason code that says it",
                code="details_required",
            )
        return reason_code(reason), b""
    try:
        binary = parse_cid(details_cid).binary
    except (CidError, ValueError) as exc:  # ValueError: text that is not ASCII
        raise ValidationFailed(
            f"detailsCid: {exc}; give the 'b…' CIDv1 text the evidence store answered",
            code="bad_details_cid",
        ) from exc
    return reason_code(reason), binary


def _open_incident(ledger: Ledger, incident_id: int) -> None:
    """404 for an unknown incident, 409 for a reviewed one (read from the chain, not the read
    model, so a review just mined is not accepted twice)."""
    try:
        incident = ledger.contracts["incidents"].functions.incidentOf(incident_id).call()
    except Exception as exc:
        name, _args = decode_revert(revert_data(exc))
        if name == "IncidentRegistryUnknownIncident":
            raise NotFound(
                f"incident {incident_id} does not exist; list the queue at /v1/inspector/incidents",
                code="unknown_incident",
            ) from exc
        raise LedgerUnavailable(f"could not read incident {incident_id}; retry later") from exc
    if incident[INCIDENT_STATUS_FIELD] != OPEN:
        raise Conflict(
            f"incident {incident_id} was already reviewed; only OPEN incidents can be reviewed",
            code="already_reviewed",
        )


@router.get(
    "/incidents/{incident_id}/transaction",
    response_model=UnsignedTransactionPublic,
    summary="The unsigned IncidentRegistry.confirm/dismiss transaction for the inspector to sign",
)
def review_transaction(
    ledger: LedgerDep,
    staff: InspectorSession,
    incident_id: IncidentPath,
    action: Annotated[ReviewAction, Query(description="confirm or dismiss")],
    reason: Annotated[
        ReviewReasonName,
        Query(
            description="why, as a code: confirm takes "
            f"{', '.join(REASONS_FOR['confirm'])}; dismiss takes {', '.join(REASONS_FOR['dismiss'])}"
        ),
    ],
    details_cid: Annotated[
        str | None,
        Query(
            alias="detailsCid",
            max_length=128,
            description="CIDv1 text ('b…') of details sealed in the evidence store; required "
            "with OTHER",
        ),
    ] = None,
) -> UnsignedTransactionPublic:
    args = [incident_id, *_review_arguments(action, reason, details_cid)]
    _open_incident(ledger, incident_id)
    incidents = ledger.contracts["incidents"]
    call = getattr(incidents.functions, action)(*args)
    w3 = ledger.w3
    try:
        gas = int(call.estimate_gas({"from": staff.address}) * 1.3) + 20_000
    except Exception as exc:
        name, args = decode_revert(revert_data(exc))
        raise ValidationFailed(
            f"{action} of incident {incident_id} would revert with {name}{tuple(args)}",
            code=name,
        ) from exc
    sender = to_checksum_address(staff.address)
    return UnsignedTransactionPublic.model_validate({
        "from": sender, "to": incidents.address,
        "data": incidents.encode_abi(action, args=args),
        "nonce": int(w3.eth.get_transaction_count(sender, "pending")), "gas": gas, "gasPrice": 0,
        "chainId": ledger.chain_id,
    })  # fmt: skip


@router.post(
    "/incidents/{incident_id}/review",
    response_model=ReviewPublic,
    summary="Submit the inspector's signed confirm/dismiss transaction; answers after the receipt",
)
def review(
    body: ReviewCreate,
    ledger: LedgerDep,
    state: StateDep,
    staff: InspectorSession,
    incident_id: IncidentPath,
    ip: ClientIpDep,
) -> ReviewPublic:
    state.ip_limit.take(f"ip:{ip}", f"client {ip}")
    if not body.raw.startswith("0x"):
        raise ValidationFailed(
            "raw must be 0x-hex of a signed transaction", code="bad_raw_transaction"
        )
    try:
        payload = hex_bytes(body.raw)
    except ValueError as exc:
        raise ValidationFailed(
            "raw must be 0x-hex of a signed transaction", code="bad_raw_transaction"
        ) from exc
    tx = decode_raw(payload)
    incidents = ledger.contracts["incidents"]
    if tx.sender != staff.address:
        raise PermissionDenied(
            f"the transaction is signed by {tx.sender}, the session is {staff.address}: sign it "
            "with the signed-in inspector's key",
            code="wrong_signer",
        )
    if tx.to != incidents.address:
        raise PermissionDenied(
            f"this endpoint only submits IncidentRegistry ({incidents.address}) reviews, not "
            f"calls to {tx.to}",
            code="not_allowlisted",
        )
    try:
        function, args = incidents.decode_function_input(tx.data)
    except Exception as exc:
        raise ValidationFailed(
            "the call data is not an IncidentRegistry call; sign the transaction served by "
            f"/v1/inspector/incidents/{incident_id}/transaction",
            code="bad_call",
        ) from exc
    if function.fn_name not in ACTIONS or int(args["incidentId"]) != incident_id:
        raise PermissionDenied(
            f"only confirm/dismiss of incident {incident_id} is accepted here (got "
            f"{function.fn_name} of {args.get('incidentId')})",
            code="not_allowlisted",
        )
    _open_incident(ledger, incident_id)
    state.signer_limit.take(f"signer:{tx.sender}", f"signer {tx.sender}")
    tx_hash, receipt = send_and_wait(
        ledger.w3, payload, RECEIPT_TIMEOUT,
        lambda sent: Conflict(
            f"transaction {sent} was accepted but not mined in time; look it up later",
            code="pending",
        ),
    )  # fmt: skip
    status = "REVERTED"
    for entry in incidents.events.IncidentReviewed().process_receipt(receipt, errors=DISCARD):
        status = ("NONE", "OPEN", "CONFIRMED", "DISMISSED")[entry["args"]["status"]]
    return ReviewPublic(
        incidentId=incident_id, txHash=tx_hash,
        blockNumber=int(receipt["blockNumber"]), status=status, inspector=staff.address,
    )  # fmt: skip
