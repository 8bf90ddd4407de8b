"""The accounts CityAccess allows now, read over JSON-RPC: the exported accounts allowlist."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from eth_typing import ChecksumAddress
from eth_utils import is_address, keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import Web3Exception

from citypass.core.node_web3 import node_web3
from ledger_node.besu_network import BesuExportError
from ledger_node.config import NodeConfig

RPC_TIMEOUT_SECONDS = 15
# Ledger RPC servers cap eth_getLogs ranges; small windows keep every request acceptable.
LOG_WINDOW_BLOCKS = 5_000

# The CityAccess events that name an account (topic index of the account), and the one view
# that decides membership. tests/ledger_node/test_besu_export.py checks these against the compiled ABI.
ACCOUNT_EVENTS: dict[str, int] = {
    "MemberOnboarded(address,address)": 1,
    "MemberSuspended(address,address,bytes32)": 1,
    "MemberReinstated(address,address)": 1,
    "RoleGranted(bytes32,address,address)": 2,
    "RoleRevoked(bytes32,address,address)": 2,
}
IS_ALLOWED_ABI: list[dict[str, Any]] = [
    {
        "inputs": [{"internalType": "address", "name": "account", "type": "address"}],
        "name": "isAllowed",
        "outputs": [{"internalType": "bool", "name": "", "type": "bool"}],
        "stateMutability": "view",
        "type": "function",
    }
]

T = TypeVar("T")


def current_members(
    config: NodeConfig, rpc_url: str | None, access_address: str | None
) -> tuple[list[str], str]:
    """The accounts CityAccess allows now, and a sentence saying where the list came from."""
    if access_address is None:
        return [], "no CityAccess address was given: authority and validators only"
    if not isinstance(access_address, str) or not is_address(access_address):
        raise BesuExportError(f"--access {access_address!r} is not an address")
    if rpc_url is None:
        return [], "no --rpc-url was given to read CityAccess: authority and validators only"
    access = to_checksum_address(access_address)
    w3 = node_web3(rpc_url, timeout=RPC_TIMEOUT_SECONDS)
    chain_id = _rpc(rpc_url, "read the chain id", lambda: w3.eth.chain_id)
    if chain_id != config.chain_id:
        raise BesuExportError(
            f"--rpc-url {rpc_url} serves chain {chain_id}, but the data directory is chain "
            f"{config.chain_id}: point --rpc-url at this ledger's node"
        )
    head = _rpc(rpc_url, "read the head block", lambda: w3.eth.block_number)
    if not _rpc(rpc_url, "read the CityAccess code", lambda: w3.eth.get_code(access, head)):
        raise BesuExportError(
            f"no contract at --access {access} on chain {chain_id}: check the address"
        )
    candidates = _rpc(rpc_url, "read the CityAccess logs", lambda: _log_accounts(w3, access, head))
    contract = w3.eth.contract(address=access, abi=IS_ALLOWED_ABI)

    def is_allowed(account: str) -> bool:
        return bool(contract.functions.isAllowed(account).call(block_identifier=head))

    allowed = [
        account
        for account in sorted(candidates)
        if _rpc(rpc_url, "call CityAccess.isAllowed", functools.partial(is_allowed, account))
    ]
    return allowed, f"CityAccess {access} at block {head}: {len(allowed)} allowed members"


def _log_accounts(w3: Web3, access: ChecksumAddress, head: int) -> set[str]:
    """Every account a membership or role event ever named; isAllowed() decides which count."""
    topic_index = {"0x" + keccak(text=sig).hex(): index for sig, index in ACCOUNT_EVENTS.items()}
    accounts: set[str] = set()
    for start in range(0, head + 1, LOG_WINDOW_BLOCKS):
        logs = w3.eth.get_logs(
            {
                "address": access,
                "fromBlock": start,
                "toBlock": min(start + LOG_WINDOW_BLOCKS - 1, head),
                "topics": [list(topic_index)],
            }
        )
        for log in logs:
            topics = [Web3.to_hex(topic) for topic in log["topics"]]
            index = topic_index.get(topics[0]) if topics else None
            if index is not None and len(topics) > index:
                accounts.add(to_checksum_address("0x" + topics[index][-40:]))
    return accounts


def _rpc(rpc_url: str, action: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except (requests.RequestException, OSError) as exc:
        raise BesuExportError(
            f"cannot reach --rpc-url {rpc_url} to {action} ({type(exc).__name__}): "
            "start the ledger node or fix the URL"
        ) from exc
    except (Web3Exception, ValueError) as exc:
        raise BesuExportError(f"--rpc-url {rpc_url} failed to {action}: {exc}") from exc
