"""`citypass-demo` / `make demo`: the Sangsalmi village on a fresh development chain."""

from __future__ import annotations

import contextlib
import io
import random
import time

import click

from citypass.chain import disconnect, head_time, load_project, mine_at, silence_transactions
from citypass.demo.day import plan_day, run_day
from citypass.demo.summary import render
from citypass.demo.village import VILLAGE_VEHICLES
from citypass.demo.world import build_world
from citypass.timeunits import next_weekday_midnight

TUESDAY = 1
HOUR = 3600


@click.command(
    short_help="Seed the Sangsalmi village on a development chain and simulate one day.",
    help=(
        "Start a development chain (anvil), deploy the CityPass contracts, seed the Sangsalmi "
        "village (280 shared spaces, about 389 member vehicles), run one simulated weekday of "
        "bookings, cancellations, check-ins, overstays and no-shows, and print a summary."
    ),
)
@click.option("--seed", default=2019, show_default=True, help="Random seed of the simulated day.")
@click.option(
    "--vehicles",
    default=VILLAGE_VEHICLES,
    show_default=True,
    type=click.IntRange(20, 2000),
    help="Member vehicles to onboard.",
)
def main(seed: int, vehicles: int) -> None:
    rng = random.Random(seed)
    started = time.monotonic()
    click.echo("Starting a development chain (anvil) and deploying the contracts…", err=True)
    project, _ = load_project()
    silence_transactions()
    try:
        from brownie import accounts

        # brownie prints every transaction; keep the terminal for progress bars and the summary.
        with contextlib.redirect_stdout(io.StringIO()):
            world = build_world(project, accounts, rng, vehicles)
            day = next_weekday_midnight(head_time(), TUESDAY)
            mine_at(day + 5 * HOUR)
            plans = plan_day(world, day, rng)
            result = run_day(world, day, plans)
        click.echo(render(world, result))
        click.echo(f"(took {time.monotonic() - started:.0f} s on this machine)", err=True)
    finally:
        disconnect()


if __name__ == "__main__":
    main()
