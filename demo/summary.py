"""The demo's printed summary: bookings, occupancy by hour (as a bar chart), revenue per
stakeholder read back from the chain, and the impact figures computed from the chain
(demo/impact.py) beside the pilot's."""

from __future__ import annotations

from collections import Counter

from citypass.core.timeunits import kst
from citypass.core.windows import format_window
from demo.day import DayResult
from demo.impact import render_impact
from demo.village import CATEGORY_NAMES, LOTS
from demo.world import World

BAR_WIDTH = 50


def won(amount: int) -> str:
    return f"₩{amount:,}"


def render(world: World, result: DayResult, more_payees: tuple[tuple[str, int], ...] = ()) -> str:
    """`more_payees`: other account payees of the split (the mobility part's), as (name, claimable)."""
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
        f"Bookings: {result.bookings}  ("
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
            "Sensors → oracle → chain (magnetometers on every shared space, AI cameras on the street;"
            f" {result.intruders} cars parked without a lease)"
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
    out("Occupancy of shared spaces by hour (vehicles parked at half past)")
    peak = max(result.occupancy.values()) or 1
    for moment, count in result.occupancy.items():
        bar = "█" * round(count / peak * BAR_WIDTH)
        out(f"  {kst(moment):%a %H:00}  {bar:<{BAR_WIDTH}} {count:>4}")
    slot_hours = sum(result.occupancy.values())
    out(f"  average extra spaces in use over the day: {slot_hours / 24:.2f}")
    out("")
    out("Revenue per stakeholder (claimable on chain, RevenueSplit)")
    epoch, village, city, platform = system.split.houseBalances()
    owners_total = sum(system.split.accountOf(owner)[3] for owner in {s.owner for s in world.slots})
    total = village + city + platform + owners_total + sum(amount for _, amount in more_payees)
    for name, amount in (
        ("Village enterprise (상살미사람들)", village),
        ("City fund", city),
        ("Space owners (sharers, Technopark)", owners_total),
        ("Platform", platform),
        *more_payees,
    ):
        share = amount / total if total else 0
        out(f"  {name:<36} {won(amount):>12}  {share:6.1%}")
    out(f"  {'Total settled':<36} {won(total):>12}")
    escrow = system.credit.balanceOf(system.split) - total
    out(
        f"  still in escrow (open leases{' and trips' if more_payees else ''}): {won(escrow)}   credits in circulation: {won(system.credit.totalSupply())}"
    )
    out("")
    out(render_impact(world))
    return "\n".join(lines)
