"""`citypass-oracle`: init (keystores), run (the daemon), status (ask a running daemon)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
import requests

from citypass.core import jsonlogs
from citypass.core.cli import Abort, file_option, option_group, shown_option
from oracles.config import DEFAULT_PASSWORD_ENV, load_settings
from oracles.errors import OracleError
from oracles.keystore import create_keystore, load_keystore, resolve_password

PATH = click.Path(path_type=Path)


@click.group(
    help="The CityPass oracle daemon: verifies signed sensor events against the on-chain "
    "DeviceRegistry and turns them into batched OccupancyOracle reports and incidents. "
    "Settings come from --config, CITYPASS_ORACLE_* variables, then flags."
)
def main() -> None:
    pass


# The settings file option of the daemon and of its one-off commands (run, sweep).
config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML or YAML settings file (env CITYPASS_ORACLE_* and flags override it).",
)


@main.command(short_help="Create an encrypted keystore (the ORACLE submitter or a co-signer).")
@click.option("--keystore", required=True, type=PATH, help="Where to write the keystore.")
@file_option(
    "--import-key-file", "File with a hex private key to import (default: generate a new key)."
)
@file_option(
    "--password-file", "File with the keystore password (default: $CITYPASS_ORACLE_PASSWORD)."
)
@shown_option("--password-env", DEFAULT_PASSWORD_ENV, str)
def init(
    keystore: Path, import_key_file: Path | None, password_file: Path | None, password_env: str
) -> None:
    try:
        password = resolve_password(password_file, password_env)
        key = None
        if import_key_file is not None:
            try:
                key = bytes.fromhex(import_key_file.read_text().strip().removeprefix("0x"))
            except (OSError, ValueError) as exc:
                raise Abort(f"{import_key_file} must hold a hex private key ({exc})") from exc
        account = create_keystore(keystore, password, key)
    except OracleError as exc:
        raise Abort(str(exc)) from exc
    click.echo(json.dumps({"keystore": str(keystore), "address": account.address}))


# The contracts the daemon and its sweep read: a deployment file, or an address each.
contract_options = option_group(
    click.option("--deployment", type=PATH, help="deployments/<network>.json with the addresses."),
    click.option("--device-registry", help="DeviceRegistry address (overrides --deployment)."),
    click.option("--occupancy-oracle", help="OccupancyOracle address (overrides --deployment)."),
    click.option("--incident-registry", help="IncidentRegistry address (overrides --deployment)."),
)


@main.command(short_help="Run the daemon until SIGTERM.")
@config_option
@click.option("--host", help="Listen address for ingest, /health, /metrics [127.0.0.1].")
@click.option("--port", type=int, help="Listen port [8740].")
@click.option("--data-dir", type=PATH, help="Inbox, keystore and evidence [.citypass/oracle].")
@click.option("--rpc-url", help="The ledger node's JSON-RPC URL [http://127.0.0.1:8545].")
@contract_options
@click.option("--lease-market", help="LeaseMarket address (overrides --deployment).")
@click.option(
    "--api-url",
    help="The citypass-api holding residents' vehicle tags: match cameras' plate tags with it.",
)
@click.option("--keystore", type=PATH, help="The ORACLE submitter's keystore.")
@click.option(
    "--signer-keystore",
    "signer_keystores",
    multiple=True,
    type=PATH,
    help="An extra report co-signer's keystore, held by this same daemon (repeat for a quorum "
    "above 1): the single-organisation fallback; independent oracles use --peer instead.",
)
@click.option(
    "--peer",
    "peers",
    multiple=True,
    help="Another oracle daemon's base URL, e.g. http://127.0.0.1:8741 (repeat): reports then "
    "carry the on-chain quorum of signatures from separate daemons.",
)
@click.option("--cosign-wait-seconds", type=float, help="How long to wait for missing events [2].")
@click.option(
    "--proposer-timeout-seconds",
    type=float,
    help="How long the next daemon in turn waits for a sequence's proposer [10].",
)
@click.option(
    "--incidents/--no-incidents",
    "file_incidents",
    default=None,
    help="File plates and incidents (one designated daemon of several) [--incidents].",
)
@file_option(
    "--password-file", "File with the keystore password (default: $CITYPASS_ORACLE_PASSWORD)."
)
@click.option("--report-interval", type=float, help="Seconds between reports (block period).")
@click.option(
    "--debounce-seconds", type=float, help="How long a slot state must hold (0 disables) [3]."
)
@click.option(
    "--reconcile-seconds", type=float, help="Camera vs magnetometer disagreement window [10]."
)
@click.option(
    "--clock",
    type=click.Choice(["wall", "chain"]),
    help="Judge event times by the host clock or the ledger's block time [wall].",
)
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR [INFO].")
def run(config_file: Path | None, **flags: Any) -> None:
    try:
        settings = load_settings(config_file, overrides=flags)
        jsonlogs.configure(settings.log_level)
        password = resolve_password(settings.password_file, settings.password_env)
        submitter = load_keystore(settings.submitter_keystore, password)
        signers = [bytes(load_keystore(p, password).key) for p in settings.signer_keystores]
        from oracles.daemon import OracleDaemon

        daemon = OracleDaemon(settings, submitter, signers)
        asyncio.run(daemon.run())
    except OracleError as exc:
        raise Abort(str(exc)) from exc


@main.command(short_help="Shred evidence past its retention period (once), or list it.")
@config_option
@click.option("--data-dir", type=PATH, help="The daemon's data directory [.citypass/oracle].")
@click.option("--rpc-url", help="The ledger node's JSON-RPC URL (incidents' review status).")
@contract_options
@click.option(
    "--clock",
    type=click.Choice(["wall", "chain"]),
    help="Judge ages by the host clock or the ledger's block time [wall].",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="List what would be shredded (and what is held); change nothing.",
)
def sweep(config_file: Path | None, dry_run: bool, **flags: Any) -> None:
    """Apply the retention periods (CITYPASS_ORACLE_RETAIN_*_DAYS) to the evidence store: each
    object past its period has its data key destroyed, a deletion record appended, then its
    ciphertext removed. Objects on an inspector's hold are kept. Prints a JSON report."""
    try:
        settings = load_settings(config_file, overrides=flags)
        jsonlogs.configure(settings.log_level)
        from oracles.evidence import EvidenceConfig, EvidenceError, open_store
        from oracles.ledger import Ledger
        from oracles.sweep import sweep_evidence

        ledger = Ledger(
            settings.rpc_url, settings.device_registry, settings.occupancy_oracle,
            settings.incident_registry, settings.clock,
        )  # fmt: skip
        ledger.refresh_head()
        awaiting = _awaiting_evidence(settings.inbox_path)
        try:
            with open_store(EvidenceConfig.from_env(settings.evidence_path)) as store:
                report = sweep_evidence(
                    store, ledger, settings, ledger.now_ms() / 1000, dry_run=dry_run,
                    awaiting=awaiting,
                )  # fmt: skip
        except EvidenceError as exc:
            raise Abort(str(exc)) from exc
    except OracleError as exc:
        raise Abort(str(exc)) from exc
    click.echo(json.dumps(report.as_json(), indent=2))


def _awaiting_evidence(inbox_path: Path) -> set[bytes]:
    """The evidence of incidents the daemon has yet to file (its inbox, if it has run here)."""
    if not inbox_path.exists():
        return set()
    import sqlite3

    from oracles.inbox import Inbox

    try:
        inbox = Inbox(inbox_path)
        try:
            return inbox.awaiting_evidence()
        finally:
            inbox.close()
    except sqlite3.Error as exc:
        # Not knowing which stills wait for their incident, the sweep shreds none.
        raise OracleError(
            f"cannot read the daemon's inbox {inbox_path} ({exc}): nothing was swept; "
            "restore it from a backup or stop the daemon and check it with `sqlite3`"
        ) from exc


@main.command(short_help="Print the /health of a running daemon.")
@shown_option("--url", "http://127.0.0.1:8740", str)
def status(url: str) -> None:
    try:
        reply = requests.get(url.rstrip("/") + "/health", timeout=5)
        reply.raise_for_status()
    except requests.RequestException as exc:
        raise Abort(f"no oracle daemon answers at {url} ({exc}); is it running?") from exc
    click.echo(json.dumps(reply.json(), indent=2))


if __name__ == "__main__":
    main()
