"""Gas used per LeaseMarket operation, as one JSON object.

Deploys on a fresh development chain (anvil), runs a fixed scenario and prints the gas of:
book (typical warm booking), book_with_permit, book_via_forwarder, cancel, check_in,
check_out_settle (on-time check-out and settlement) and claim.

    python bench/gas.py
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account  # noqa: E402

from citypass.chain import disconnect, head_time, load_project, mine_at, silence_transactions  # noqa: E402
from citypass.deployment import Stakeholders, deploy_system  # noqa: E402
from citypass.signing import (  # noqa: E402
    forward_request,
    request_data_tuple,
    sign_forward_request,
    sign_permit,
)
from citypass.timeunits import next_local_midnight  # noqa: E402
from citypass.windows import EVERY_DAY, Window  # noqa: E402

GOALS = {"book": 80_000, "check_out_settle": 70_000}
PERSONAL = 3
MAX_UINT = 2**256 - 1
HOUR = 3600


def main() -> int:
    project, network = load_project()
    silence_transactions()
    try:
        # brownie prints each transaction; keep stdout for the JSON alone.
        with contextlib.redirect_stdout(sys.stderr):
            result = run_scenario(project, network)
    finally:
        disconnect()
    result["goals"] = GOALS
    result["misses"] = {k: result[k] for k, goal in GOALS.items() if result[k] > goal}
    print(json.dumps(result, indent=2))
    return 0


def run_scenario(project, network) -> dict:
    from brownie import accounts, chain

    people = Stakeholders(*accounts[:7])
    system = deploy_system(project, people)
    owner, resident = accounts[7], accounts[8]
    signer = Account.create()  # throwaway key for the permit and the forward request
    signer_account = accounts.add(signer.key)
    operator = {"from": people.operator}
    for member in (owner, resident, signer_account):
        system.access.onboard(member, {"from": people.admin})
        system.credit.mint(member, 1_000_000, b"\x00" * 32, {"from": people.treasury})
    slot_id = system.slots.registerSlot(
        owner, PERSONAL, 1, 37_500_000, 126_780_000, operator
    ).return_value
    system.slots.setWindows(slot_id, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
    system.credit.approve(system.market, MAX_UINT, {"from": resident})

    day = next_local_midnight(head_time())
    mine_at(day - 2 * HOUR)
    gas: dict[str, int] = {}

    def book(start_hour: int, hours: int, who=resident) -> tuple[int, object]:
        start = day + start_hour * HOUR
        tx = system.market.book(slot_id, start, start + hours * HOUR, 10**9, {"from": who})
        return tx.return_value, tx

    # Warm-up: one full lease cycle, so the calendar word, the payees' revenue accounts and the
    # balances exist, as they do on any working day. The figures below are the warm ones.
    warmup, _ = book(0, 1)
    mine_at(day)
    system.market.checkIn(warmup, {"from": resident})
    system.market.checkOut(warmup, {"from": resident})
    lease, tx = book(3, 4)
    gas["book"] = tx.gas_used

    deadline = head_time() + HOUR
    price = 4 * 2 * 600
    sig = sign_permit(
        signer.key,
        token_name="CityPass Credit",
        token_address=system.credit.address,
        chain_id=chain.id,
        owner=signer.address,
        spender=system.market.address,
        value=price,
        nonce=system.credit.nonces(signer.address),
        deadline=deadline,
    )
    start = day + 8 * HOUR
    tx = system.market.bookWithPermit(
        slot_id,
        start,
        start + 4 * HOUR,
        price,
        deadline,
        sig.v,
        sig.r,
        sig.s,
        {"from": signer_account},
    )
    gas["book_with_permit"] = tx.gas_used

    start = day + 13 * HOUR
    data = system.market.book.encode_input(slot_id, start, start + 2 * HOUR, 10**9)
    system.credit.approve(system.market, MAX_UINT, {"from": signer_account})
    request = forward_request(
        signer.address,
        system.market.address,
        bytes.fromhex(data[2:]),
        nonce=system.forwarder.nonces(signer.address),
        deadline=head_time() + HOUR,
    )
    signature = sign_forward_request(
        signer.key, forwarder_address=system.forwarder.address, chain_id=chain.id, request=request
    )
    tx = system.forwarder.execute(
        request_data_tuple(request, signature.signature), {"from": people.operator}
    )
    gas["book_via_forwarder"] = tx.gas_used

    cancel_lease, _ = book(16, 2)
    gas["cancel"] = system.market.cancel(cancel_lease, {"from": resident}).gas_used

    mine_at(day + 3 * HOUR)
    gas["check_in"] = system.market.checkIn(lease, {"from": resident}).gas_used
    mine_at(day + 6 * HOUR)
    gas["check_out_settle"] = system.market.checkOut(lease, {"from": resident}).gas_used
    gas["claim"] = system.split.claim({"from": owner}).gas_used
    return gas


if __name__ == "__main__":
    raise SystemExit(main())
