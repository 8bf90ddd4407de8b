"""A home (PERSONAL) space's exact spot and access instructions, kept off chain: on chain the
slot is placed only by its coarse cell (citypass/protocol/coarse_location.py). The owner sets
them with her wallet session; she and the lessee of a confirmed lease read them
(api/record_access.py `spot_lease`); everyone else is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Response
from sqlalchemy.orm import Session

from api.deps import LedgerDep, SessionDep, StateDep
from api.errors import NotFound, PermissionDenied, ValidationFailed
from api.private_spots.store import Spot, SpotStore
from api.private_spots.tables import create_tables
from api.read_model import slot_or_404
from api.record_access import spot_lease
from api.schemas.spots import SpotPublic, SpotUpdate
from api.siwe.deps import WalletSessionDep
from citypass.protocol.coarse_location import GRID_E6, HALF_E6, snap_e6
from indexer import models as m


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    create_tables(app.state.citypass.engine)  # before the first request
    yield


router = APIRouter(prefix="/v1/slots", tags=["home spots"], lifespan=lifespan)

SlotIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="the slot token id")]


async def get_store(state: StateDep) -> SpotStore:
    return SpotStore(state.engine)  # stateless over the engine: cheap per request


StoreDep = Annotated[SpotStore, Depends(get_store)]


def home_slot(session: Session, slot_id: int) -> m.Slot:
    """The slot from the read model: 404 if unknown, 422 unless a PERSONAL (home) space."""
    slot = slot_or_404(session, slot_id)
    if slot.category != "PERSONAL":
        raise ValidationFailed(
            f"slot {slot_id} is a {slot.category} space: its exact location is public on chain "
            f"(GET /v1/slots/{slot_id}); a private spot is kept for PERSONAL (home) spaces only",
            code="not_a_home_space",
        )
    return slot


def _in_cell(field: str, value: float, cell_e6: int) -> int:
    """`value` (degrees) in micro-degrees, if inside the half-open cell around `cell_e6`."""
    value_e6 = round(value * 1_000_000)
    if snap_e6(value_e6) != cell_e6:
        low, high = (cell_e6 - HALF_E6) / 1e6, (cell_e6 + HALF_E6) / 1e6
        raise ValidationFailed(
            f"{field}: {value} lies outside the slot's cell on chain ({field} {low:.4f} up to "
            f"{high:.4f}, the {GRID_E6 / 1e6}° cell centred at {cell_e6 / 1e6:.3f}): give the "
            "space's own spot, or ask the operator to register the space where it is",
            code="spot_outside_cell",
        )
    return value_e6


def spot_public(spot: Spot, slot: m.Slot, lease: m.Lease | None) -> SpotPublic:
    return SpotPublic(
        slotId=spot.slot_id, lat=spot.lat_e6 / 1e6, lon=spot.lon_e6 / 1e6,
        cellLat=slot.lat_e6 / 1e6, cellLon=slot.lon_e6 / 1e6, instructions=spot.instructions,
        updatedAt=int(spot.updated_at), readAs="lessee" if lease else "owner",
        leaseId=lease.lease_id if lease else None, until=lease.end if lease else None,
    )  # fmt: skip


@router.put(
    "/{slot_id}/spot",
    response_model=SpotPublic,
    responses={201: {"model": SpotPublic, "description": "the spot was set for the first time"}},
    summary="The owner sets her home space's exact spot (inside its cell) and instructions",
)
def put_spot(
    body: SpotUpdate, session: SessionDep, store: StoreDep, wallet: WalletSessionDep,
    slot_id: SlotIdPath, response: Response,
) -> SpotPublic:  # fmt: skip
    slot = home_slot(session, slot_id)
    if wallet.address != slot.owner:
        raise PermissionDenied(
            f"{wallet.address} does not own slot {slot_id}: only its owner sets its spot "
            "(sign in with the owner's wallet)",
            code="not_slot_owner",
        )
    lat_e6 = _in_cell("lat", body.lat, slot.lat_e6)
    lon_e6 = _in_cell("lon", body.lon, slot.lon_e6)
    spot, created = store.put(slot_id, lat_e6, lon_e6, body.instructions, owner=slot.owner)
    response.status_code = 201 if created else 200
    return spot_public(spot, slot, None)


@router.get(
    "/{slot_id}/spot",
    response_model=SpotPublic,
    summary="A home space's exact spot and instructions: for its owner and her lessees only",
)
def get_spot(
    session: SessionDep, store: StoreDep, ledger: LedgerDep, wallet: WalletSessionDep,
    slot_id: SlotIdPath,
) -> SpotPublic:  # fmt: skip
    slot = home_slot(session, slot_id)
    lease = spot_lease(session, slot, wallet.address, ledger.now())
    spot = store.get(slot_id)
    # A spot set by an earlier owner of the slot is not handed out for the present one.
    if spot is None or spot.owner != slot.owner:
        raise NotFound(
            f"slot {slot_id}'s owner has not set its exact spot yet: look for the space around "
            f"{slot.lat_e6 / 1e6:.3f}, {slot.lon_e6 / 1e6:.3f} or ask the owner",
            code="spot_not_set",
        )
    return spot_public(spot, slot, lease)
