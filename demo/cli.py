"""`citypass-demo` / `make demo`: the Sangsalmi village on the ledger node, one simulated day."""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from citypass.chain.session import head_time, silence_transactions
from citypass.core.cli import shown_option
from citypass.core.keystore import LIGHT_KDF_ENV
from citypass.core.pilot import VILLAGE_VEHICLES
from citypass.core.timeunits import (
    DAY_SECONDS,
    day_number,
    day_start,
    kst,
    next_weekday_midnight,
    weekday,
)
from demo import chain_figures
from demo.address_book import fill_address_book
from demo.children import stop_all
from demo.day import plan_day, plan_intruders, run_day
from demo.demand import AFTER, BEFORE, SharedSpace, simulate
from demo.engines import DEMO_WORKDIR, start_anvil, start_ledger_node
from demo.home_spots import share_home_spots
from demo.mobility_day import (
    MobilityResult,
    build_mobility,
    plan_mobility,
    render_mobility,
)
from demo.operators import NETWORK_ID, set_up_operators
from demo.oracles import describe as describe_oracles
from demo.plates import lessees_for_plates, plate_sightings
from demo.sensors import (
    PlateSighting,
    illegal_parking_detections,
    oracle_data_dir,
    run_cameras_only,
    start_sensor_rig,
    street_camera_detections,
)
from demo.serve import start_api, wait_for_interrupt, wait_until_indexed
from demo.summary import render
from demo.witnesses import DemoWitness, save_checkpoint, start_witnesses, wait_until_cosigned
from demo.witnesses import describe as describe_witnesses
from demo.world import World, deploy_world, scaled, seed_world
from edge_oracle.readings import CameraDetection

TUESDAY = 1
HOUR = 3600
_SHARE = (  # --share's help
    "Percent of the village's shared spaces and of the day's demand to simulate, for a smaller "
    "and quicker run; the supply ratio then counts only the spaces seeded."
)


@click.command(
    short_help="Seed the Sangsalmi village on the ledger node and simulate one day.",
    help=(
        "Initialise a ledger node under WORKDIR/demo-node and start it (or, with --engine "
        "anvil, a bare development chain) and deploy the CityPass contracts through its "
        "permission gateway. With the ledger node it then serves at once: the API with its "
        "explorer and dashboard and the indexer, and it hands operators the keys and commands "
        "for their scripts. Meanwhile it seeds the Sangsalmi village (280 shared spaces, the 144 "
        "it had before sharing, about 389 member vehicles), runs the weekday before without "
        "sharing (its illegal parkers seen by street cameras) and then one simulated weekday of "
        "the same demand with sharing: bookings, cancellations, check-ins, overstays and "
        "no-shows, sensors and incidents through an edge oracle and three organisations' "
        "oracle daemons (2 of 3 sign each occupancy report), and the day's mobility (scooter, "
        "car-share and bus trips, journeys with transfer discounts, valet jobs), then prints a summary and keeps serving until "
        "Ctrl-C; on the way out it verifies the node's journal."
    ),
)
@click.option("--seed", default=2019, show_default=True, help="Random seed of the simulated day.")
@shown_option(
    "--vehicles", VILLAGE_VEHICLES, click.IntRange(20, 2000), "Member vehicles to onboard."
)
@click.option("--share", type=click.IntRange(1, 100), default=100, show_default=True, help=_SHARE)
@click.option(
    "--engine",
    type=click.Choice(["node", "anvil"]),
    default="node",
    show_default=True,
    help="node: the permissioned ledger node; anvil: a bare development engine.",
)
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="After the day, serve the API, explorer and dashboard until Ctrl-C (node engine only).",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEMO_WORKDIR,
    show_default=True,
    help="Where the node, sensor and API data of this run go (wiped at the start of a run).",
)
@click.option(
    "--day",
    "simulated_day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The KST weekday (Mon-Fri) to simulate, after the ledger's clock [default: the next "
    "Tuesday]. The last day of a month lets operators close that month (month_end) once the "
    "day is over.",
)
@click.option(
    "--brownie-network",
    default=NETWORK_ID,
    show_default=True,
    help="The brownie network id operators' scripts reach the served node by "
    "(deployments/<id>.json is written for it).",
)
def main(
    seed: int,
    vehicles: int,
    share: int,
    engine: str,
    serve: bool,
    workdir: Path,
    simulated_day: datetime | None,
    brownie_network: str,
) -> None:
    if simulated_day is not None and simulated_day.weekday() >= 5:
        raise click.BadParameter(
            f"{simulated_day:%Y-%m-%d} is a {simulated_day:%A}: choose Monday to Friday",
            param_hint="--day",
        )
    # SIGTERM (a service manager, `timeout`, `kill`) must stop the children as Ctrl-C does:
    # Python's default would end the demo at once and leave the node and daemons running.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # Every key the demo makes is a throwaway (its password file is written beside it): the light
    # scrypt cost, like geth's --lightkdf, for the demo and the daemons it starts (they inherit
    # the environment). A dozen keystores at the full cost took about half a minute of start-up.
    os.environ.setdefault(LIGHT_KDF_ENV, "1")
    rng = random.Random(seed)
    part = share / 100
    started = time.monotonic()
    click.echo(
        f"Starting the {'ledger node' if engine == 'node' else 'development chain'}…", err=True
    )
    chain = start_ledger_node(workdir) if engine == "node" else start_anvil()
    if engine == "node":
        click.echo(
            f"Ledger node JSON-RPC: {chain.keyless_url} (data in {chain.data_dir})", err=True
        )
    silence_transactions()
    serving = engine == "node" and serve
    rig = api = None
    witnesses: list[DemoWitness] = []
    checkpoint = None
    try:
        from brownie import accounts
        from brownie import web3 as brownie_web3

        with _quiet():
            world = deploy_world(chain.project, chain.signers)
        if engine == "node":
            assert chain.data_dir is not None  # the node engine always has a data directory
            # Two other organisations follow the day live: re-execute it and co-sign it.
            with _quiet():
                witnesses = start_witnesses(
                    world.system, world.people.admin, chain.url_for("witness"), chain.data_dir,
                    chain.data_dir.parent / "demo-witnesses", dict(os.environ),
                )  # fmt: skip
            click.echo("\n".join(describe_witnesses(witnesses)), err=True)
        if serving:
            # Serve first: the API, explorer and dashboard follow the village as it is seeded
            # and its day runs, and operators can reach the node at once.
            assert chain.data_dir is not None  # the node engine always has a data directory
            api = start_api(
                world, chain.url_for("api"), _chain_id(), chain.data_dir.parent / "demo-api",
                # The oracle daemon's data (started below): inspectors see and hold its evidence.
                oracle_data_dir(chain.data_dir.parent / "demo-sensors"),
            )  # fmt: skip
            for name, url in api.urls().items():
                click.echo(f"{name + ':':14} {url}")
            keys = _operator_keys(world, chain.signers[7])
            operators = set_up_operators(
                workdir,
                chain.url_for("operators"),
                _chain_id(),
                world.system,
                keys,
                brownie_network,
            )
            click.echo(
                "Residents' membership applications (POST /v1/applications) are approved at "
                "once in this demo."
            )
            click.echo(operators.instructions())
            click.echo(
                f"Serving after {time.monotonic() - started:.0f} s; the village is seeded and "
                "its day simulated live below.",
                err=True,
            )
        with _quiet():
            seed_world(world, accounts, chain.signers[7], rng, vehicles, part)
            day = _day_to_simulate(simulated_day)
            before_day = _weekday_before(day)
            # The same demand met twice (demo/demand.py): the day before without sharing, the
            # demo's day with it; the vehicles are the members onboarded above, in order.
            outcome = simulate(
                len(world.members), len(world.base_spaces), _shared(world), before_day, day, seed
            )
            detections = random.Random(seed + 1)
            if engine == "node":
                # Occupancy and incidents come from sensors through the oracle daemon.
                assert chain.data_dir is not None  # the node engine always has a data directory
                rig = start_sensor_rig(
                    world,
                    chain.url_for("oracle"),
                    _chain_id(),
                    chain.data_dir.parent / "demo-sensors",
                    # Served: the oracle matches cameras' plate tags with the API's vehicles.
                    (api.url, chain.data_dir.parent / "demo-api") if api is not None else None,
                )
                click.echo("\n".join(describe_oracles(rig.oracles)), err=True)
                chain.advance_to(before_day + 5 * HOUR)
                run_cameras_only(
                    rig,
                    illegal_parking_detections(
                        outcome.detections(BEFORE, detections), rig.cameras, seed
                    ),
                    chain.advance_to,
                )
            chain.advance_to(day + 5 * HOUR)
            plans = plan_day(world, day, rng, outcome)
            if rig is not None and api is not None:
                plans += lessees_for_plates(world, day, plans)  # demo/plates.py
            load = Counter(plan.slot.slot_id for plan in plans)
            mobility, moved = (
                build_mobility(world, accounts, rng, parking_load=load),
                MobilityResult(),
            )
            if serving:
                operators.add_key("inspector", mobility.inspector)
                assert api is not None  # serving means the API started
                named = fill_address_book(api.url, world, mobility, chain.signers[7])
                click.echo(f"Address book: {named} organisations named (GET /v1/address-book)",
                           err=True)  # fmt: skip
                homes = share_home_spots(api.url, world)
                click.echo(f"Home spaces: {homes} exact spots and instructions kept off chain "
                           "(GET /v1/slots/ID/spot, owner and lessees only)", err=True)  # fmt: skip
            steps = plan_mobility(world, mobility, day, rng, moved, part)
            intruders: list[Any] = []
            cameras: list[CameraDetection | PlateSighting] = []
            if rig is not None:
                intruders = plan_intruders(world, day, plans, rng, scaled(12, part))
                cameras = [
                    *illegal_parking_detections(
                        outcome.detections(AFTER, detections), rig.cameras, seed + 1
                    ),
                    *street_camera_detections(day, seed, len(world.slots)),
                ]
                if api is not None:
                    # Lessees register vehicles, cameras read their plates (and one
                    # intruder's); only keyed-hash tags leave the edge (demo/plates.py).
                    cameras += plate_sightings(api.url, plans, rig.cameras, seed)
                cameras.sort(key=lambda detection: detection.ts_ms)
            result = run_day(
                world, day, plans, chain.advance_to, rig, intruders, cameras, also=steps
            )
        figures = chain_figures.read(world, day, len(world.slots))
        click.echo(render(world, result, figures))
        click.echo(render_mobility(world, mobility, moved))
        if engine == "node":
            for warning in wait_until_cosigned(
                witnesses, chain.url_for("auditor"), brownie_web3.eth.block_number
            ):
                click.echo(warning, err=True)
            # The auditors' URL carries their token (eth, ledger, ots, debug, trace reads);
            # wallets use the keyless one.
            click.echo(
                f"Ledger node RPC URL: {chain.url_for('auditor')} (auditors' token)   "
                f"data directory: {chain.data_dir}"
            )
            click.echo(f"Wallets' node URL (no token): {chain.keyless_url}")
            assert rig is not None  # the node engine runs the sensors
            click.echo("\n".join(describe_oracles(rig.oracles)))
            click.echo("\n".join(describe_witnesses(witnesses)))
        if serving:
            assert api is not None and rig is not None  # both come with the node engine
            wait_until_indexed(api, "Indexing the rest of the day")
            click.echo(f"Serving the whole stack; logs in {workdir}. Ctrl-C stops.")
            # The node and the API stop the demo if they die; the daemons that resume from
            # their own data are restarted (demo/children.py).
            vital = {"ledger node": chain.process, **api.processes()}
            why = wait_for_interrupt(
                {k: v for k, v in vital.items() if v is not None}, [*rig.daemons, *witnesses]
            )
            click.echo(f"Stopping ({why})…", err=True)
    finally:
        if witnesses:
            # The witnesses' newest co-signed checkpoint, for the auditor's check below.
            assert chain.data_dir is not None  # witnesses run with the node engine
            checkpoint = save_checkpoint(
                chain.url_for("auditor"),
                chain.data_dir.parent / "demo-witnesses" / "checkpoint.json",
            )
        if api is not None:
            api.stop()
        # The sensors' daemons and the witnesses together, before the node they read.
        stop_all([*(rig.daemons if rig is not None else ()), *witnesses])
        chain.stop()
    if engine == "node":
        assert chain.data_dir is not None  # the node engine always has a data directory
        _auditors_check(chain.data_dir, checkpoint)
    click.echo(f"(took {time.monotonic() - started:.0f} s on this machine)", err=True)


def _auditors_check(data_dir: Path, checkpoint: Path | None) -> None:
    """`ledger-node verify` of the node's journal, against the witnesses' newest co-signed
    checkpoint when there is one: the journal must reach it and match it."""
    verify = subprocess.run(
        [sys.executable, "-m", "ledger_node.cli", "verify", "--data-dir", str(data_dir),
         *(("--checkpoint", str(checkpoint)) if checkpoint is not None else ())],
        capture_output=True, text=True,
    )  # fmt: skip
    lines = verify.stdout.strip().splitlines()
    if verify.returncode != 0:
        click.echo("Auditor's check (ledger-node verify): " + (lines or ["?"])[-1])
        click.echo(verify.stderr.strip(), err=True)
        raise SystemExit(1)
    said = [line for line in lines if line.startswith(("verified ", "checkpoint at block"))]
    click.echo("Auditor's check (ledger-node verify): " + "\n  ".join(said or lines[-1:]))


def _day_to_simulate(wanted: datetime | None) -> int:
    """00:00 KST of the day to simulate: the one asked for, or the next Tuesday whose day
    before (simulated without sharing) is still ahead of the ledger's clock."""
    now = head_time()
    if wanted is None:
        day = next_weekday_midnight(now, TUESDAY)
        return day if _weekday_before(day) + 5 * HOUR > now else day + 7 * DAY_SECONDS
    start = day_start(day_number(wanted.date()))
    if _weekday_before(start) + 5 * HOUR <= now:
        raise click.UsageError(
            f"--day {wanted:%Y-%m-%d} is not after the ledger's clock ({kst(now):%Y-%m-%d %H:%M} "
            "KST) with a weekday before it to simulate without sharing: choose a later day"
        )
    return start


def _weekday_before(day: int) -> int:
    """00:00 KST of the weekday before `day` (a Monday's is the Friday)."""
    before = day - DAY_SECONDS
    while weekday(before) >= 5:
        before -= DAY_SECONDS
    return before


def _shared(world: World) -> list[SharedSpace]:
    return [
        SharedSpace(slot.slot_id, tuple(w.as_tuple() for w in slot.lot.windows))
        for slot in world.slots
    ]


def _quiet() -> contextlib.AbstractContextManager:
    """brownie prints every transaction; keep the terminal for progress bars and the summary."""
    return contextlib.redirect_stdout(io.StringIO())


def _operator_keys(world: World, technopark_owner: Any) -> dict[str, Any]:
    """The accounts whose keys the demo hands to operators, by keystore name (the inspector's
    is added once the mobility part of the village exists)."""
    people = world.people
    return {
        "admin": people.admin,
        "treasury": people.treasury,
        "village-enterprise": people.village_enterprise,
        "city-fund": people.city_fund,  # owns the public lots' spaces (slot_terms)
        "operator": people.operator,
        "technopark": technopark_owner,  # owns the Technopark lot's spaces
    }


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _chain_id() -> int:
    from brownie import chain

    return chain.id


if __name__ == "__main__":
    main()
