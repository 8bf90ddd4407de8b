"""A witness's data directory: witness.json, genesis.json (the trust anchor), keystore/,
journal.sqlite (its own copy of the node's journal), witness.sqlite (what it re-executed and
co-signed, and the evidence it keeps) and snapshots/."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from citypass.core import keystore
from citypass.core.files import write_json_atomically
from citypass.core.ranges import check_range
from ledger_node.config import check_chain_settings
from ledger_node.errors import ConfigError, KeystoreError

CONFIG_FILE = "witness.json"
STORE_FILE = "witness.sqlite"
PASSWORD_ENV = "LEDGER_WITNESS_PASSWORD"

WITNESS_KEY = keystore.DaemonKey(
    relative_path=Path("keystore") / "witness.json",
    password_env=PASSWORD_ENV,
    error=KeystoreError,
    name="the witness keystore",
    exists_hint="this data directory already has a witness key",
    missing_hint="restore it from your backup",
    damaged_hint="restore it from your backup",
)


@dataclass(frozen=True)
class WitnessConfig:
    node_url: str  # JSON-RPC, with the witness's token in its path (citypass/core/rpc_url.py)
    chain_id: int
    authority: str
    genesis_hash: str  # block 0 of the genesis file given by the node's operator
    gas_limit: int
    http_host: str
    http_port: int
    snapshot_every: int

    def validate(self) -> None:
        check_chain_settings(self.chain_id, self.snapshot_every, self.authority)
        check_range("http_port", self.http_port, 1, 65535, error=ConfigError)
        if not self.node_url.startswith(("http://", "https://")):
            raise ConfigError("node_url must be an http:// or https:// URL")


def save_config(data_dir: Path, config: WitnessConfig) -> None:
    config.validate()
    path = data_dir / CONFIG_FILE
    write_json_atomically(path, asdict(config))
    os.chmod(path, 0o600)  # the node URL carries the witness's token


def load_config(data_dir: Path) -> WitnessConfig:
    path = data_dir / CONFIG_FILE
    if not path.exists():
        raise ConfigError(
            f"{path} is missing: run `ledger-node witness init --data-dir {data_dir}` first"
        )
    try:
        raw = json.loads(path.read_text())
        config = WitnessConfig(**raw)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{path} is not a witness config ({exc}); restore it from a backup"
        ) from exc
    config.validate()
    return config
