"""`ledger-node`: init, start, status, verify, backup and export-besu for the CityPass permissioned
ledger."""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import click
import requests

from citypass.core import jsonlogs
from citypass.core.cli import file_option, log_level_option, shown_option
from citypass.core.files import write_json_atomically
from ledger_node.cli_common import Abort, data_dir_option, password_file_option, run_command
from ledger_node.config import (
    DEFAULT_CHAIN_ID,
    DEFAULT_GAS_LIMIT,
    KEYSTORE_DIR,
    NodeConfig,
    genesis_document,
    load_config,
    save_config,
)
from ledger_node.disk_guard import DEFAULT_MIN_FREE_MB, MAX_MIN_FREE_MB, MB
from ledger_node.errors import LedgerNodeError
from ledger_node.keystore import (
    create_authority,
    resolve_password,
    unlock_authority,
)
from ledger_node.limit_options import NodeLimits, limit_options
from ledger_node.supervisor import SupervisionSettings
from ledger_node.token_cli import token, token_key
from ledger_node.token_keys import create_key_pair, rpc_authenticator
from ledger_node.witness.cli import witness

AUTHORITY_BALANCE = 10**24  # wei; gas is free on this ledger, but wallets like a funded admin
log = logging.getLogger("ledger_node")


@click.group(
    help="The CityPass permissioned ledger node: anvil as a private engine behind a permission gateway, a sequencer, a crash-safe journal and authority seals."
)
def main() -> None:
    pass


@main.command(short_help="Create a data directory: genesis, config, encrypted authority key.")
@data_dir_option
@shown_option("--chain-id", DEFAULT_CHAIN_ID, click.IntRange(1, 2**32 - 1))
@shown_option(
    "--block-period",
    1.0,
    click.FloatRange(0, 60),
    "Seconds between blocks; 0 seals as soon as transactions wait.",
)
@shown_option(
    "--max-block-txs",
    2000,
    click.IntRange(1, 100_000),
    "Seal early when this many transactions wait.",
)
@shown_option("--gas-limit", DEFAULT_GAS_LIMIT, click.IntRange(1_000_000, 2_000_000_000))
@shown_option(
    "--snapshot-every", 1000, click.IntRange(1, 1_000_000), "Dump the engine state every K blocks."
)
@password_file_option
def init(
    data_dir: Path,
    chain_id: int,
    block_period: float,
    max_block_txs: int,
    gas_limit: int,
    snapshot_every: int,
    password_file: Path | None,
) -> None:
    """Write the genesis, the config and the authority keystore into a new data directory.

    Refuses to touch an existing, non-empty directory."""
    if data_dir.exists() and any(data_dir.iterdir()):
        raise Abort(f"{data_dir} already exists and is not empty: choose a new data directory")
    try:
        password = resolve_password(password_file)
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        authority = create_authority(data_dir, password)
        _, token_public = create_key_pair(data_dir / KEYSTORE_DIR, password)
        config = NodeConfig(
            chain_id=chain_id,
            block_period=block_period,
            max_block_txs=max_block_txs,
            gas_limit=gas_limit,
            snapshot_every=snapshot_every,
            authority=authority.address,
            genesis_timestamp=int(time.time()),
        )
        save_config(data_dir, config)
        write_json_atomically(
            data_dir / "genesis.json",
            genesis_document(config, {authority.address: AUTHORITY_BALANCE}),
        )
    except LedgerNodeError as exc:
        raise Abort(str(exc)) from exc
    click.echo(f"initialised {data_dir}")
    click.echo(f"  chain id   {chain_id}")
    click.echo(f"  authority  {authority.address} (encrypted keystore in {data_dir / 'keystore'})")
    click.echo(f"  tokens     issuer key (encrypted) and public key {token_public}")
    click.echo(
        f"  blocks     every {block_period:g} s, at most {max_block_txs} transactions before sealing early"
    )


@main.command(short_help="Run the node: JSON-RPC over HTTP and WebSocket.")
@data_dir_option
@shown_option("--rpc-host", "127.0.0.1", str, "Address of the public JSON-RPC endpoint.")
@shown_option("--rpc-port", 8545, click.IntRange(1, 65535))
@password_file_option
@click.option(
    "--admin-port",
    default=None,
    type=click.IntRange(1, 65535),
    help="Serve admin_snapshot (and admin_setClock) on this loopback port, with a bearer token.",
)
@file_option(
    "--admin-token-file", "File holding the admin token (default: $LEDGER_NODE_ADMIN_TOKEN)."
)
@click.option(
    "--dev-clock",
    is_flag=True,
    help="Development only: let admin_setClock move block time forward (for simulations).",
)
@shown_option(
    "--engine-restart-attempts",
    SupervisionSettings.max_attempts,
    click.IntRange(0, 100),
    "Failed engine restarts in a row before /health reports the engine down (0: never restart).",
)
@shown_option(
    "--engine-restart-backoff",
    SupervisionSettings.backoff,
    click.FloatRange(0.05, 60),
    "Seconds before the second engine restart attempt; doubles after each failure, up to 30 s.",
)
@log_level_option()
@limit_options
@file_option(
    "--jwt-public-key",
    "The token issuer's public key (PEM, ES256); default: the data directory's "
    "keystore/rpc-token-public.pem. Without one, only the keyless wallet methods are served.",
)
@shown_option(
    "--min-free-mb",
    DEFAULT_MIN_FREE_MB,
    click.IntRange(0, MAX_MIN_FREE_MB),
    "Free space (MB) the data directory must keep: below it the node refuses transactions "
    "and stops sealing (the disk alarm) until space returns. 0 turns the floor off (then only "
    "a failed write raises the alarm).",
)
def start(
    data_dir: Path,
    rpc_host: str,
    rpc_port: int,
    password_file: Path | None,
    admin_port: int | None,
    admin_token_file: Path | None,
    dev_clock: bool,
    engine_restart_attempts: int,
    engine_restart_backoff: float,
    log_level: str,
    limits: NodeLimits,
    min_free_mb: int,
    jwt_public_key: Path | None,
) -> None:
    """Recover from the journal, then serve until SIGTERM or SIGINT."""
    from ledger_node.admin import resolve_token
    from ledger_node.daemon import serve_node

    jsonlogs.configure(log_level)
    if dev_clock and admin_port is None:
        raise Abort("--dev-clock needs --admin-port: the clock is moved through the admin listener")
    from ledger_node.integrity import IntegrityError, check_journal_present

    try:
        config = load_config(data_dir)
        # Before the node opens (and so creates) the journal.
        check_journal_present(data_dir)
        # Decrypted while the node recovers; a wrong password still stops the start.
        authority = unlock_authority(data_dir, resolve_password(password_file))
        admin = (admin_port, resolve_token(admin_token_file)) if admin_port else None
        supervision = SupervisionSettings(
            max_attempts=engine_restart_attempts,
            backoff=engine_restart_backoff,
            max_backoff=max(30.0, engine_restart_backoff),
        )
        supervision.validate()
        auth = rpc_authenticator(data_dir, config.chain_id, jwt_public_key)
    except IntegrityError as exc:
        raise Abort(f"refusing to start: {exc}") from exc
    except LedgerNodeError as exc:
        raise Abort(str(exc)) from exc
    run_command(
        serve_node(
            data_dir,
            config,
            authority,
            rpc_host,
            rpc_port,
            admin,
            dev_clock,
            supervision,
            limits,
            min_free_mb * MB,
            auth,
        )
    )


@main.command(short_help="Show head, pending, journal size, last snapshot and peers.")
@shown_option("--rpc-url", "http://127.0.0.1:8545", str)
def status(rpc_url: str) -> None:
    try:
        reply = requests.post(
            rpc_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "ledger_status", "params": []},
            timeout=5,
        )
        result = reply.json()["result"]
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise Abort(
            f"no ledger node answers at {rpc_url} ({exc.__class__.__name__}); is it running?"
        ) from exc
    click.echo(f"chain id        {int(result['chainId'], 16)}")
    click.echo(f"head            {int(result['head'], 16)}")
    click.echo(f"pending         {result['pending']}")
    click.echo(
        f"journal         {result['journalBytes'] / 1e6:.1f} MB, {result['journalTransactions']} transactions"
    )
    snapshot = result["lastSnapshot"]
    click.echo(f"last snapshot   {int(snapshot, 16) if snapshot else 'none yet'}")
    click.echo("peers           none (single authority; see export-besu for a QBFT network)")
    click.echo(f"authority       {result['authority']}")
    click.echo(
        f"access contract {result['accessContract'] or 'not deployed yet (only the authority may send)'}"
    )
    witnesses = result.get("witnesses")
    if witnesses:
        cosigned = witnesses["cosigned"]
        click.echo(
            f"witnesses       {witnesses['set']} in the set; "
            + (
                f"newest co-signed block {int(cosigned, 16)} ({witnesses['lag']} behind the head)"
                if cosigned
                else "nothing co-signed yet"
            )
        )
    check = result.get("journalCheck")
    if check:
        click.echo(
            f"journal check   {check['result']} at start: blocks {check['replayedFrom'] + 1}-"
            f"{check['head']} re-executed, hashes, links and seals checked"
        )


@main.command(short_help="Replay the journal and check every hash, link and seal.")
@data_dir_option
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A saved ledger_getCheckpoint answer (a checkpoint witnesses co-signed): the replayed "
    "journal must reach it and match it. May be given several times.",
)
def verify(data_dir: Path, checkpoints: tuple[Path, ...]) -> None:
    """Re-execute the whole journal on a scratch engine; exits non-zero on the first mismatch,
    and on a journal that is shorter than, or differs from, a co-signed --checkpoint."""
    from ledger_node.verify import verify_data_dir

    with click.progressbar(length=1, label="Verifying", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(1)

        report = run_command(verify_data_dir(data_dir, progress, checkpoints))
    for line in report.lines:
        click.echo(line)


@main.command(short_help="Copy a data directory consistently, even while the node runs.")
@data_dir_option
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=Path),
    help="A new or empty directory for the copy (outside the data directory).",
)
def backup(data_dir: Path, target: Path) -> None:
    """Copy the journal (SQLite's online backup, one consistent instant), the snapshots it
    refers to, config, genesis, keystore and a head marker for the copy.

    The node may keep running and sealing. Start a node on the copy, or run verify on it, to
    restore; the keystore stays encrypted with the same password."""
    from ledger_node.backup import backup_data_dir

    current: dict[str, Any] = {}

    def finish() -> None:
        if current:
            current.pop("bar").__exit__(None, None, None)
            current.clear()

    def progress(label: str, done: int, total: int) -> None:
        if current.get("label") != label:
            finish()
            bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            current.update(label=label, bar=bar.__enter__())
        bar = current["bar"]
        bar.length = max(total, 1)
        bar.update(done - bar.pos)

    try:
        report = backup_data_dir(data_dir, target, progress)
    except (LedgerNodeError, OSError, sqlite3.Error) as exc:
        raise Abort(_one_line(exc)) from exc
    finally:
        finish()
    snapshots = ", ".join(str(n) for n in report.snapshots or []) or "none"
    click.echo(f"backed up {data_dir} to {target}")
    click.echo(f"  head        block {report.head} {report.head_hash}")
    click.echo(f"  journal     {report.transactions} transactions")
    click.echo(f"  snapshots   {snapshots}")
    click.echo(f"  copied      {report.bytes_copied / 1e6:.1f} MB")


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}: the backup was not made"
    return " ".join(str(exc).split())


@main.command("export-besu", short_help="Write a Besu QBFT network carrying the chain's state.")
@data_dir_option
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write (must be new or empty).",
)
@click.option(
    "--block",
    default=None,
    metavar="N",
    help="Export the state as of block N  [default: the journal's head].",
)
@shown_option("--validators", 4, int, "Validator organisations (at least 4: n = 3f + 1).")
@click.option(
    "--rpc-url", default=None, help="A running node, to read the current CityAccess members."
)
@click.option(
    "--access",
    "access_address",
    default=None,
    help="CityAccess address (default: the one the journal recorded).",
)
@password_file_option
def export_besu(
    data_dir: Path,
    out: Path,
    block: str | None,
    validators: int,
    rpc_url: str | None,
    access_address: str | None,
    password_file: Path | None,
) -> None:
    """Replay the journal to block N, write its state as the QBFT genesis alloc (proven by its
    state root), block N's hash in the extraData vanity, migration.json, validator keys
    (encrypted), per-node TOML and the accounts allowlist from the live CityAccess."""
    from ledger_node.besu_export import BesuExportError
    from ledger_node.besu_export import export_besu as run_export

    bars: dict[str, Any] = {}

    def progress(label: str, done: int, total: int) -> None:
        if label not in bars:
            for bar in bars.values():
                bar.render_finish()
            bars[label] = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
        bar = bars[label]
        bar.length = max(total, 1)
        bar.update(done - bar.pos)

    try:
        password = resolve_password(password_file)
        if access_address is None:
            access_address = _recorded_access(data_dir)
        result = run_export(
            data_dir,
            out,
            validators,
            password,
            rpc_url=rpc_url,
            access_address=access_address,
            block=block,
            progress=progress,
        )
    except (LedgerNodeError, BesuExportError) as exc:
        raise Abort(" ".join(str(exc).split())) from exc
    finally:
        for bar in bars.values():
            bar.render_finish()
    click.echo(f"wrote a {validators}-validator QBFT network to {out} (see {out / 'README.md'})")
    for line in result.summary():
        click.echo(f"  {line}")


def _recorded_access(data_dir: Path) -> str | None:
    from ledger_node.config import JOURNAL_FILE
    from ledger_node.journal import Journal

    path = data_dir / JOURNAL_FILE
    if not path.exists():
        return None
    journal = Journal(path, readonly=True)
    try:
        return journal.get_meta("access_contract")
    finally:
        journal.close()


main.add_command(token)
main.add_command(token_key)
main.add_command(witness)

if __name__ == "__main__":
    main()
