"""/v1/kpis: the impact KPIs as JSON (what /dashboard draws), each naming its inputs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.explorer.context import ExplorerDep
from api.explorer.kpis import all_kpis

router = APIRouter(prefix="/v1/kpis", tags=["kpis"])

Days = Annotated[
    int, Query(ge=1, le=31, description="KST days (ending today) for the per-hour and per-day KPIs")
]


@router.get("", summary="Impact KPIs: supply ratio, shared spaces, utilisation, incidents, ...")
def kpis(session: SessionDep, explorer: ExplorerDep, days: Days = 7) -> dict[str, Any]:
    """Parking supply ratio before/after sharing, shared spaces, utilisation by hour of day,
    illegal-parking incidents per day (with the pilot's 266 → 156 baseline), revenue per
    stakeholder and valet jobs per worker. Amounts are whole KRW credits."""
    return all_kpis(explorer, session, days)
