"""/v1/kpis: the impact KPIs as JSON (what /dashboard draws), each naming its inputs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import SessionDep
from api.explorer.context import ExplorerDep
from api.explorer.kpi_inputs import Day, Days, day_or_latest
from api.explorer.kpis import all_kpis

router = APIRouter(prefix="/v1/kpis", tags=["kpis"])


@router.get("", summary="Impact KPIs: supply ratio, shared spaces, utilisation, incidents, ...")
def kpis(
    session: SessionDep, explorer: ExplorerDep, days: Days = 7, day: Day = None
) -> dict[str, Any]:
    """Every figure as of one block (`asOf`: the read model's indexed block, its time and the
    latest complete KST day), each with its definition: parking supply ratio before/after
    sharing, shared spaces, the chosen day's bookings, the leased share of the shared spaces per
    hour of the chosen day and per day, illegal-parking incidents per day (read model and
    chain), revenue per stakeholder and valet jobs per worker. Amounts are whole KRW credits."""
    return all_kpis(explorer, session, days, day_or_latest(day))
