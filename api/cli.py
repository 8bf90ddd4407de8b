"""`citypass-api`: serve the API, create the relayer's, onboarding or treasury keystore, or
provision an edge camera's plate month keys. Failures are one `error:`
line (exit 1), never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from api.errors import ApiError, SettingsError
from api.settings import FOLLOW_MODES, Settings
from citypass.core import jsonlogs
from citypass.core.daemon import stop_signals
from indexer.errors import IndexerError


def _abort(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def _settings(**options: Any) -> Settings:
    return Settings.from_env(**options)


def _data_dir_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--data-dir", type=click.Path(path_type=Path), help=f"{what} [CITYPASS_API_DATA_DIR]"
    )


@click.group(help="CityPass API for residents' wallet apps (FastAPI).")
def main() -> None:
    pass


@main.command(short_help="Serve the API (and follow the chain into the read model).")
@click.option("--host", help="bind address [CITYPASS_API_HOST, default 127.0.0.1]")
@click.option("--port", type=int, help="port [CITYPASS_API_PORT, default 8080]")
@click.option("--rpc-url", help="ledger node JSON-RPC URL [CITYPASS_API_RPC_URL]")
@click.option(
    "--db", help="read-model database URL, sqlite:///… or postgresql://… [CITYPASS_API_DB]"
)
@click.option(
    "--deployment", type=click.Path(path_type=Path),
    help="deployments/<network>.json [CITYPASS_API_DEPLOYMENT]",
)  # fmt: skip
@_data_dir_option("holds keystore/relayer.json and treasury.json (git-ignored)")
@click.option(
    "--follow/--no-follow", default=None,
    help="keep the read model following the chain (default) or rely on `python -m indexer run`",
)  # fmt: skip
@click.option(
    "--follow-mode", type=click.Choice(FOLLOW_MODES), default=None,
    help="follower as a child process (own interpreter) or a thread of the API "
    "[CITYPASS_API_FOLLOW_MODE, default process]",
)  # fmt: skip
@click.option(
    "--replica", is_flag=True, default=None,
    help="a read replica: public reads only over the primary's read model, no key, no follower "
    "(docs/api.md, Read replicas) [CITYPASS_API_REPLICA]",
)  # fmt: skip
@click.option("--log-level", default="INFO", show_default=True)
def serve(log_level: str, **options: Any) -> None:
    """Serve /v1 on HOST:PORT. The relayer password comes from CITYPASS_API_PASSWORD (a
    --replica holds no key and needs none)."""
    import uvicorn

    from api.app import create_app
    from api.collector import settle_collector
    from api.routers.applications import check_auto_approve

    jsonlogs.configure(log_level)
    try:
        settings = _settings(**options)
        if not settings.replica:
            check_auto_approve(settings)
        app = create_app(settings)
    except (ApiError, IndexerError) as exc:
        _abort(exc)
        return
    settle_collector()  # this process only serves from here on (api/collector.py)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal to whatever
    # handler was installed before it: a no-op one makes a clean stop exit 0, as our daemons do.
    with stop_signals(lambda _signum: None):
        # log_config=None keeps our JSON-line handler; uvicorn's access log is replaced by ours.
        uvicorn.run(
            app, host=settings.host, port=settings.port, log_config=None, access_log=False,
            timeout_graceful_shutdown=10,
        )  # fmt: skip


def _create_key(data_dir: Path | None, onboarder: bool) -> None:
    """A new key encrypted under CITYPASS_API_PASSWORD in the data dir; prints its address."""
    from api.errors import OnboarderKeyError, RelayerKeyError
    from api.keystore import create_keystore

    try:
        settings = _settings(data_dir=data_dir)
        error: type[ApiError] = OnboarderKeyError if onboarder else RelayerKeyError
        path = settings.onboarder_keystore_path if onboarder else settings.keystore_path
        account = create_keystore(path, settings.password, error)
    except ApiError as exc:
        _abort(exc)
        return
    click.echo(account.address)


@main.command("init-relayer", short_help="Create the relayer keystore; prints its address.")
@_data_dir_option("where keystore/relayer.json goes")
def init_relayer(data_dir: Path | None) -> None:
    """Create a new relayer key encrypted under CITYPASS_API_PASSWORD. Onboard the printed
    address as a CityAccess member so the ledger gateway lets it transact."""
    _create_key(data_dir, onboarder=False)


@main.command(
    "init-onboarder", short_help="Create the key that onboards approved applicants; prints it."
)
@_data_dir_option("where keystore/onboarder.json goes")
def init_onboarder(data_dir: Path | None) -> None:
    """Create the onboarding key encrypted under CITYPASS_API_PASSWORD. Grant the printed
    address OPERATOR on CityAccess (scripts/grant_role.py) so approving an application (or
    CITYPASS_API_AUTO_APPROVE) can onboard the applicant."""
    _create_key(data_dir, onboarder=True)


@main.command(
    "init-treasury", short_help="Create or import the treasury keystore; prints its address."
)
@_data_dir_option("where keystore/treasury.json goes")
@click.option(
    "--import-keystore", type=click.Path(path_type=Path, dir_okay=False),
    help="an existing V3 keystore of a TREASURY holder to import (e.g. the demo's treasury.json)",
)  # fmt: skip
@click.option(
    "--import-password-file", type=click.Path(path_type=Path, dir_okay=False),
    help="the imported keystore's password [or CITYPASS_API_IMPORT_PASSWORD]",
)  # fmt: skip
def init_treasury(
    data_dir: Path | None, import_keystore: Path | None, import_password_file: Path | None
) -> None:
    """Write the key that mints top-ups and burns cash-outs, encrypted under
    CITYPASS_API_TREASURY_PASSWORD. A new key must then be granted TREASURY on CityAccess by
    the city administrator; an imported one keeps the roles it holds."""
    from api.errors import TreasuryKeyError
    from api.keystore import create_treasury_keystore
    from citypass.core import keystore

    try:
        settings = _settings(data_dir=data_dir)
        private_key = None
        if import_keystore is not None:
            secret = keystore.resolve_secret(
                import_password_file, "CITYPASS_API_IMPORT_PASSWORD", error=TreasuryKeyError,
                what="password of the keystore to import", file_option="--import-password-file",
            )  # fmt: skip
            private_key = bytes(
                keystore.load_keystore(
                    import_keystore, secret, error=TreasuryKeyError,
                    name="the keystore to import", missing_hint="check --import-keystore",
                    password_name="--import-password-file",
                ).key
            )  # fmt: skip
        elif import_password_file is not None:
            raise TreasuryKeyError("--import-password-file needs --import-keystore")
        account = create_treasury_keystore(
            settings.treasury_keystore_path, settings.treasury_password, private_key
        )
    except ApiError as exc:
        _abort(exc)
        return
    click.echo(account.address)


@main.command(short_help="Shred personal records past their retention period (once), or list.")
@click.option(
    "--db", help="read-model database URL, sqlite:///… or postgresql://… [CITYPASS_API_DB]"
)
@_data_dir_option("holds keys.sqlite, the personal records' data keys")
@click.option(
    "--dry-run", is_flag=True, help="list what would be shredded (and what is held); change nothing"
)
def sweep(dry_run: bool, **options: Any) -> None:
    """Apply the retention periods (CITYPASS_API_RETAIN_*_DAYS) to the personal records this
    API keeps off chain (membership applications' name, phone and home address; registered
    vehicles' plate tags): each record
    past its period has its data key destroyed and a deletion record appended, then its
    ciphertext removed. The running API sweeps by itself every CITYPASS_API_RETENTION_SWEEP_SECONDS;
    this runs one sweep now. Prints a JSON report."""
    import json

    from api.applications.tables import create_tables
    from api.retention import open_record_keys, sweep_records
    from api.vehicles.tables import create_tables as create_vehicle_tables
    from indexer.db import make_engine

    try:
        settings = _settings(**options)
        engine = make_engine(settings.db)
        create_tables(engine)
        create_vehicle_tables(engine)
        keys = open_record_keys(settings)
        try:
            report = sweep_records(settings, engine, keys, dry_run=dry_run)
        finally:
            keys.close()
            engine.dispose()
    except (ApiError, IndexerError) as exc:
        _abort(exc)
        return
    click.echo(json.dumps(report.as_json(), indent=2))


@main.command(
    "plate-keys", short_help="Write month keys of the plate-tag secret for an edge camera."
)
@_data_dir_option("holds plate-tag.key, the plate-tag secret")
@click.option(
    "--out", required=True, type=click.Path(path_type=Path, dir_okay=False),
    help="the edge daemon's month keys file (its data dir's plate-keys.json)",
)  # fmt: skip
@click.option(
    "--from", "first", default=None, metavar="YYYY-MM",
    help="the first month [default: this KST month by this machine's clock]",
)  # fmt: skip
@click.option(
    "--months", type=int, default=2, show_default=True,
    help="how many months from --from (this one and the next: 2)",
)  # fmt: skip
def plate_keys(data_dir: Path | None, out: Path, first: str | None, months: int) -> None:
    """Derive the month keys (HMAC-SHA256(secret, "citypass-plate-tag|YYYY-MM")) and write
    them, 0600, into OUT, keeping its months that are not past. The secret itself is never
    written there. Prints the months the file holds."""
    import time

    from api.vehicles.provision import provision
    from citypass.core.timeunits import month_of
    from citypass.protocol.plate_tags import MonthFormatError, check_month

    try:
        if not 1 <= months <= 12:
            raise SettingsError(f"--months {months} is out of range: use 1 … 12")
        try:
            start = check_month(first) if first is not None else month_of(int(time.time()))
        except MonthFormatError as exc:
            raise SettingsError(f"--from: {exc}") from None
        settings = _settings(data_dir=data_dir)
        held = provision(settings.data_dir, out, start, months)
    except ApiError as exc:
        _abort(exc)
        return
    click.echo(" ".join(held))


if __name__ == "__main__":
    main()
