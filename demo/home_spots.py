"""Each resident who shares her home space tells the API its exact spot and how to get in, as
she would from the resident app: signed in with her own wallet (SIWE, resident scope), over
HTTP (PUT /v1/slots/{id}/spot). On chain the space has only its coarse cell (docs/privacy.md,
"Where a home space is"); the API hands the spot to her lessees only."""

from __future__ import annotations

import click

from demo.address_book import chain_head, wait_indexed
from demo.world import World
from scripts._cli.api_client import StaffApi, sign_text
from scripts._cli.errors import CliError

# Made-up but typical: a gate code and which space; numbered so each home's text differs.
INSTRUCTIONS = (
    "Gate code {code}. Space {number} is the one by the wall, left of the entrance; "
    "please leave the gate closed."
)


def share_home_spots(api_url: str, world: World) -> int:
    """Every shared home space's owner sets its spot and instructions; answers how many."""
    homes = [slot for slot in world.slots if slot.spot is not None]
    wait_indexed(api_url, chain_head())  # the API checks ownership against its read model
    try:
        for number, slot in enumerate(homes, start=1):
            assert slot.spot is not None  # filtered above; for the type checker
            # The owner is a member's brownie account, holding her key (`private_key`).
            owner = StaffApi.sign_in(
                api_url, slot.owner.address, sign_text(slot.owner), scope="resident"
            )
            lat_e6, lon_e6 = slot.spot
            body = {
                "lat": lat_e6 / 1e6, "lon": lon_e6 / 1e6,
                "instructions": INSTRUCTIONS.format(code=4000 + slot.slot_id, number=number),
            }  # fmt: skip
            owner.call("PUT", f"/v1/slots/{slot.slot_id}/spot", json=body,
                       what=f"set slot {slot.slot_id}'s spot")  # fmt: skip
    except CliError as exc:
        raise click.ClickException(f"sharing the home spaces' spots: {exc}") from exc
    return len(homes)
