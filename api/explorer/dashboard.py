"""/dashboard: the KPIs as charts (server-side SVG) with their numbers written on them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.explorer import charts
from api.explorer.context import ExplorerDep
from api.explorer.formatting import short, won
from api.explorer.kpis import all_kpis
from api.explorer.pages import html_errors, render

router = APIRouter(tags=["dashboard"], include_in_schema=False)


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def chart_set(k: dict[str, Any]) -> dict[str, str]:
    supply = k["supply"]
    hours = k["utilisationByHour"]["hours"]
    days = k["illegalParkingPerDay"]["days"]
    seed = k["illegalParkingPerDay"]["seed"]
    revenue = k["revenue"]["byStakeholder"]
    workers = k["valet"]["workers"]
    return {
        "supply": charts.bars(
            "Parking supply ratio (spaces per vehicle)",
            ["before sharing", "after sharing (this ledger)", "pilot 2019 (seed)"],
            [supply["before"], supply["after"], supply["seed"]["after"]],
            [
                _percent(supply["before"]),
                _percent(supply["after"]),
                _percent(supply["seed"]["after"]),
            ],  # fmt: skip
            height=220,
        ),
        "utilisation": charts.bars(
            "Utilisation by hour of day (KST): leased or occupied share of shared slots",
            [f"{h['hour']:02d}" for h in hours],
            [h["utilisation"] for h in hours],
            [_percent(h["utilisation"]) if h["utilisation"] else "" for h in hours],
            colour=charts.PALETTE[2],
        ),
        "incidents": charts.line(
            "Illegal-parking incidents per day",
            [d["day"][5:] for d in days],
            {
                "read model": [d["readModel"] for d in days],
                "on chain (dailyCounts)": [d["chainReported"] for d in days],
            },  # fmt: skip
            {"pilot before": seed["beforePerDay"], "pilot after": seed["afterPerDay"]},
        ),
        "revenue": charts.hbars(
            "Revenue per stakeholder (all time)",
            [r["stakeholder"] for r in revenue],
            [r["earned"] for r in revenue],
            [won(r["earned"]) for r in revenue],
        ),
        "valet": charts.hbars(
            "Valet jobs completed per worker",
            [short(w["worker"]) for w in workers] or ["no valet jobs yet"],
            [w["completed"] for w in workers] or [0],
            [f"{w['completed']} of {w['accepted']} accepted" for w in workers] or ["0"],
        ),
    }


@router.get("/dashboard", response_class=HTMLResponse)
@html_errors
def dashboard(
    request: Request, session: SessionDep, explorer: ExplorerDep,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
) -> HTMLResponse:  # fmt: skip
    kpis = all_kpis(explorer, session, days)
    return render(request, "dashboard.html", k=kpis, charts=chart_set(kpis), days=days)
