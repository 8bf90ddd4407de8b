"""Export the ledger's chain as a Hyperledger Besu QBFT network run by several organisations.

The embedded node has one authority. When the city, the village enterprise, a mobility operator
and the audit office each run a validator, the chain moves to Besu QBFT: same chain id and gas
limit, zero base fee, the state of block N (default: the journal's head) as the genesis alloc,
proven by its state root (ledger_node.besu_state), block N's hash in the extraData vanity, and
the accounts allowlist taken from the *current* CityAccess members. The export writes, into a
new directory OUT:

- genesis.json                      Besu genesis: the state at block N as `alloc`; the QBFT
                                    extraData lists the validators, its vanity is block N's hash
- migration.json                    chain id, block N, its hash and state root, the genesis
                                    state root, the journal's hash chain at N, the export time
- node-i/keystore.json              the validator key, V3-encrypted with the caller's password
- node-i/config.toml                Besu options; paths are relative to OUT (start Besu there)
- node-i/permissions_config.toml    accounts-allowlist and nodes-allowlist
- README.md                         who runs which node, and how to start it

Raw keys are never written: Besu reads `node-i/data/key`, which the operator decrypts at start.
Everything is staged in a sibling directory and renamed into place, so a failed export leaves
no half-written network behind.

This module checks the request and puts the export together; the parts live beside it:
besu_network (constants, nodes, genesis), besu_state (the state at block N and its roots),
besu_members (the CityAccess allowlist over RPC), besu_files (writing) and besu_readme
(README.md, from templates/besu_README.md).
"""

from __future__ import annotations

import asyncio
import re
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
    MIGRATION_FILE,
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
from ledger_node.besu_state import Progress, read_chain_state
from ledger_node.config import NodeConfig, load_config, load_genesis
from ledger_node.errors import ConfigError
from ledger_node.journal_replay import BlockNotHeld
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
    "Progress",
    "decrypt_command",
    "export_besu",
]
_BLOCK_NUMBER = re.compile(r"[0-9]{1,19}")


def export_besu(
    data_dir: Path,
    out: Path,
    validators: int,
    password: str,
    rpc_url: str | None = None,
    access_address: str | None = None,
    organisations: list[str] | None = None,
    block: int | str | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write a `validators`-node Besu QBFT network of the ledger in DATA_DIR, with its state at
    `block` (default: the journal's head), to the new directory OUT.

    The accounts allowlist is every account CityAccess.isAllowed() accepts now (read over
    `rpc_url` at `access_address`), plus the node authority and the validators."""
    data_dir, out = Path(data_dir), Path(out)
    _check_validator_count(validators)
    names = _organisations(validators, organisations)
    _check_password(password)
    _check_out(out)
    number = _block_number(block)
    config, ledger_genesis = _load_ledger(data_dir)
    members, source = current_members(config, rpc_url, access_address)
    try:
        state = asyncio.run(read_chain_state(data_dir, number, progress))
    except BlockNotHeld as exc:
        raise BesuExportError(f"--block {block if block is not None else 'head'}: {exc}") from exc
    keyset = [new_validator() for _ in range(validators)]
    nodes = [plan_node(out, i, names[i], keyset[i]) for i in range(validators)]
    allowlist = _unique_addresses([*members, config.authority, *(node.address for node in nodes)])
    # The vanity carries block N's hash: the Besu chain's genesis names the block it continues.
    extra_data = encode_extra_data([node.address for node in nodes], vanity=state.block_hash)
    result = ExportResult(
        out=out,
        genesis=out / GENESIS_FILE,
        migration=out / MIGRATION_FILE,
        readme=out / README_FILE,
        extra_data=extra_data,
        nodes=nodes,
        allowlist=allowlist,
        allowlist_source=source,
        state=state,
    )
    genesis = besu_genesis(config, ledger_genesis, extra_data, state)
    write_atomically(
        out, lambda staging: write_network(staging, result, genesis, keyset, password, config)
    )
    return result


# --- checks -----------------------------------------------------------------------------------


def _check_validator_count(validators: int) -> None:
    if isinstance(validators, bool) or not isinstance(validators, int):
        raise BesuExportError(f"--validators must be a whole number, not {validators!r}")
    if validators < BFT_MIN_VALIDATORS:
        raise BesuExportError(
            f"--validators {validators} is too few: QBFT tolerates f faulty validators only with "
            f"n = 3f + 1 or more, so it needs at least {BFT_MIN_VALIDATORS} (f = 1); with fewer, "
            "one stopped organisation stops the chain"
        )
    if validators > MAX_VALIDATORS:
        raise BesuExportError(
            f"--validators must be between {MIN_VALIDATORS} and {MAX_VALIDATORS} (got {validators})"
        )


def _block_number(block: int | str | None) -> int | None:
    """--block: a block number (0 is the genesis), or None for the journal's head."""
    if block is None or (isinstance(block, int) and not isinstance(block, bool) and block >= 0):
        return block
    text = str(block).strip()
    if text.startswith("-") and _BLOCK_NUMBER.fullmatch(text[1:]):
        raise BesuExportError(f"--block {text} is negative: give a block number, 0 or more")
    if not _BLOCK_NUMBER.fullmatch(text):
        raise BesuExportError(f"--block {block!r} is not a block number (digits, 0 or more)")
    return int(text)


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


def _unique_addresses(addresses: Iterable[str]) -> list[str]:
    return sorted({to_checksum_address(address) for address in addresses}, key=str.lower)
