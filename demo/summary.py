"""The demo's printed summary: bookings, occupancy by hour (as a bar chart), revenue per
stakeholder read back from the chain, and the impact figures computed from the chain
(demo/impact.py) beside the pilot's."""

from __future__ import annotations

from collections import Counter

from citypass.core.timeunits import day_start, kst
from citypass.core.windows import format_window
from demo.chain_figures import ChainFigures
from demo.day import DayResult
from demo.impact import render_impact
from demo.oracles import ORGANISATIONS, QUORUM
from demo.village import CATEGORY_NAMES, LOTS
from demo.world import World

BAR_WIDTH = 50
STAKEHOLDER_NAMES = {
    "village enterprise": "Village enterprise (상살미사람들)",
    "city fund": "City fund",
    "platform": "Platform",
    "treasury": "Treasury",
    "lot operators": "Lot operators (Technopark)",
    "space owners": "Space owners (residents sharing)",
    "mobility operators": "Mobility operators (fares)",
    "valet workers": "Valet workers (fees)",
}


def won(amount: int) -> str:
    return f"₩{amount:,}"


def render(world: World, result: DayResult, chain: ChainFigures) -> str:
    """`chain`: the figures read back from the chain (demo.chain_figures), as the dashboard
    defines them."""
    lines: list[str] = []
    out = lines.append
    system = world.system
    shared = len(world.slots)
    out("")
    out(f"CityPass Ledger — Sangsalmi village, {kst(result.day):%A %Y-%m-%d} (simulated on chain)")
    out("=" * 78)
    out(
        f"Members (vehicles): {len(world.members)}   shared spaces: {shared}   contracts: {system.market.address} (LeaseMarket)"
    )
    out("")
    out("Shared spaces by kind")
    seeded = Counter(slot.lot.lot_id for slot in world.slots)  # all of each lot unless --share
    for lot in LOTS:
        windows = ", ".join(format_window(w) for w in lot.windows)
        out(
            f"  {lot.name:<36} {CATEGORY_NAMES[lot.category]:<18} {seeded[lot.lot_id]:>4}  {won(lot.price_per_30min)}/30 min  {windows}"
        )
    out("")
    booked_by_kind = Counter(
        CATEGORY_NAMES[p.slot.lot.category] for p in result.plans if p.lease_id
    )
    out(
        f"Residents' bookings: {result.bookings}  ("
        + ", ".join(f"{k} {v}" for k, v in booked_by_kind.most_common())
        + ")"
    )
    cancelled = sum(result.cancellations.values())
    out(
        f"Cancellations: {cancelled} ({', '.join(f'{k} {v}' for k, v in result.cancellations.items()) or 'none'}),"
        f" refunded {won(result.refunds)}"
    )
    out(
        f"No-shows settled: {result.no_shows}   overstays: {result.overstays} (charged {won(result.overstay_charges)}, unpaid {result.overstay_debts})"
    )
    if result.sensor_report:
        out("")
        out(
            f"Sensors → oracles ({QUORUM} of {len(ORGANISATIONS)}) → chain (magnetometers on every "
            f"shared space, AI cameras on the street; {result.intruders} cars parked without a lease)"
        )
        for label, value in result.sensor_report.items():
            out(f"  {label:<40} {value:>6}")
    if result.failures:
        out(f"Refused steps: {sum(result.failures.values())}")
        for reason, count in result.failures.most_common(5):
            out(f"  {count} × {reason}")
    else:
        out("Refused steps: none")
    out("")
    when = f"as of block {chain.block}, {kst(chain.timestamp):%Y-%m-%d %H:%M} KST"
    out(f"Figures read back from the chain, {when} (the dashboard shows the same, as of its block)")
    out(
        f"  Leases booked on {kst(day_start(chain.day)):%Y-%m-%d} (LeaseBooked: the residents' "
        f"and the valet service's): {chain.bookings}"
    )
    out("")
    out("Shared spaces leased by hour (average over the hour; leases not cancelled)")
    peak = max(h["spacesLeased"] for h in chain.leased_by_hour) or 1
    for hour in chain.leased_by_hour:
        bar = "█" * round(hour["spacesLeased"] / peak * BAR_WIDTH)
        out(
            f"  {hour['hour']:02d}:00  {bar:<{BAR_WIDTH}} {hour['spacesLeased']:>7.2f}"
            f"  {hour['utilisation']:6.1%}"
        )
    day_use = chain.leased_over_day
    out(
        f"  leased over the day: {day_use['spacesLeased']:.2f} of {shared} shared spaces on "
        f"average ({day_use['utilisation']:.1%})"
    )
    out("")
    out("Revenue per stakeholder (allocated on chain since the ledger began: RevenueAllocated,")
    out("FareAllocated; earned whether or not claimed yet)")
    total = sum(chain.revenue.values())
    for name, amount in chain.revenue.items():
        share = amount / total if total else 0
        out(f"  {STAKEHOLDER_NAMES.get(name, name):<36} {won(amount):>12}  {share:6.1%}")
    out(f"  {'Total allocated':<36} {won(total):>12}")
    epoch, village, city, platform = system.split.houseBalances()
    out(
        f"  claimable now by the village enterprise {won(village)}, the city fund {won(city)}, "
        f"the platform {won(platform)}"
    )
    out(f"  credits in circulation: {won(system.credit.totalSupply())}")
    out("")
    out(render_impact(world))
    return "\n".join(lines)
