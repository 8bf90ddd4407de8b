"""Independent oracle daemons for tests (tests/oracles/test_oracle_quorum.py): n separate
`citypass-oracle run` processes, each with its own key, keystore and data directory, registered
on chain as ORACLE accounts and report signers with quorum k, each configured with the others
as peers. The on-chain calls and the flags are the demo's (demo/oracles.py), as an operator
makes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_account import Account

from citypass.core.net import free_port
from demo.oracles import peer_args, register_oracles
from tests.oracle_helpers import Chain, OracleProcess, wait_until


def start_oracle_set(
    chain: Chain, base: Path, count: int, quorum: int, *, extra_env: dict[str, str] | None = None
) -> list[OracleProcess]:
    """`count` daemons (the first files incidents), peers of each other, at `quorum`."""
    accounts = [chain.people.oracle] + [Account.create() for _ in range(count - 1)]
    register_oracles(chain.system, chain.people.admin, [a.address for a in accounts], quorum)
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


def landed_signers(chain: Chain, sequence: int) -> list[str]:
    """The signer addresses of the report applied with `sequence` (signers_of)."""
    oracle = chain.contract("occupancy")
    logs = oracle.events.OccupancyReported().get_logs(
        from_block=0, argument_filters={"sequence": sequence}
    )
    assert logs, f"no report {sequence} on chain"
    return signers_of(oracle, chain.w3, logs[-1])


def signers_of(oracle: Any, w3: Any, log: Any) -> list[str]:
    """The signer addresses of the report an OccupancyReported `log` records, recovered from
    its transaction's calldata against the contract's own `reportDigest` (independent of the
    daemon's code). `oracle`: the OccupancyOracle as a web3 contract."""
    tx = w3.eth.get_transaction(log["transactionHash"])
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
