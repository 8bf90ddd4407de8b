"""Writing the Besu export: the genesis, migration.json, each node's keystore and TOML files, the
README.

Everything is staged in a sibling directory and renamed into place, so a failed export leaves
no half-written network behind."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from citypass.core.keystore import encrypt_key
from ledger_node.besu_network import (
    CONFIG_FILE,
    DATA_DIR,
    GENESIS_FILE,
    HOST_ALLOWLIST,
    KEYSTORE_FILE,
    MIGRATION_FILE,
    NODE_HOST,
    PERMISSIONS_FILE,
    RAW_KEY_FILE,
    README_FILE,
    RPC_APIS,
    BesuExportError,
    ExportedNode,
    ExportResult,
    Validator,
)
from ledger_node.besu_readme import readme
from ledger_node.config import NodeConfig


def write_atomically(out: Path, write: Callable[[Path], None]) -> None:
    """Write into a sibling staging directory, then rename it to OUT (which is absent or empty)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise BesuExportError(
            f"cannot create a directory next to --out {out}: {exc.strerror}"
        ) from exc
    try:
        write(staging)
        os.replace(staging, out)
    except OSError as exc:
        raise BesuExportError(
            f"cannot write the export to --out {out} ({exc.strerror}); choose a new, writable directory"
        ) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def write_network(
    root: Path,
    result: ExportResult,
    genesis: dict[str, Any],
    keyset: list[Validator],
    password: str,
    config: NodeConfig,
) -> None:
    _write_text(root / GENESIS_FILE, json.dumps(genesis, indent=2) + "\n")
    migration = result.state.migration_record(datetime.now(UTC))
    _write_text(root / MIGRATION_FILE, json.dumps(migration, indent=2) + "\n")
    permissions = permissions_toml(
        result.allowlist, [node.enode for node in result.nodes], result.allowlist_source
    )
    bootnode = result.nodes[0].enode
    for node, validator in zip(result.nodes, keyset, strict=True):
        directory = root / node.name
        (directory / DATA_DIR).mkdir(mode=0o700, parents=True)
        keystore = encrypt_key(validator.account.key, password)
        _write_text(directory / KEYSTORE_FILE, json.dumps(keystore) + "\n", mode=0o600)
        bootnodes = [] if node.index == 1 else [bootnode]
        _write_text(directory / CONFIG_FILE, node_config_toml(node, bootnodes))
        _write_text(directory / PERMISSIONS_FILE, permissions)
    _write_text(root / README_FILE, readme(result, config))


def _write_text(path: Path, text: str, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _toml_value(value: Any) -> str:
    """TOML for the few value types the configs use; JSON strings are valid TOML basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _toml_lines(options: dict[str, Any]) -> list[str]:
    return [f"{key}={_toml_value(value)}" for key, value in options.items()]


def node_config_toml(node: ExportedNode, bootnodes: list[str]) -> str:
    """Besu options for one validator. Paths are relative to OUT: Besu resolves them against
    the working directory, not against the config file."""
    name = node.name
    options: dict[str, Any] = {
        "data-path": f"{name}/{DATA_DIR}",
        "node-private-key-file": f"{name}/{DATA_DIR}/{RAW_KEY_FILE}",
        "genesis-file": GENESIS_FILE,
        "p2p-host": NODE_HOST,
        "p2p-port": node.p2p_port,
        "rpc-http-enabled": True,
        "rpc-http-host": NODE_HOST,
        "rpc-http-port": node.rpc_port,
        "rpc-http-api": RPC_APIS,
        "host-allowlist": HOST_ALLOWLIST,
        "min-gas-price": 0,
        "permissions-accounts-config-file-enabled": True,
        "permissions-accounts-config-file": f"{name}/{PERMISSIONS_FILE}",
        "permissions-nodes-config-file-enabled": True,
        "permissions-nodes-config-file": f"{name}/{PERMISSIONS_FILE}",
    }
    if bootnodes:
        options["bootnodes"] = bootnodes
    header = [
        f"# CityPass Ledger - Besu QBFT validator {name} ({node.organisation}), validator {node.address}",
        f"# Start from the export directory: besu --config-file={name}/{CONFIG_FILE}",
    ]
    return "\n".join(header + _toml_lines(options)) + "\n"


def permissions_toml(allowlist: list[str], enodes: list[str], source: str) -> str:
    """Besu local permissioning: who may send transactions, which nodes may connect."""
    header = [
        f"# Accounts allowed to transact: {source}.",
        "# Besu compares addresses in lower case. Nodes: the validators (the bootnode included).",
    ]
    options = {
        "accounts-allowlist": [address.lower() for address in allowlist],
        "nodes-allowlist": enodes,
    }
    return "\n".join(header + _toml_lines(options)) + "\n"
