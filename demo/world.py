"""Build the village on chain: deploy, onboard the vehicles' accounts, register and open the lots
(the shared spaces, then the spaces the village had before sharing)."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from typing import Any

import click
from eth_account import Account

from citypass.chain.deployment import Stakeholders, System, deploy_system
from citypass.core.pilot import VILLAGE_VEHICLES
from citypass.protocol.coarse_location import PERSONAL, on_chain_location
from demo.village import BASE_LOTS, LOTS, LotPlan

STARTING_CREDIT = 100_000  # ₩ each member tops up before the day


@dataclass
class Slot:
    slot_id: int
    lot: LotPlan
    owner: Any
    # A personal space's exact spot (micro-degrees): on chain it has only its coarse cell; its
    # owner gives the spot to her lessees through the API (demo/home_spots.py).
    spot: tuple[int, int] | None = None


@dataclass
class World:
    system: System
    people: Stakeholders
    members: list[Any]
    member_keys: dict[str, bytes]
    slots: list[Slot] = field(default_factory=list)  # the shared spaces, numbered 1…N
    base_spaces: list[Slot] = field(default_factory=list)  # no sharing windows

    def slots_of(self, lot_id: int) -> list[Slot]:
        return [slot for slot in self.slots if slot.lot.lot_id == lot_id]


def deploy_world(containers: Any, signers: list[Any]) -> World:
    """Deploy the contracts for the seven stakeholders (`signers[:7]`, admin first): a village
    with no members and no spaces yet, which the API can already serve."""
    people = Stakeholders(*signers[:7])
    return World(deploy_system(containers, people), people, [], {})


def seed_world(
    world: World,
    accounts: Any,
    technopark_owner: Any,
    rng: random.Random,
    vehicles: int = VILLAGE_VEHICLES,
    share: float = 1.0,
) -> None:
    """Onboard the members (each tops up) and register the shared spaces and the base spaces;
    `share`: the part of each lot's spaces to register (see `scaled`)."""
    system, people = world.system, world.people
    admin = {"from": people.admin}
    # Throwaway keys made for this run only: each stands for one vehicle's wallet.
    with click.progressbar(
        range(vehicles), label="Onboarding member vehicles", file=sys.stderr
    ) as bar:
        for _ in bar:
            local = Account.create(extra_entropy=str(rng.random()))
            member = accounts.add(local.key)
            system.access.onboard(member, admin)
            system.credit.mint(
                member, STARTING_CREDIT, b"top-up".ljust(32, b"\0"), {"from": people.treasury}
            )
            world.members.append(member)
            world.member_keys[member.address] = local.key
    _register_lots(world, technopark_owner, share)
    _register_base_spaces(world, share)


def scaled(count: int, share: float) -> int:
    """`count` cut to `share` of it (at least one): a smaller village and day for quick runs."""
    return count if share >= 1 else max(1, round(count * share))


def _register_lots(world: World, technopark_owner: Any, share: float) -> None:
    system, people = world.system, world.people
    operator = {"from": people.operator}
    # Public and resident-priority space belongs to the city; the Technopark lot to its operator;
    # personal spaces to residents who share them (members of their own).
    city_owner = people.city_fund
    system.access.onboard(technopark_owner, {"from": people.admin})
    total = sum(scaled(lot.spaces, share) for lot in LOTS)
    with click.progressbar(
        length=total, label=f"Registering the {total} shared spaces", file=sys.stderr
    ) as bar:
        for lot in LOTS:
            owners = _owners_for(lot, world, city_owner, technopark_owner)
            for index in range(scaled(lot.spaces, share)):
                owner = owners[index % len(owners)]
                spot = _spot(lot, index)
                registered = system.slots.registerSlot(
                    owner, lot.category, lot.lot_id, *on_chain_location(lot.category, *spot),
                    operator,
                )  # fmt: skip
                slot_id = registered.events["SlotRegistered"]["slotId"]
                system.slots.setWindows(
                    slot_id, [w.as_tuple() for w in lot.windows], {"from": owner}
                )
                if (lot.price_per_30min, lot.overage_per_10min) != (600, 200):
                    system.slots.setTerms(
                        slot_id, lot.price_per_30min, lot.overage_per_10min, {"from": owner}
                    )
                world.slots.append(
                    Slot(slot_id, lot, owner, spot if lot.category == PERSONAL else None)
                )
                bar.update(1)


def _owners_for(lot: LotPlan, world: World, city_owner: Any, technopark_owner: Any) -> list[Any]:
    if lot.owners == 1:
        return [technopark_owner if lot.category == 1 else city_owner]
    # Personal spaces: the first members of the village share their own spaces.
    return world.members[: lot.owners]


def _register_base_spaces(world: World, share: float) -> None:
    """The public and private spaces the village had before sharing: slots without sharing
    windows (never bookable), registered after the shared ones so those stay numbered 1…N as
    the sensor layout expects. Public ones belong to the city, private ones to residents."""
    system, people = world.system, world.people
    operator = {"from": people.operator}
    total = sum(scaled(lot.spaces, share) for lot in BASE_LOTS)
    residents = world.members[::-1]  # other residents than the first, who share their own
    with click.progressbar(
        length=total, label=f"Registering the {total} spaces before sharing", file=sys.stderr
    ) as bar:
        for lot in BASE_LOTS:
            for index in range(scaled(lot.spaces, share)):
                owner = people.city_fund if lot.owners == 1 else residents[index % len(residents)]
                registered = system.slots.registerSlot(
                    owner, lot.category, lot.lot_id,
                    *on_chain_location(lot.category, *_spot(lot, index)), operator,
                )  # fmt: skip
                slot_id = registered.events["SlotRegistered"]["slotId"]
                world.base_spaces.append(Slot(slot_id, lot, owner))
                bar.update(1)


def _spot(lot: LotPlan, index: int) -> tuple[int, int]:
    """Where space `index` of a lot is (micro-degrees): rows of ten, about 1.7 m apart."""
    return lot.lat_e6 + (index % 10) * 15, lot.lon_e6 + (index // 10) * 15
