"""The shape of an exported Besu QBFT network: its constants, nodes, genesis and result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys import keys

from ledger_node.config import NodeConfig

# Re-exported: the besu_* modules and their callers take it from here.
from ledger_node.errors import BesuExportError as BesuExportError

if TYPE_CHECKING:
    from ledger_node.besu_state import ChainState

# QBFT tolerates f faulty validators only with n >= 3f + 1, so fewer than 4 tolerate none: the
# export refuses them (one organisation's outage would stop the chain).
BFT_MIN_VALIDATORS = 4
MIN_VALIDATORS = BFT_MIN_VALIDATORS
MAX_VALIDATORS = 32
# The organisations of DESIGN.md §6b, in this order, for the default 4 validators (f = 1).
ORGANISATIONS = ("city", "village enterprise", "mobility operator", "audit office")

# Besu's BFT mix hash ("ctical byzantine fault tolerance"), required in IBFT 2.0 / QBFT genesis.
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
EPOCH_LENGTH = 30_000
REQUEST_TIMEOUT_SECONDS = 4

P2P_BASE_PORT = 30303
# Above the embedded node's 8545, so both can run on one machine during a migration.
RPC_BASE_PORT = 8645
RPC_APIS = ["ETH", "NET", "QBFT", "WEB3"]
HOST_ALLOWLIST = ["localhost", "127.0.0.1"]
NODE_HOST = "127.0.0.1"

GENESIS_FILE = "genesis.json"
MIGRATION_FILE = "migration.json"
README_FILE = "README.md"
KEYSTORE_FILE = "keystore.json"
CONFIG_FILE = "config.toml"
PERMISSIONS_FILE = "permissions_config.toml"
DATA_DIR = "data"
RAW_KEY_FILE = "key"
PASSWORD_ENV = "BESU_KEYSTORE_PASSWORD"

# The contracts are compiled for evm_version prague, but Prague adds no opcode: Cancun (PUSH0,
# MCOPY, TSTORE) is enough to run them. Prague itself is left off because Besu then refuses
# blocks unless the EIP-7002/7251 system contracts are deployed in the genesis.
EVM_MILESTONES: dict[str, int] = {
    "berlinBlock": 0,
    "londonBlock": 0,
    "shanghaiTime": 0,
    "cancunTime": 0,
}

# A shell function (POSIX sh) that decrypts node-i/keystore.json into node-i/data/key, the raw
# key file Besu reads, readable by its owner only. The README shows it; the tests run it.
DECRYPT_FUNCTION = (
    "besu_key() { (umask 077 && python3 -c 'import getpass, json, os, sys; "
    "from eth_account import Account; "
    "key = Account.decrypt(json.load(open(sys.argv[1])), "
    f'os.environ.get("{PASSWORD_ENV}") or getpass.getpass("keystore password: ")); '
    'open(sys.argv[2], "w").write("0x" + bytes(key).hex())\' '
    f'"$1/{KEYSTORE_FILE}" "$1/{DATA_DIR}/{RAW_KEY_FILE}"); }}'
)


@dataclass(frozen=True)
class ExportedNode:
    index: int
    organisation: str
    address: str
    enode: str
    directory: Path
    keystore: Path
    config: Path
    permissions: Path
    p2p_port: int
    rpc_port: int

    @property
    def name(self) -> str:
        return self.directory.name


@dataclass(frozen=True)
class ExportResult:
    out: Path
    genesis: Path
    migration: Path
    readme: Path
    extra_data: str
    nodes: list[ExportedNode]
    allowlist: list[str]
    allowlist_source: str
    state: ChainState

    @property
    def validators(self) -> list[str]:
        return [node.address for node in self.nodes]

    def summary(self) -> list[str]:
        """Lines for the CLI: the state and its roots, one line per node, the allowlist."""
        state = self.state
        lines = [
            f"state at block {state.number} 0x{state.block_hash.hex()}: "
            f"{len(state.alloc)} accounts",
            f"state root of block {state.number}:      0x{state.state_root.hex()}",
            f"recomputed from the exported state: 0x{state.recomputed_root.hex()} (equal)",
            f"genesis state root (alloc):         0x{state.genesis_root.hex()}"
            + _zero_slot_note(state.zero_slots),
            f"journal hash at block {state.number}: 0x{state.journal_hash.hex()}",
        ]
        lines.extend(
            f"{node.name}: {node.organisation}, validator {node.address}, "
            f"p2p {node.p2p_port}, rpc {node.rpc_port}"
            for node in self.nodes
        )
        lines.append(
            f"accounts allowlist: {len(self.allowlist)} accounts ({self.allowlist_source})"
        )
        return lines


def _zero_slot_note(zero_slots: int) -> str:
    if not zero_slots:
        return ""
    return (
        f" ({zero_slots} zero-valued slots the engine keeps are left out, as Ethereum's state "
        "does; see docs/besu-migration.md)"
    )


@dataclass(frozen=True)
class Validator:
    """A new validator key and its enode id (held in memory only; written encrypted)."""

    account: LocalAccount
    enode_id: str


def new_validator() -> Validator:
    account = Account.create()
    # The enode id is the 64-byte uncompressed public key without its 0x04 prefix.
    enode_id = keys.PrivateKey(account.key).public_key.to_bytes().hex()
    return Validator(account, enode_id)


def plan_node(out: Path, position: int, organisation: str, validator: Validator) -> ExportedNode:
    index = position + 1
    directory = out / f"node-{index}"
    p2p_port = P2P_BASE_PORT + position
    return ExportedNode(
        index=index,
        organisation=organisation,
        address=validator.account.address,
        enode=f"enode://{validator.enode_id}@{NODE_HOST}:{p2p_port}",
        directory=directory,
        keystore=directory / KEYSTORE_FILE,
        config=directory / CONFIG_FILE,
        permissions=directory / PERMISSIONS_FILE,
        p2p_port=p2p_port,
        rpc_port=RPC_BASE_PORT + position,
    )


def besu_genesis(
    config: NodeConfig, ledger_genesis: dict[str, Any], extra_data: str, state: ChainState
) -> dict[str, Any]:
    """The Besu QBFT genesis: the ledger's chain id and gas limit, zero base fee, and the state
    of the export block (its accounts as `alloc`, its timestamp)."""
    return {
        "config": {
            "chainId": config.chain_id,
            **EVM_MILESTONES,
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": block_period_seconds(config.block_period),
                "epochlength": EPOCH_LENGTH,
                "requesttimeoutseconds": REQUEST_TIMEOUT_SECONDS,
            },
        },
        "nonce": "0x0",
        "timestamp": hex(state.timestamp),
        "extraData": extra_data,
        "gasLimit": ledger_genesis.get("gasLimit", hex(config.gas_limit)),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": "0x0",
        "alloc": state.alloc,
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": "0x" + "00" * 32,
    }


def block_period_seconds(block_period: float) -> int:
    """Besu counts whole seconds and needs at least 1; the ledger may seal faster or on demand."""
    return max(1, math.ceil(block_period))


def default_organisations(count: int) -> list[str]:
    """The four organisations of DESIGN.md, then "organisation 5", "organisation 6", …"""
    named = list(ORGANISATIONS[:count])
    return named + [f"organisation {i}" for i in range(len(named) + 1, count + 1)]


def decrypt_command(node_name: str) -> str:
    """The command (run in OUT, after DECRYPT_FUNCTION) that writes a node's raw Besu key file."""
    return f"besu_key {node_name}"
