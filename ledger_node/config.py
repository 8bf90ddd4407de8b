"""The node's data directory: config.json, genesis.json, keystore/, journal.sqlite, snapshots/."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_utils import is_checksum_address

from citypass.core.files import write_json_atomically
from citypass.core.ranges import check_range
from ledger_node.errors import ConfigError

CONFIG_FILE = "config.json"
GENESIS_FILE = "genesis.json"
JOURNAL_FILE = "journal.sqlite"
KEYSTORE_DIR = "keystore"
AUTHORITY_KEYSTORE = "authority.json"
SNAPSHOT_DIR = "snapshots"

DEFAULT_CHAIN_ID = 82032
# Room for max_block_txs (2,000) bookings of ~90,000 gas each in one block.
DEFAULT_GAS_LIMIT = 250_000_000


def check_chain_settings(chain_id: int, snapshot_every: int, authority: object) -> None:
    """The settings a node's config and a witness's share, checked alike: the chain, how often
    the engine's state is dumped, the authority that seals every block."""
    check_range("chain_id", chain_id, 1, 2**32 - 1, error=ConfigError)
    check_range("snapshot_every", snapshot_every, 1, 1_000_000, error=ConfigError)
    if not isinstance(authority, str) or not is_checksum_address(authority):
        raise ConfigError(f"authority {authority!r} is not a checksummed address")


@dataclass(frozen=True)
class NodeConfig:
    chain_id: int
    block_period: float
    max_block_txs: int
    gas_limit: int
    snapshot_every: int
    authority: str
    genesis_timestamp: int

    def validate(self) -> None:
        check_chain_settings(self.chain_id, self.snapshot_every, self.authority)
        check_range("block_period", self.block_period, 0, 60, unit="s", error=ConfigError)
        check_range("max_block_txs", self.max_block_txs, 1, 100_000, error=ConfigError)
        check_range("gas_limit", self.gas_limit, 1_000_000, 2_000_000_000, error=ConfigError)
        if self.genesis_timestamp <= 0:
            raise ConfigError("genesis_timestamp must be a positive Unix time")


def save_config(data_dir: Path, config: NodeConfig) -> None:
    config.validate()
    write_json_atomically(data_dir / CONFIG_FILE, asdict(config))


def load_config(data_dir: Path) -> NodeConfig:
    path = data_dir / CONFIG_FILE
    if not data_dir.is_dir():
        raise ConfigError(
            f"data directory {data_dir} does not exist: run `ledger-node init --data-dir {data_dir}`"
        )
    if not path.exists():
        raise ConfigError(f"{path} is missing: run `ledger-node init` on an empty data directory")
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); restore it from a backup") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a JSON object; restore it from a backup")
    expected = set(NodeConfig.__dataclass_fields__)
    missing = expected - raw.keys()
    unknown = raw.keys() - expected
    if missing or unknown:
        raise ConfigError(
            f"{path} has missing keys {sorted(missing)} / unknown keys {sorted(unknown)}; restore it from a backup"
        )
    try:
        config = NodeConfig(
            chain_id=int(raw["chain_id"]),
            block_period=float(raw["block_period"]),
            max_block_txs=int(raw["max_block_txs"]),
            gas_limit=int(raw["gas_limit"]),
            snapshot_every=int(raw["snapshot_every"]),
            authority=str(raw["authority"]),
            genesis_timestamp=int(raw["genesis_timestamp"]),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path} has a value of the wrong type ({exc}); restore it from a backup"
        ) from exc
    config.validate()
    return config


def genesis_document(config: NodeConfig, alloc: dict[str, int]) -> dict[str, Any]:
    """A geth-style genesis (what `anvil --init` reads): zero base fee, the authority funded."""
    return {
        "config": {"chainId": config.chain_id},
        "nonce": "0x0",
        "timestamp": hex(config.genesis_timestamp),
        "extraData": "0x",
        "gasLimit": hex(config.gas_limit),
        "difficulty": "0x0",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": "0x0",
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": "0x" + "00" * 32,
        "alloc": {address: {"balance": hex(balance)} for address, balance in alloc.items()},
    }


def load_genesis(data_dir: Path) -> dict[str, Any]:
    path = data_dir / GENESIS_FILE
    try:
        genesis = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path} is missing: the data directory is incomplete; re-run init elsewhere"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); restore it from a backup") from exc
    if not isinstance(genesis, dict) or "config" not in genesis or "alloc" not in genesis:
        raise ConfigError(f"{path} is not a genesis document (needs config and alloc)")
    return genesis
