"""`citypass-edge`: init, run, simulate, devices and status for the edge oracle."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from citypass.core import jsonlogs
from citypass.core.cli import Abort, file_option, log_level_option, option_group, shown_option
from edge_oracle.errors import EdgeOracleError

password_file_option = file_option(
    "--password-file", "File holding the keystore password (default: $CITYPASS_EDGE_PASSWORD)."
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The edge's data directory (keystore, outbox) [env CITYPASS_EDGE_DATA_DIR].",
)


chain_options = option_group(
    click.option("--oracle-url", help="The oracle daemon [env CITYPASS_EDGE_ORACLE_URL]."),
    click.option("--chain-id", type=int, help="Ledger chain id [env CITYPASS_EDGE_CHAIN_ID]."),
    click.option("--registry", help="DeviceRegistry address [env CITYPASS_EDGE_REGISTRY]."),
    click.option(
        "--devices-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Keys for many sensors [env CITYPASS_EDGE_DEVICES_FILE].",
    ),
    click.option("--batch-events", type=int, help="Events per batch (≤ 500)."),
    click.option("--batch-bytes", type=int, help="Bytes per batch (≤ 16 MiB)."),
)


def _settings(overrides: dict[str, Any], need_chain: bool = True) -> Any:
    from edge_oracle.config import EdgeSettings

    return EdgeSettings.load(overrides, need_chain=need_chain)


def _keys(settings: Any, password_file: Path | None, kind: str = "magnetometer") -> Any:
    from edge_oracle.devices import KeyRing, load_devices_file, single_key
    from edge_oracle.keystore import PASSWORD_ENV, load_device_key, resolve_password

    if settings.devices_file is not None:
        import os

        encrypted = '"keystore"' in settings.devices_file.read_text()
        has_password = password_file is not None or os.environ.get(PASSWORD_ENV)
        password = resolve_password(password_file) if encrypted or has_password else None
        return load_devices_file(settings.devices_file, password)
    account = load_device_key(settings.data_dir, resolve_password(password_file))
    return KeyRing([], single_key(account, kind))


@click.group(
    help="The CityPass edge oracle: reads sensors and AI cameras, signs their events with the "
    "device key, keeps them in a durable outbox and delivers them to the oracle daemon."
)
def main() -> None:
    pass


@main.command(short_help="Create the device key (encrypted keystore) in a data directory.")
@data_dir_option
@password_file_option
def init(data_dir: Path | None, password_file: Path | None) -> None:
    """Create an encrypted (scrypt) device keystore under DATA_DIR/keystore and print the device
    address, for the city to register in the DeviceRegistry."""
    from edge_oracle.keystore import create_device_key, keystore_path, resolve_password

    try:
        settings = _settings({"data_dir": data_dir}, need_chain=False)
        account = create_device_key(settings.data_dir, resolve_password(password_file))
    except EdgeOracleError as exc:
        raise Abort(str(exc)) from exc
    click.echo(f"device address {account.address}")
    click.echo(f"keystore       {keystore_path(settings.data_dir)} (encrypted; back it up)")


@main.command(short_help="Read inputs, sign, buffer and deliver events until SIGTERM.")
@data_dir_option
@chain_options
@password_file_option
@click.option(
    "--sensors",
    multiple=True,
    help="Magnetometer/ultrasonic JSON lines: a file, a FIFO or serial device, or - for stdin.",
)
@click.option("--cameras", multiple=True, help="Camera detections (DeepStream-like JSON lines).")
@click.option("--follow", is_flag=True, help="Keep reading files as they grow (like tail -f).")
@shown_option(
    "--kind",
    "magnetometer",
    click.Choice(["magnetometer", "ultrasonic", "camera"]),
    "What this box's own key is registered as (without --devices-file).",
)
@click.option("--listen-host", help="Address for /health and /metrics (loopback by default).")
@click.option("--listen-port", type=int, help="Port for /health and /metrics [default 9108].")
@click.option(
    "--exit-when-done", is_flag=True, help="Stop once the inputs end and all is delivered."
)
@log_level_option()
def run(
    data_dir: Path | None,
    password_file: Path | None,
    sensors: tuple[str, ...],
    cameras: tuple[str, ...],
    follow: bool,
    kind: str,
    listen_host: str | None,
    listen_port: int | None,
    exit_when_done: bool,
    log_level: str,
    **chain: Any,
) -> None:
    """Run the edge daemon: read the inputs, normalise and sign every event into the outbox,
    deliver batches to the oracle daemon; serve /health and /metrics on loopback."""
    from edge_oracle.adapters.sources import LineSource
    from edge_oracle.daemon import run_daemon

    if not sensors and not cameras:
        raise Abort("no inputs: give --sensors PATH and/or --cameras PATH (- for stdin)")
    jsonlogs.configure(log_level)
    try:
        settings = _settings(
            {"data_dir": data_dir, "listen_host": listen_host, "listen_port": listen_port, **chain}
        )
        keys = _keys(settings, password_file, kind)
        sources = [LineSource(s, "slot", follow=follow) for s in sensors]
        sources += [LineSource(c, "camera", follow=follow) for c in cameras]
        asyncio.run(run_daemon(settings, keys, sources, exit_when_done=exit_when_done))
    except EdgeOracleError as exc:
        raise Abort(str(exc)) from exc


@main.command(short_help="Simulate a Sangsalmi day: write input files or deliver them.")
@shown_option("--seed", 1, int)
@shown_option("--start", "2026-11-24T00:00:00+09:00", str, "Start (ISO, KST if no offset).")
@shown_option("--hours", 24.0, click.FloatRange(0.01, 168))
@shown_option("--slots", 280, click.IntRange(1, 100_000))
@shown_option("--vehicles", 389, click.IntRange(0, 1_000_000))
@shown_option("--street-bays", 0, click.IntRange(0, 100_000), "Non-shared bays watched by cameras.")
@shown_option(
    "--error-rate", 0.03, click.FloatRange(0, 0.5), "Share of sensor changes reported wrong."
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write input files here."
)
@click.option("--deliver", is_flag=True, help="Deliver straight to the oracle daemon instead.")
@shown_option(
    "--speed",
    0.0,
    click.FloatRange(0),
    "Simulated seconds per wall second; 0 = as fast as possible.",
)
@data_dir_option
@chain_options
@password_file_option
def simulate(
    seed: int,
    start: str,
    hours: float,
    slots: int,
    vehicles: int,
    street_bays: int,
    error_rate: float,
    out: Path | None,
    deliver: bool,
    speed: float,
    data_dir: Path | None,
    password_file: Path | None,
    **chain: Any,
) -> None:
    """Simulate a day in the Sangsalmi village (deterministic for --seed). With --out, write
    magnetometer.jsonl, camera.jsonl, images/ and devices.json for `run`; with --deliver, send
    the day through an outbox in --data-dir to the oracle daemon, signed with --devices-file."""
    from citypass.core.timeunits import KST
    from edge_oracle.simulator.day import SimConfig, plan_day

    if bool(out) == deliver:
        raise Abort("choose one: --out DIR (write input files) or --deliver (send to the daemon)")
    try:
        moment = datetime.fromisoformat(start)
    except ValueError as exc:
        raise Abort(
            f"--start {start!r} is not an ISO date/time like 2026-11-24T00:00:00+09:00"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KST)
    day = plan_day(SimConfig(seed, moment, slots, vehicles, street_bays, error_rate, hours))
    summary: dict[str, Any] = {
        "sessions": len(day.sessions),
        "readings": len(day.readings),
        "sensorChanges": day.true_changes,
        "errors": dict(day.errors),
        "turnedAway": day.turned_away,
    }
    if out is not None:
        from edge_oracle.simulator.writer import write_day

        summary.update(write_day(day, out))
        click.echo(json.dumps(summary))
        return
    from edge_oracle.simulator.deliver import deliver_day

    jsonlogs.configure("WARNING")
    try:
        settings = _settings({"data_dir": data_dir, **chain})
        if settings.devices_file is None:
            raise EdgeOracleError(
                "--deliver needs --devices-file (see `citypass-edge devices create`)"
            )
        keys = _keys(settings, password_file)
        with click.progressbar(
            length=len(day.readings), label="Simulating", file=sys.stderr
        ) as bar:
            summary.update(asyncio.run(deliver_day(day, settings, keys, speed, bar.update)))
    except EdgeOracleError as exc:
        raise Abort(str(exc)) from exc
    click.echo(json.dumps(summary))


@main.group(short_help="Create or export the simulated village's device keys and bindings.")
def devices() -> None:
    """Device keys for many sensors (the simulator, or a gateway speaking for many sensors)."""


@devices.command("create", short_help="Create keys for a village layout in a devices file.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@shown_option("--slots", 280, click.IntRange(1, 100_000))
@shown_option("--street-bays", 0, click.IntRange(0, 100_000))
@click.option(
    "--throwaway", is_flag=True, help="TEST ONLY: keys in the clear, marked as throwaway."
)
@click.option("--seed", type=int, help="With --throwaway: derive the keys from this seed.")
@password_file_option
def devices_create(
    out: Path,
    slots: int,
    street_bays: int,
    throwaway: bool,
    seed: int | None,
    password_file: Path | None,
) -> None:
    """One key per magnetometer and camera of the layout `simulate` uses with the same
    --slots / --street-bays. Keys are encrypted with the password unless --throwaway."""
    from edge_oracle.devices import create_devices_file
    from edge_oracle.keystore import resolve_password
    from edge_oracle.simulator.layout import village_layout

    if seed is not None and not throwaway:
        raise Abort("--seed derives predictable keys: only allowed with --throwaway")
    try:
        password = None if throwaway else resolve_password(password_file)
        ring = create_devices_file(
            out, village_layout(slots, street_bays).devices(), password, seed=seed
        )
    except EdgeOracleError as exc:
        raise Abort(str(exc)) from exc
    click.echo(
        f"{len(ring.by_sensor)} devices written to {out}"
        + (" (THROWAWAY TEST KEYS)" if throwaway else "")
    )


@devices.command("export", short_help="Print the device list and slot bindings as JSON.")
@click.option("--devices-file", required=True, type=click.Path(dir_okay=False, path_type=Path))
def devices_export(devices_file: Path) -> None:
    """JSON for registering the devices in the DeviceRegistry (address, kind, kindId, slots);
    no keys, no password needed."""
    from edge_oracle.devices import read_bindings

    try:
        click.echo(json.dumps({"devices": read_bindings(devices_file)}, indent=1))
    except EdgeOracleError as exc:
        raise Abort(str(exc)) from exc


@main.command(short_help="Show the outbox: pending, delivered, dead letters, sequences.")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(data_dir: Path | None, as_json: bool) -> None:
    """Read the outbox in the data directory (works while the daemon runs)."""
    from edge_oracle.outbox import Outbox

    try:
        settings = _settings({"data_dir": data_dir}, need_chain=False)
        if not settings.outbox_path.exists():
            raise EdgeOracleError(
                f"no outbox at {settings.outbox_path}: has `citypass-edge run` been started?"
            )
        outbox = Outbox(settings.outbox_path)
    except EdgeOracleError as exc:
        raise Abort(str(exc)) from exc
    try:
        report: dict[str, Any] = {
            **outbox.counts(),
            "lastDeliveryMs": outbox.last_delivery_ms(),
            "devices": len(outbox.sequences()),
            "deadLetters": [vars(d) for d in outbox.dead_letters()],
        }
    finally:
        outbox.close()
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    click.echo(f"pending        {report['pending']}")
    click.echo(f"delivered      {report['delivered']}")
    click.echo(f"dead letters   {report['deadLettered']}")
    click.echo(f"devices        {report['devices']}")
    last = report["lastDeliveryMs"]
    click.echo(
        f"last delivery  {datetime.fromtimestamp(last / 1000).isoformat() if last else 'never'}"
    )
    for dead in report["deadLetters"]:
        click.echo(
            f"  dead {dead['event_id']} seq {dead['sequence']} {dead['event_type']}: {dead['reason']}: {dead['message']}"
        )


if __name__ == "__main__":
    main()
