"""Gas of OccupancyOracle reports, as one JSON object.

Deploys on a fresh development chain (anvil) and prints:
- report_gas: a report flipping all 256 slots of one word (quorum 1, no market slots, warm:
  the word and its freshness bucket were written before, as on any working day), and
  gas_per_slot_change = report_gas / 256 (goal ≤ 1,000, base transaction cost included);
- report_gas_new_bucket: the same report when it opens a new 30-minute freshness bucket;
- report_gas_2of3: the same flip co-signed by two of three signers;
- market_arrival_gas: one market-slot arrival that checks a lease in.

    python -m bench.oracle_gas

`measure_report_gas(project)` is the library entry point (bench/oracle.py folds it in); it
needs a connected development network.
"""

from __future__ import annotations

from typing import Any

from bench._gas import run_gas_bench
from citypass.chain.deploy_sensors import MARGIN_SECONDS
from citypass.chain.deployment import Stakeholders, deploy_system
from citypass.chain.session import head_time, mine_at
from citypass.core.timeunits import next_local_midnight
from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.occupancy_report import (
    OccupancyReport,
    ReportDomain,
    report_args,
    sign_report_quorum,
    signer_address,
)

GOALS = {"gas_per_slot_change": 1_000}
# Throwaway benchmark keys (never used outside tests and benchmarks).
KEYS = [bytes([n]) * 32 for n in (0x61, 0x62, 0x63)]
ALL = 2**256 - 1
EVEN = int("55" * 32, 16)  # every even bit
ODD = ALL ^ EVEN
WORD = 3  # slots 768..1023
PERSONAL = 3
HOUR = 3600


def measure_report_gas(project: Any) -> dict[str, int]:
    """Deploy a fresh system on the connected development chain and measure report gas."""
    from brownie import accounts, chain

    people = Stakeholders(*accounts[:7])
    system = deploy_system(project, people)
    oracle = system.occupancy
    admin, sender = {"from": people.admin}, {"from": people.oracle}
    for key in KEYS:
        oracle.setSigner(signer_address(key), True, admin)
    oracle.setSigner(people.oracle, False, admin)
    domain = ReportDomain(chain.id, oracle.address)

    def submit(words, masks, values, keys, at=None) -> int:
        report = OccupancyReport(
            oracle.lastSequence() + 1, at or head_time(), tuple(words), tuple(masks), tuple(values)
        )
        signatures = sign_report_quorum(report, keys, domain)
        return oracle.submitReport(report_args(report), signatures, sender).gas_used

    # Start just after a bucket boundary, so the following reports share one bucket.
    day = next_local_midnight(head_time()) + 86400
    mine_at(day + 60)
    one = KEYS[:1]
    submit([WORD], [ALL], [EVEN], one)  # warm-up: the word and its bucket exist
    gas: dict[str, int] = {}
    gas["report_gas"] = submit([WORD], [ALL], [ODD], one)  # all 256 bits flip
    gas["gas_per_slot_change"] = gas["report_gas"] // 256
    mine_at(day + MARGIN_SECONDS + 60)
    gas["report_gas_new_bucket"] = submit([WORD], [ALL], [EVEN], one)
    oracle.setQuorum(2, admin)
    gas["report_gas_2of3"] = submit([WORD], [ALL], [ODD], KEYS[1:])
    oracle.setQuorum(1, admin)

    # One market-slot arrival inside a lease: the report checks the lease in.
    owner, resident = accounts[7], accounts[8]
    for member in (owner, resident):
        system.access.onboard(member, admin)
    system.credit.mint(resident, 1_000_000, b"\x00" * 32, {"from": people.treasury})
    system.credit.approve(system.market, ALL, {"from": resident})
    slot_id = system.slots.registerSlot(
        owner, PERSONAL, 1, 37_503_000, 126_787_000, {"from": people.operator}
    ).return_value
    system.slots.setWindows(slot_id, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
    start = day + 4 * HOUR
    system.market.book(slot_id, start, start + 2 * HOUR, 10**9, {"from": resident})
    word, bit = slot_id >> 8, 1 << (slot_id & 255)
    oracle.setMarketSlots(word, bit, {"from": people.operator})
    mine_at(start + 300)
    gas["market_arrival_gas"] = submit([word], [bit], [bit], one)
    return gas


def main() -> int:
    return run_gas_bench(lambda project, _network: measure_report_gas(project), GOALS)


if __name__ == "__main__":
    raise SystemExit(main())
