"""Deploy and wire the CityPass contracts and record their addresses in deployments/<network>.json.

brownie run scripts/deploy.py main --network development
brownie run scripts/deploy.py main as=admin treasury=0x… … --network citypass-local
"""

from __future__ import annotations

import argparse
from typing import Any

from citypass.chain import deployment
from citypass.protocol.contracts import CONTRACT_NAMES

from ._cli.accounts import STAKEHOLDERS
from ._cli.context import Context
from ._cli.deployments import record_state
from ._cli.entry import run_script
from ._cli.errors import CliError, UsageError
from ._cli.output import table
from ._cli.parsing import add_signer, add_verbose, new_parser
from ._cli.reverts import describe_revert, is_revert

_PAYEES = ("treasury", "village-enterprise", "city-fund", "platform", "operator", "oracle")


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "deploy",
        "Deploy CityAccess, CityForwarder, CityCredit, RevenueSplit, ParkingSlots, "
        "LeaseMarket and the mobility contracts (MobilityOperators, TripSettlement, "
        "JourneyClearing, ValetService), wire them, grant the stakeholders their roles, and write "
        "deployments/<network>.json. The signer becomes CITY_ADMIN.",
        examples=(
            "brownie run scripts/deploy.py main --network development",
            "brownie run scripts/deploy.py main force=yes --network development",
            "brownie run scripts/deploy.py main as=admin treasury=treasury "
            "village-enterprise=0x… city-fund=0x… platform=0x… operator=operator "
            "oracle=oracle --network citypass-local",
        ),
    )
    add_signer(parser, "admin", "the deployment (it becomes CITY_ADMIN)")
    for name in _PAYEES:
        parser.add_argument(
            f"--{name}",
            default=name,
            metavar="ACCOUNT",
            help=(
                f"the {name.replace('-', ' ')} account: 0x-address, keystore name, or on "
                f"development an index (default: {name}, i.e. account {STAKEHOLDERS[name]} on "
                f"development or the keystore named {name})"
            ),
        )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing deployments/<network>.json record (also: force=yes)",
    )
    add_verbose(parser)
    return parser


def deploy(args: argparse.Namespace, ctx: Context) -> dict[str, str]:
    network = ctx.network
    path = deployment.deployment_file(network)
    if path.exists() and not args.force:
        raise CliError(
            f"{path} already records a {_record_state(ctx, network)} deployment; pass "
            "force=yes (or --force after `--`) to deploy a new one and replace the record"
        )
    admin = ctx.signer(what="the deployment")
    payees = {name: ctx.address(getattr(args, name.replace("-", "_")), name) for name in _PAYEES}
    house = [payees["village-enterprise"], payees["city-fund"], payees["platform"]]
    if len(set(house)) != 3:
        raise UsageError(
            "the village enterprise, the city fund and the platform must be three different "
            "accounts (their revenue shares are kept apart by address)"
        )
    people = deployment.Stakeholders(
        admin=admin,
        treasury=payees["treasury"],
        village_enterprise=payees["village-enterprise"],
        city_fund=payees["city-fund"],
        platform=payees["platform"],
        operator=payees["operator"],
        oracle=payees["oracle"],
    )
    print(f"deploying CityPass to {network} (chain {ctx.chain_id()}) as {admin.address} …")
    try:
        with ctx.quiet():
            system = deployment.deploy_system(ctx.containers(), people)
    except Exception as exc:
        if is_revert(exc):
            raise CliError(f"the deployment was refused: {describe_revert(exc)}") from exc
        raise
    written = deployment.save_deployment(network, system, ctx.chain_id())
    addresses = system.addresses()
    print(
        table(
            [(key, CONTRACT_NAMES[key], value) for key, value in addresses.items()],
            ("key", "contract", "address"),
        )
    )
    print()
    print(
        table(
            [("admin (CITY_ADMIN)", admin.address)]
            + [(name, address) for name, address in payees.items()],
            ("stakeholder", "address"),
        )
    )
    print(f"\nwrote {written}")
    return addresses


def _record_state(ctx: Context, network: str) -> str:
    state = record_state(deployment.deployment_file(network), ctx.chain_id())
    if state == "stale":
        return "stale (its contracts are not on this chain)"
    if state.startswith("chain "):
        return f"{state} (another chain)"
    return state


def main(*argv: Any) -> Any:
    return run_script(build_parser, deploy, argv)
