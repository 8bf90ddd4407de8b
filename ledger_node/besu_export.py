"""Export the ledger's chain as a Hyperledger Besu QBFT network run by several organisations.

The embedded node has one authority. When the city, the village enterprise and the operators each
run a validator, the same chain design moves to Besu QBFT: same chain id, same genesis
allocations and gas limit, zero base fee, and the accounts allowlist taken from the *current*
CityAccess members. The export writes, into a new directory OUT:

- genesis.json                      Besu genesis with the QBFT extraData for the validators
- node-i/keystore.json              the validator key, V3-encrypted with the caller's password
- node-i/config.toml                Besu options; paths are relative to OUT (start Besu there)
- node-i/permissions_config.toml    accounts-allowlist and nodes-allowlist
- README.md                         who runs which node, and how to start it

Raw keys are never written: Besu reads `node-i/data/key`, which the operator decrypts at start.
Everything is staged in a sibling directory and renamed into place, so a failed export leaves
no half-written network behind.

This module checks the request and puts the export together; the parts live beside it:
besu_network (constants, nodes, genesis), besu_members (the CityAccess allowlist over RPC),
besu_files (writing) and besu_readme (README.md, from templates/besu_README.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from citypass.core.keystore import MIN_PASSWORD_LENGTH
from ledger_node.besu_files import write_atomically, write_network
from ledger_node.besu_members import ACCOUNT_EVENTS, IS_ALLOWED_ABI, current_members
from ledger_node.besu_network import (
    BFT_MIN_VALIDATORS,
    DECRYPT_FUNCTION,
    GENESIS_FILE,
    MAX_VALIDATORS,
    MIN_VALIDATORS,
    PASSWORD_ENV,
    QBFT_MIX_HASH,
    README_FILE,
    BesuExportError,
    ExportedNode,
    ExportResult,
    besu_genesis,
    decrypt_command,
    default_organisations,
    new_validator,
    plan_node,
)
from ledger_node.config import NodeConfig, load_config, load_genesis
from ledger_node.errors import ConfigError
from ledger_node.qbft import encode_extra_data

# What callers (the CLI, the tests) take from here; the rest is internal to the besu_* modules.
__all__ = [
    "ACCOUNT_EVENTS",
    "DECRYPT_FUNCTION",
    "IS_ALLOWED_ABI",
    "PASSWORD_ENV",
    "QBFT_MIX_HASH",
    "BesuExportError",
    "ExportResult",
    "ExportedNode",
    "decrypt_command",
    "export_besu",
]


def export_besu(
    data_dir: Path,
    out: Path,
    validators: int,
    password: str,
    rpc_url: str | None = None,
    access_address: str | None = None,
    organisations: list[str] | None = None,
) -> ExportResult:
    """Write a `validators`-node Besu QBFT network of the ledger in DATA_DIR to the new dir OUT.

    The accounts allowlist is every account CityAccess.isAllowed() accepts now (read over
    `rpc_url` at `access_address`), plus the node authority and the validators."""
    data_dir, out = Path(data_dir), Path(out)
    _check_validator_count(validators)
    names = _organisations(validators, organisations)
    _check_password(password)
    _check_out(out)
    config, ledger_genesis = _load_ledger(data_dir)
    members, source = current_members(config, rpc_url, access_address)
    keyset = [new_validator() for _ in range(validators)]
    nodes = [plan_node(out, i, names[i], keyset[i]) for i in range(validators)]
    allowlist = _unique_addresses([*members, config.authority, *(node.address for node in nodes)])
    extra_data = encode_extra_data([node.address for node in nodes])
    result = ExportResult(
        out=out,
        genesis=out / GENESIS_FILE,
        readme=out / README_FILE,
        extra_data=extra_data,
        nodes=nodes,
        allowlist=allowlist,
        allowlist_source=source,
        warnings=_warnings(validators),
    )
    genesis = besu_genesis(config, ledger_genesis, extra_data)
    write_atomically(
        out, lambda staging: write_network(staging, result, genesis, keyset, password, config)
    )
    return result


# --- checks -----------------------------------------------------------------------------------


def _check_validator_count(validators: int) -> None:
    if isinstance(validators, bool) or not isinstance(validators, int):
        raise BesuExportError(f"--validators must be a whole number, not {validators!r}")
    if not MIN_VALIDATORS <= validators <= MAX_VALIDATORS:
        raise BesuExportError(
            f"--validators must be between {MIN_VALIDATORS} and {MAX_VALIDATORS} (got {validators}); "
            f"use {BFT_MIN_VALIDATORS} or more to tolerate a faulty validator"
        )


def _organisations(count: int, organisations: list[str] | None) -> list[str]:
    if organisations is None:
        return default_organisations(count)
    if len(organisations) != count or not all(
        isinstance(o, str) and o.strip() for o in organisations
    ):
        raise BesuExportError(
            f"give exactly one non-empty organisation name per validator ({count}), "
            f"got {len(organisations)}"
        )
    return [name.strip() for name in organisations]


def _check_password(password: str) -> None:
    # The message never repeats the password.
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise BesuExportError(
            f"the validator keystore password must have at least {MIN_PASSWORD_LENGTH} characters"
        )


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BesuExportError(f"--out {out} is a file: choose a new directory")
    if out.is_dir() and any(out.iterdir()):
        raise BesuExportError(
            f"--out {out} is not empty: the export never overwrites; choose a new directory"
        )


def _load_ledger(data_dir: Path) -> tuple[NodeConfig, dict[str, Any]]:
    try:
        config = load_config(data_dir)
        genesis = load_genesis(data_dir)
    except ConfigError as exc:
        raise BesuExportError(str(exc)) from exc
    genesis_chain = genesis.get("config", {}).get("chainId")
    if genesis_chain != config.chain_id:
        raise BesuExportError(
            f"{data_dir / 'genesis.json'} has chainId {genesis_chain} but config.json has "
            f"chain_id {config.chain_id}: restore the data directory from a backup"
        )
    if not isinstance(genesis["alloc"], dict):
        raise BesuExportError(f"{data_dir / 'genesis.json'} has no alloc object")
    return config, genesis


def _warnings(validators: int) -> list[str]:
    if validators >= BFT_MIN_VALIDATORS:
        return []
    return [
        f"{validators} validator(s) cannot tolerate a faulty or stopped validator; "
        f"Besu QBFT needs at least {BFT_MIN_VALIDATORS} for Byzantine fault tolerance"
    ]


def _unique_addresses(addresses: Iterable[str]) -> list[str]:
    return sorted({to_checksum_address(address) for address in addresses}, key=str.lower)
