"""/dashboard: the KPIs as charts (server-side SVG) with their numbers written on them, each
figure with the block it is as of and its definition."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.explorer import charts
from api.explorer.context import ExplorerDep
from api.explorer.formatting import won
from api.explorer.kpi_inputs import Day, Days, day_or_latest
from api.explorer.kpis import all_kpis
from api.explorer.pages import html_errors, render
from api.explorer.terms import term
from api.i18n.catalog import gettext

router = APIRouter(tags=["dashboard"], include_in_schema=False)


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def chart_set(k: dict[str, Any]) -> dict[str, str]:
    use = k["utilisation"]
    incidents = k["illegalParkingPerDay"]["days"]
    revenue = k["revenue"]["byStakeholder"]
    workers = k["valet"]["workers"]
    return {
        "utilisation-hours": charts.bars(
            gettext("Shared spaces leased, by hour"),
            [f"{h['hour']:02d}" for h in use["hours"]],
            [h["utilisation"] for h in use["hours"]],
            [percent(h["utilisation"]) if h["utilisation"] else "" for h in use["hours"]],
            colour=charts.PALETTE[2],
        ),
        "utilisation-days": charts.bars(
            gettext("Shared spaces leased, by day"),
            [d["day"][5:] for d in use["days"]],
            [d["utilisation"] for d in use["days"]],
            [percent(d["utilisation"]) for d in use["days"]],
            colour=charts.PALETTE[0],
            height=200,
        ),
        "incidents": charts.bars(
            gettext("Illegal parking per day"),
            [d["day"][5:] for d in incidents],
            [d["readModel"] for d in incidents],
            [str(d["readModel"]) for d in incidents],
            colour=charts.PALETTE[4],
        ),
        "revenue": charts.hbars(
            gettext("Revenue per stakeholder"),
            [term(r["stakeholder"]) for r in revenue],
            [r["earned"] for r in revenue],
            [won(r["earned"]) for r in revenue],
        ),
        "valet": charts.hbars(
            gettext("Valet jobs completed per worker"),
            [gettext("worker {rank}").format(rank=w["rank"]) for w in workers]
            or [gettext("no valet jobs yet")],
            [w["completed"] for w in workers] or [0],
            [
                gettext("{done} of {accepted} accepted").format(
                    done=w["completed"], accepted=w["accepted"]
                )
                for w in workers
            ]
            or ["0"],
        ),
    }


@router.get("/dashboard", response_class=HTMLResponse)
@html_errors
def dashboard(
    request: Request, session: SessionDep, explorer: ExplorerDep, days: Days = 7, day: Day = None
) -> HTMLResponse:
    kpis = all_kpis(explorer, session, days, day_or_latest(day))
    impact = {figure["key"]: figure for figure in kpis["impact"]["figures"]}
    jobs_roles = ", ".join(f"{term(role)} {n}" for role, n in impact["jobs"]["counts"].items())
    return render(
        request, "dashboard.html", k=kpis, charts=chart_set(kpis), days=days, impact=impact,
        jobs_roles=jobs_roles,
    )  # fmt: skip
