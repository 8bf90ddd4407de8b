"""Independent oracle daemons for tests (tests/oracles/test_oracle_quorum.py): n separate
`citypass-oracle run` processes, each with its own key, keystore and data directory, registered
on chain as ORACLE accounts and report signers with quorum k, each configured with the others
as peers. The same on-chain calls and flags are what an operator (or the demo) uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from citypass.core.net import free_port
from citypass.protocol.roles import ROLES
from tests.oracle_helpers import Chain, OracleProcess, wait_until


def register_oracles(chain: Chain, accounts: list[LocalAccount], quorum: int) -> None:
    """Each account gets the ORACLE role (it submits) and becomes a report signer; then the
    quorum. `people.oracle`, the deployment's first signer, stays registered only if given."""
    admin = {"from": chain.people.admin}
    occupancy = chain.system.occupancy
    for account in accounts:
        if not chain.contract("access").functions.hasRole(ROLES["ORACLE"], account.address).call():
            chain.system.access.grantRole(ROLES["ORACLE"], account.address, admin)
        if account.address not in occupancy.signers():
            occupancy.setSigner(account.address, True, admin)
    if chain.people.oracle.address not in [a.address for a in accounts]:
        occupancy.setSigner(chain.people.oracle.address, False, admin)
    occupancy.setQuorum(quorum, admin)


def start_oracle_set(
    chain: Chain, base: Path, count: int, quorum: int, *, extra_env: dict[str, str] | None = None
) -> list[OracleProcess]:
    """`count` daemons (the first files incidents), peers of each other, at `quorum`."""
    accounts = [chain.people.oracle] + [Account.create() for _ in range(count - 1)]
    register_oracles(chain, accounts, quorum)
    ports = [free_port() for _ in accounts]
    daemons = []
    for index, (account, port) in enumerate(zip(accounts, ports, strict=True)):
        peers = [f"http://127.0.0.1:{p}" for p in ports if p != port]
        daemon = OracleProcess(chain, base / f"oracle-{index}", port=port, key=bytes(account.key))
        daemon.extra_args = peer_args(peers, incidents=index == 0)
        daemon.env = dict(extra_env or {})
        daemons.append(daemon.start(wait_ready=False))
    for daemon in daemons:
        wait_until(daemon._ready, timeout=60, interval=0.1)
    return daemons


def peer_args(peers: list[str], *, incidents: bool) -> tuple[str, ...]:
    flags: list[str] = []
    for url in peers:
        flags += ["--peer", url]
    flags += ["--cosign-wait-seconds", "1", "--proposer-timeout-seconds", "1.5"]
    return (*flags, "--incidents" if incidents else "--no-incidents")


def landed_signers(chain: Chain, sequence: int) -> list[str]:
    """The signer addresses of the report applied with `sequence`, recovered from its
    transaction's calldata against the contract's own `reportDigest` (independent of the
    daemon's code)."""
    oracle = chain.contract("occupancy")
    logs = oracle.events.OccupancyReported().get_logs(
        from_block=0, argument_filters={"sequence": sequence}
    )
    assert logs, f"no report {sequence} on chain"
    tx = chain.w3.eth.get_transaction(logs[-1]["transactionHash"])
    _fn, args = oracle.decode_function_input(tx["input"])
    report = _struct(args["report"])
    digest = oracle.functions.reportDigest(report).call()
    return [Account._recover_hash(digest, signature=bytes(s)) for s in args["signatures"]]


def _struct(fields: Any) -> tuple:
    if isinstance(fields, dict):
        return tuple(
            fields[k] for k in ("sequence", "observedAt", "wordIndexes", "masks", "values")
        )
    return tuple(fields)


def occupied_bit(chain: Chain, slot: int) -> bool:
    word = chain.contract("occupancy").functions.occupancyWord(slot >> 8).call()
    return bool(word >> (slot & 255) & 1)
