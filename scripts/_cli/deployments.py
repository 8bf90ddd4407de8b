"""The recorded deployment (deployments/<network>.json), checked against the connected chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils import is_hex_address

from citypass.chain import deployment

from .errors import CliError, one_line


def record_state(path: Path, chain_id: int) -> str:
    """'missing', 'unreadable', 'chain N' (another chain), 'stale' (no code) or 'live'."""
    if not path.exists():
        return "missing"
    try:
        record = json.loads(path.read_text())
        recorded_chain = record.get("chainId")
        addresses = list(record["contracts"].values())
    except (ValueError, KeyError, AttributeError, TypeError):
        return "unreadable"
    if recorded_chain is not None and int(recorded_chain) != int(chain_id):
        return f"chain {recorded_chain}"
    if not all(is_hex_address(str(a)) and has_code(str(a)) for a in addresses):
        return "stale"
    return "live"


def has_code(address: str) -> bool:
    from brownie import web3

    return len(web3.eth.get_code(address)) > 0


def stale_message(path: Path, network: str) -> str:
    hint = ""
    if network == "development":
        hint = (
            " (every `brownie run --network development` starts a fresh chain unless an anvil "
            "already listens on its port; see docs/operator-scripts.md)"
        )
    return (
        f"the contracts recorded in {path} are not on the {network} chain{hint}; "
        f"redeploy with `brownie run scripts/deploy.py main force=yes --network {network}`"
    )


def load_live_system(containers: Any, network: str, chain_id: int) -> deployment.System:
    """The recorded contracts of `network`; CliError unless they are all on this chain."""
    path = deployment.deployment_file(network)
    state = record_state(path, chain_id)
    if state.startswith("chain "):
        raise CliError(
            f"{path} was written for {state} but {network} is chain {chain_id}; "
            "check --network or redeploy with scripts/deploy.py force=yes"
        )
    if state == "stale":
        raise CliError(stale_message(path, network))
    from brownie.exceptions import ContractNotFound

    try:
        return deployment.load_deployment(containers, network)
    except ContractNotFound as exc:  # a recorded address holds no contract (checked just above,
        # so only if the chain changed meanwhile); anything else is not a mismatch and says so
        raise CliError(
            f"{path} does not match the chain ({one_line(str(exc))}); "
            "redeploy with scripts/deploy.py force=yes"
        ) from exc
