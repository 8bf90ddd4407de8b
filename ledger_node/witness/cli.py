"""`ledger-node witness init` and `ledger-node witness run` (docs/witnesses.md)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from citypass.core import jsonlogs, keystore
from citypass.core.cli import file_option, log_level_option, shown_option
from citypass.core.files import write_json_atomically
from citypass.core.rpc_url import redacted, with_token
from ledger_node.cli_common import Abort, data_dir_for, password_file_for, run_command
from ledger_node.config import GENESIS_FILE, load_genesis
from ledger_node.engine import Engine
from ledger_node.errors import ConfigError, KeystoreError, LedgerNodeError
from ledger_node.witness.config import (
    PASSWORD_ENV,
    WITNESS_KEY,
    WitnessConfig,
    load_config,
    save_config,
)
from ledger_node.witness.node_client import NodeClient, NodeRefused, NodeUnreachable

DEFAULT_SNAPSHOT_EVERY = 100
witness_data_dir = data_dir_for("witness's")
witness_password_file = password_file_for(PASSWORD_ENV)


@click.group(
    help="A witness: another organisation's daemon that follows a ledger node, re-executes every "
    "block on its own engine and co-signs checkpoints (docs/witnesses.md)."
)
def witness() -> None:
    pass


@witness.command(short_help="Create a witness data directory: the node, the genesis, the key.")
@witness_data_dir
@click.option("--node-url", required=True, help="The node's JSON-RPC URL (it may carry /t/TOKEN).")
@file_option("--node-token-file", "File holding the witness's JSON-RPC token for the node.")
@click.option(
    "--genesis",
    "genesis_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The chain's genesis file, given by the node's operator: the trust anchor.",
)
@click.option("--authority", required=True, help="The authority address that seals every block.")
@file_option(
    "--import-keystore", "An existing V3 keystore to use as the witness key (same password)."
)
@shown_option("--http-host", "127.0.0.1", str, "Address of the witness's HTTP endpoint.")
@shown_option("--http-port", 8555, click.IntRange(1, 65535))
@shown_option(
    "--snapshot-every", DEFAULT_SNAPSHOT_EVERY, click.IntRange(1, 1_000_000),
    "Dump the engine state every K blocks (a restart replays from the newest).",
)  # fmt: skip
@witness_password_file
def init(
    data_dir: Path,
    node_url: str,
    node_token_file: Path | None,
    genesis_file: Path,
    authority: str,
    import_keystore: Path | None,
    http_host: str,
    http_port: int,
    snapshot_every: int,
    password_file: Path | None,
) -> None:
    """Check the node against the genesis file (its block 0 must be the file's), then write the
    config, the genesis and the witness's encrypted key into a new data directory."""
    if data_dir.exists() and any(data_dir.iterdir()):
        raise Abort(f"{data_dir} already exists and is not empty: choose a new data directory")
    if not node_url.startswith(("http://", "https://")):
        raise Abort(f"--node-url {redacted(node_url)} is not an http:// or https:// URL")
    try:
        from eth_utils import is_address, to_checksum_address

        if not is_address(authority):
            raise Abort(f"--authority {authority!r} is not an address (0x and 40 hex digits)")
        authority = to_checksum_address(authority)
        if node_token_file is not None:
            node_url = with_token(node_url, _read_token(node_token_file))
        password = WITNESS_KEY.resolve_password(password_file)
        imported = _imported_key(import_keystore, password) if import_keystore else None
        genesis = _genesis(genesis_file)
        chain_id = int(genesis["config"]["chainId"])
        gas_limit = int(str(genesis.get("gasLimit", "0x0")), 16)
        genesis_hash = run_command(
            _check_node(node_url, genesis_file, chain_id, gas_limit, authority)
        )
        config = WitnessConfig(
            node_url=node_url, chain_id=chain_id, authority=authority, genesis_hash=genesis_hash,
            gas_limit=gas_limit, http_host=http_host, http_port=http_port,
            snapshot_every=snapshot_every,
        )  # fmt: skip
        config.validate()
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_json_atomically(data_dir / GENESIS_FILE, genesis)
        save_config(data_dir, config)
        key_path = WITNESS_KEY.path(data_dir)
        key_path.parent.mkdir(mode=0o700, exist_ok=True)
        account = keystore.create_keystore(
            key_path, password, error=KeystoreError, password_env=WITNESS_KEY.password_env,
            private_key=imported,
        )  # fmt: skip
    except LedgerNodeError as exc:
        raise Abort(str(exc)) from exc
    click.echo(f"initialised witness {data_dir}")
    click.echo(f"  node       {redacted(node_url)} (chain {chain_id}, genesis {genesis_hash})")
    click.echo(f"  authority  {authority}")
    click.echo(f"  witness    {account.address} (encrypted keystore in {key_path})")
    click.echo(f"  http       http://{http_host}:{http_port}")
    click.echo(
        "  next: ask the city administrator to add the witness address to CityAccess's witness set"
    )


def _read_token(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read --node-token-file {path}: {exc.strerror or exc}") from exc
    if not token:
        raise ConfigError(f"--node-token-file {path} is empty")
    return token


def _imported_key(path: Path, password: str) -> bytes:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"--import-keystore {path} is unreadable ({exc})") from exc
    account = keystore.decrypt_keystore(
        document, password, f"--import-keystore {path}", error=KeystoreError
    )
    return bytes(account.key)


def _genesis(path: Path) -> dict[str, Any]:
    try:
        genesis = load_genesis_file(path)
        int(genesis["config"]["chainId"])
        int(str(genesis.get("gasLimit", "0x0")), 16)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"--genesis {path} has no usable config.chainId / gasLimit ({exc})"
        ) from exc
    return genesis


def load_genesis_file(path: Path) -> dict[str, Any]:
    """load_genesis reads <dir>/genesis.json; a witness's operator hands over any file name."""
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copyfile(path, Path(scratch) / GENESIS_FILE)
        try:
            return load_genesis(Path(scratch))
        except ConfigError as exc:
            raise ConfigError(
                str(exc).replace(str(Path(scratch) / GENESIS_FILE), f"--genesis {path}")
            ) from exc


async def _check_node(
    node_url: str, genesis_file: Path, chain_id: int, gas_limit: int, authority: str
) -> str:
    """Block 0 of the genesis file (on a scratch engine) must be the node's, and the node must
    be the chain and authority the operator named; returns the genesis hash."""
    client = NodeClient(node_url)
    try:
        node_chain = int(await client.call("eth_chainId", []), 16)
        node_genesis = await client.call("eth_getBlockByNumber", ["0x0", False])
        status = await client.call("ledger_status", [])
    except (NodeUnreachable, NodeRefused) as exc:
        raise ConfigError(f"cannot read the node at --node-url: {exc}") from exc
    finally:
        await client.close()
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copyfile(genesis_file, Path(scratch) / GENESIS_FILE)
        engine = Engine(Path(scratch) / GENESIS_FILE, gas_limit=gas_limit, chain_id=chain_id)
        await engine.start()
        try:
            genesis_hash = str((await engine.block(0))["hash"])
        finally:
            await engine.stop()
    if node_chain != chain_id:
        raise ConfigError(
            f"the node is chain {node_chain}, the genesis file is chain {chain_id}: --genesis is another chain's"
        )
    if node_genesis["hash"] != genesis_hash:
        raise ConfigError(
            f"the node's block 0 is {node_genesis['hash']}, the genesis file gives {genesis_hash}: "
            "it is not the chain the operator gave you (--genesis)"
        )
    if str(status.get("authority", "")).lower() != authority.lower():
        raise ConfigError(
            f"the node is sealed by {status.get('authority')}, not --authority {authority}"
        )
    return genesis_hash


@witness.command(short_help="Follow the node, re-execute, co-sign; serve /health and /v1/*.")
@witness_data_dir
@witness_password_file
@shown_option(
    "--poll-interval", 0.2, click.FloatRange(0.01, 60), "Seconds between looks at the node's head."
)
@log_level_option()
def run(data_dir: Path, password_file: Path | None, poll_interval: float, log_level: str) -> None:
    """Recover from the witness's own data, then follow until SIGTERM or SIGINT."""
    from ledger_node.witness.daemon import serve_witness

    jsonlogs.configure(log_level)
    try:
        config = load_config(data_dir)
        account = WITNESS_KEY.load(data_dir, WITNESS_KEY.resolve_password(password_file))
    except LedgerNodeError as exc:
        raise Abort(str(exc)) from exc
    run_command(serve_witness(data_dir, config, account, poll_interval))
