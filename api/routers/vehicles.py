"""Residents' vehicles as keyed-hash plate tags (DESIGN §6, docs/api.md "Vehicles"): a wallet
registers, lists and deletes its own (a resident SIWE session); the oracle daemons (ORACLE on
CityAccess, a wallet session signed with their key) read a lessee's tags of one month to match
what a camera read. The plate is hashed in the request and never stored, logged or answered."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.errors import Conflict, NotFound, ValidationFailed
from api.schemas.common import Address
from api.schemas.vehicles import (
    MonthTag,
    VehicleCreate,
    VehiclePublic,
    VehiclesPublic,
    VehicleTagsPublic,
)
from api.siwe.deps import WalletSessionDep, require_role
from api.siwe.store import StaffSession
from api.vehicles.keys import PlateSecret, load_or_create_secret
from api.vehicles.store import LimitReached, Vehicle, VehicleStore
from api.vehicles.tables import create_tables
from citypass.core.timeunits import month_of
from citypass.protocol.plate_tags import MonthFormatError, check_month, months_from, plate_tag

log = logging.getLogger("api.vehicles")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # At start-up, so an unreadable secret stops the API with one clear error.
    state = app.state.citypass
    create_tables(state.engine)
    app.state.plate_secret = load_or_create_secret(state.settings.data_dir)
    yield


router = APIRouter(tags=["vehicles"], lifespan=lifespan)
VehiclePath = Annotated[int, Path(ge=1, le=2**63 - 1, description="vehicle id")]
OracleSession = Annotated[StaffSession, Depends(require_role("ORACLE"))]


def _store(request: Request) -> VehicleStore:
    # Built on first use: the API's key table is opened by the applications router's lifespan,
    # which may run after this one's.
    state = request.app.state
    store = getattr(state, "vehicles", None)
    if store is None:
        store = state.vehicles = VehicleStore(state.citypass.engine, state.record_keys)
    return store


StoreDep = Annotated[VehicleStore, Depends(_store)]


async def _month_now(request: Request) -> str:
    """The KST month on the ledger's clock (the demo's clock runs ahead of the wall's)."""
    return month_of(await request.app.state.ledger_clock.now())


def _public(vehicle: Vehicle) -> VehiclePublic:
    return VehiclePublic(
        vehicleId=vehicle.vehicle_id,
        registeredAt=int(vehicle.registered_at),
        tags=[MonthTag(month=m, tag=t) for m, t in vehicle.tags.items()],
    )


@router.post(
    "/v1/vehicles",
    response_model=VehiclePublic,
    status_code=201,
    summary="Register a vehicle of the signed-in wallet: its plate's tags for this month and "
    "the next ones are stored, never the plate (200 when the same plate is renewed)",
)
async def register(
    body: VehicleCreate, request: Request, response: Response, store: StoreDep,
    wallet: WalletSessionDep,
) -> VehiclePublic:  # fmt: skip
    settings = request.app.state.citypass.settings
    secret: PlateSecret = request.app.state.plate_secret
    months = months_from(await _month_now(request), settings.plate_months)
    tags = {m: "0x" + plate_tag(secret.month_key(m), body.plate).hex() for m in months}
    try:
        vehicle, created = await run_in_threadpool(
            store.register, wallet.address, tags, settings.max_vehicles
        )
    except LimitReached as exc:
        raise Conflict(
            f"{wallet.address} already has {exc.count} vehicles registered (the most allowed): "
            "delete one first (DELETE /v1/vehicles/{vehicleId})",
            code="too_many_vehicles",
        ) from None
    await run_in_threadpool(store.drop_before, months[0])
    if not created:
        response.status_code = 200
    log.info(
        "vehicle registered" if created else "vehicle renewed",
        extra={"vehicle": vehicle.vehicle_id, "months": len(months)},
    )
    return _public(vehicle)


@router.get(
    "/v1/vehicles",
    response_model=VehiclesPublic,
    summary="The signed-in wallet's vehicles: tags per month only (no plate is kept)",
)
async def mine(request: Request, store: StoreDep, wallet: WalletSessionDep) -> VehiclesPublic:
    await run_in_threadpool(store.drop_before, await _month_now(request))
    vehicles = await run_in_threadpool(store.of, wallet.address)
    return VehiclesPublic(vehicles=[_public(v) for v in vehicles])


@router.delete(
    "/v1/vehicles/{vehicle_id}",
    status_code=204,
    summary="Delete one of the signed-in wallet's vehicles: its data key is destroyed (its tags "
    "shredded) and a deletion record kept",
)
async def remove(vehicle_id: VehiclePath, store: StoreDep, wallet: WalletSessionDep) -> Response:
    if not await run_in_threadpool(store.delete, wallet.address, vehicle_id):
        # The same answer whether the id is unused or someone else's: nothing is revealed.
        raise NotFound(
            f"{wallet.address} has no vehicle {vehicle_id}: GET /v1/vehicles lists yours",
            code="no_such_vehicle",
        )
    log.info("vehicle deleted", extra={"vehicle": vehicle_id})
    return Response(status_code=204)


@router.get(
    "/v1/oracle/vehicle-tags/{address}",
    response_model=VehicleTagsPublic,
    summary="ORACLE only: a lessee's vehicle tags in one KST month, to match a camera's read",
)
async def tags_of(
    address: Annotated[Address, Path(description="the lessee's 0x address")],
    request: Request,
    store: StoreDep,
    _oracle: OracleSession,
    month: Annotated[
        str | None, Query(description="YYYY-MM (KST); default: the ledger's current month")
    ] = None,
) -> VehicleTagsPublic:
    try:
        wanted = check_month(month) if month is not None else await _month_now(request)
    except MonthFormatError as exc:
        raise ValidationFailed(f"month: {exc}", code="validation") from None
    tags = await run_in_threadpool(store.tags_of, address, wanted)
    return VehicleTagsPublic(address=address, month=wanted, tags=tags)
