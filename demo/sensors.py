"""The demo's sensor side: magnetometers on the 280 shared spaces and AI cameras on the streets,
an edge oracle (`citypass-edge run`) reading their output, and three organisations' oracle
daemons (`citypass-oracle run`, demo/oracles.py) turning it into OccupancyOracle reports, 2 of 3
signing each, and incidents on the ledger.

The demo writes what the sensors would see (arrivals, departures, 3 h heartbeats, camera
detections) into the edge's input files as the simulated day advances, then waits until the
oracles have put it on chain before moving the clock on, so occupancy drives the lease market
exactly as it would live: arrivals check leases in, departures settle them (overstay included),
and parking on a shared space without a lease becomes an incident.
"""

from __future__ import annotations

import base64
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from eth_account import Account

from citypass.chain.session import free_port, head_time
from citypass.core.timeunits import kst, month_of
from citypass.protocol.sensor_events import INCIDENT_TYPES
from demo.children import ChildDaemon, get_json, supervise
from demo.oracles import ORGANISATIONS, OracleDaemon, start_oracles
from demo.world import World
from edge_oracle.devices import create_devices_file
from edge_oracle.readings import CameraDetection
from edge_oracle.simulator.layout import village_layout

MAGNETOMETER_LATENCY_S = 6  # DESIGN §4: 5–7 s from a car arriving to "occupied"
STREET_BAYS = 40  # camera-watched street bays where illegal parking is seen
STREET_BAY_FIRST_ID = 10_000  # the edge simulator numbers street bays from here
# With sensors, the chain waits for the oracle's reports whenever the day crosses a 10-minute
# boundary after a sensor event: a lease is checked in at most that late after the car arrived.
SENSOR_TICK = 600
CATCH_UP_TIMEOUT_S = 60
QUIET_S = 3.0  # no new block for this long ends the day: the oracle reports every 0.5 s


@dataclass(frozen=True)
class PlateSighting:
    """A camera reading a plate as a car parks or leaves (demo/plates.py): the plate is in the
    camera's own line only; the edge hashes it with the month key and drops it."""

    detection: CameraDetection
    plate: str

    @property
    def ts_ms(self) -> int:
        return self.detection.ts_ms


@dataclass
class SensorStats:
    readings: int = 0
    camera_detections: int = 0
    waits: int = 0
    slow_waits: int = 0
    incidents_by_kind: Counter = field(default_factory=Counter)


@dataclass
class SensorRig:
    root: Path
    world: World
    oracles: list[OracleDaemon]
    edge: ChildDaemon
    magnetometers: dict[int, str]  # slot id → sensor id
    cameras: dict[str, tuple[int, ...]]
    stats: SensorStats = field(default_factory=SensorStats)
    state: dict[int, bool] = field(default_factory=dict)
    _emitted_ms: int = 0

    @property
    def daemons(self) -> list[ChildDaemon]:
        """The rig's daemons, each restarted if it dies (demo/children.py)."""
        return [*self.oracles, self.edge]

    @property
    def edge_url(self) -> str:
        return self.edge.url

    @property
    def sensors_file(self) -> Path:
        return self.root / "input" / "magnetometer.jsonl"

    @property
    def cameras_file(self) -> Path:
        return self.root / "input" / "camera.jsonl"

    def slot_changed(self, slot_id: int, occupied: bool, when: int) -> None:
        """A car arrived at (or left) a shared space at `when`; the magnetometer says so a few
        seconds later."""
        self.state[slot_id] = occupied
        self._write_reading(slot_id, occupied, when + MAGNETOMETER_LATENCY_S, heartbeat=False)

    def heartbeat(self, when: int) -> None:
        """Every magnetometer's 3-hourly report of its current state."""
        for slot_id in self.magnetometers:
            self._write_reading(slot_id, self.state.get(slot_id, False), when, heartbeat=True)

    def camera(self, seen: CameraDetection | PlateSighting, when: int) -> None:
        detection = seen.detection if isinstance(seen, PlateSighting) else seen
        vehicle = {"type": detection.vehicle_type or "car"}
        if isinstance(seen, PlateSighting):
            vehicle["license"] = seen.plate  # DeepStream's field: the edge hashes and drops it
        line = {
            "sensor": {"id": detection.sensor},
            "place": {"id": str(detection.slot)},
            "object": {"vehicle": vehicle},
            "event": {"type": detection.event},
            "confidence": detection.confidence_bps / 10_000,
            "@timestamp": when * 1000,
            "image": base64.b64encode(detection.image or b"").decode(),
        }
        self._append(self.cameras_file, line, when)
        self.stats.camera_detections += 1

    def _write_reading(self, slot_id: int, occupied: bool, when: int, heartbeat: bool) -> None:
        line = {
            "sensor": self.magnetometers[slot_id],
            "slot": slot_id,
            "occupied": occupied,
            "ts": when * 1000,
            "kind": "magnetometer",
            "heartbeat": heartbeat,
        }
        self._append(self.sensors_file, line, when)
        self.stats.readings += 1

    def _append(self, path: Path, line: dict[str, Any], when: int) -> None:
        with path.open("a") as handle:
            handle.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._emitted_ms = max(self._emitted_ms, when * 1000)

    def wait_until_on_chain(self, settled: bool = False) -> None:
        """Block until the edge has delivered everything written so far and the oracle has
        reported it, so the next step of the day sees the lease market the sensors drove.
        `settled`: also until no slot's new state is still being debounced (at the end of the
        day, so the summary reads a chain nothing more will happen to; mid-day a debounce only
        delays a report by its few seconds)."""
        if not self._emitted_ms:
            return
        self.stats.waits += 1
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
        while time.monotonic() < deadline:
            supervise(self.daemons)
            drained = self._edge_drained() and self._oracles_drained(settled)
            if drained and (not settled or self._chain_quiet()):
                return
            time.sleep(0.1)
        self.stats.slow_waits += 1

    def _chain_quiet(self) -> bool:
        """No block for QUIET_S: the oracle's last report (sent every 0.5 s here) is mined."""
        from brownie import web3

        head = web3.eth.block_number
        time.sleep(QUIET_S)
        return web3.eth.block_number == head

    def _edge_drained(self) -> bool:
        """The edge has signed every line we wrote (its positions in the input files, which a
        restart keeps) and delivered every event."""
        health = get_json(self.edge_url + "/health")
        if health is None or health.get("outboxDepth") != 0:
            return False
        taken = sum(health.get("inputLines", {}).values())
        return taken >= self.stats.readings + self.stats.camera_detections

    def _oracles_drained(self, settled: bool = False) -> bool:
        # Every daemon: each co-signs only what its own events say, so a report waits for
        # the slowest of the quorum, and the others' pending reports settle against it.
        return all(daemon.drained(settled) for daemon in self.oracles)


def oracle_data_dir(root: Path) -> Path:
    """The data directory, in the rig's `root`, of the oracle daemon that files incidents (the
    village enterprise's): the API reads its evidence for inspectors."""
    return root / next(o.directory for o in ORGANISATIONS if o.files_incidents)


def start_sensor_rig(
    world: World, rpc_url: str, chain_id: int, root: Path, api: tuple[str, Path] | None = None
) -> SensorRig:
    """Register the devices on chain, flag the shared spaces as market slots, start the three
    oracle daemons and the edge oracle as child processes. With `api` (its URL and data
    directory), the daemon filing incidents matches cameras' plate tags with it and the edge gets the month keys of the
    ledger's month and the next (`citypass-api plate-keys`)."""
    system, people = world.system, world.people
    # A new chain each run: the previous run's outbox, inbox and keys belong to a dead chain.
    shutil.rmtree(root, ignore_errors=True)
    (root / "input").mkdir(parents=True, exist_ok=True)
    for name in ("magnetometer.jsonl", "camera.jsonl"):
        (root / "input" / name).touch()
    slot_ids = sorted(slot.slot_id for slot in world.slots)
    layout = village_layout(slots=len(slot_ids), street_bays=STREET_BAYS, first_slot=slot_ids[0])
    if tuple(slot_ids) != layout.shared_slots:
        raise click.ClickException(
            "the shared spaces are not numbered 1…N as the sensor layout expects"
        )
    # Keys made for this run, kept only in encrypted form on disk (the password lives in memory
    # and in the children's environment).
    edge_password = secrets.token_urlsafe(24)
    entries = [
        {"sensor": sensor, "kind": "magnetometer", "slots": [slot]}
        for sensor, slot in layout.magnetometers.items()
    ] + [
        {"sensor": sensor, "kind": "camera", "slots": list(bays)}
        for sensor, bays in layout.cameras.items()
    ]
    devices_file = root / "devices.json"
    keyring = create_devices_file(devices_file, entries, edge_password)
    operator = {"from": people.operator}
    bindings = keyring.bindings()
    with click.progressbar(
        bindings, label="Registering sensors and cameras", file=sys.stderr
    ) as bar:
        for binding in bar:
            system.devices.registerDevice(
                binding["address"], binding["kindId"], binding["slots"], operator
            )
    for word in sorted({slot >> 8 for slot in slot_ids}):
        mask = sum(1 << (slot & 255) for slot in slot_ids if slot >> 8 == word)
        system.occupancy.setMarketSlots(word, mask, operator)

    deployment = root / "deployment.json"
    deployment.write_text(
        json.dumps({"network": "demo", "chainId": chain_id, "contracts": system.addresses()})
    )
    env = dict(os.environ)
    # Three organisations' oracle daemons, 2 of 3 signing each report (demo/oracles.py).
    oracles = start_oracles(
        system, people.admin, bytes(Account.from_key(people.oracle.private_key).key), rpc_url,
        deployment, root, env,
        api[0] if api is not None else None,
    )  # fmt: skip
    env["CITYPASS_EDGE_PASSWORD"] = edge_password
    if api is not None:
        _provision_plate_keys(api[1], root / "edge" / "plate-keys.json")
    edge_port = free_port()
    edge = ChildDaemon(
        name="edge oracle",
        url=f"http://127.0.0.1:{edge_port}",
        data_dir=root / "edge",
        args=[
            "edge_oracle.cli",
            "run",
            "--data-dir",
            str(root / "edge"),
            "--oracle-url",
            # The edge delivers every signed event to each daemon, each at its own pace.
            ",".join(daemon.url for daemon in oracles),
            "--chain-id",
            str(chain_id),
            "--registry",
            system.devices.address,
            "--devices-file",
            str(devices_file),
            "--sensors",
            str(root / "input" / "magnetometer.jsonl"),
            "--cameras",
            str(root / "input" / "camera.jsonl"),
            "--follow",
            "--listen-port",
            str(edge_port),
        ],
        env=env,
        log=root / "edge oracle.log",
    ).start()
    edge.wait_healthy()
    return SensorRig(
        root,
        world,
        oracles,
        edge,
        {slot: sensor for sensor, slot in layout.magnetometers.items()},
        dict(layout.cameras),
    )


def _provision_plate_keys(api_data_dir: Path, out: Path) -> None:
    """The operator's command (docs/edge-oracle.md): the month keys of the ledger's KST month
    and the next (the simulated day ends the next morning, maybe in a new month)."""
    made = subprocess.run(
        [sys.executable, "-m", "api", "plate-keys", "--data-dir", str(api_data_dir),
         "--out", str(out), "--from", month_of(head_time()), "--months", "2"],
        capture_output=True, text=True,
    )  # fmt: skip
    if made.returncode != 0:
        raise click.ClickException(f"provisioning the cameras' month keys: {made.stderr.strip()}")


def street_camera_detections(day: int, seed: int, slots: int) -> list[CameraDetection]:
    """The AI cameras' other incidents of the day from the edge simulator: illegal dumping and
    jaywalking (each with a generated still). Illegal parking comes from the demand model
    instead (`illegal_parking_detections`): the vehicles that found no legal space."""
    from edge_oracle.simulator.day import SimConfig, plan_day

    simulated = plan_day(
        SimConfig(
            seed=seed,
            start=kst(day),
            slots=slots,
            street_bays=STREET_BAYS,
        )
    )
    return [
        reading
        for reading in simulated.readings
        if isinstance(reading, CameraDetection)
        and reading.event in INCIDENT_TYPES
        and reading.event != "illegal_parking"
    ]


def illegal_parking_detections(
    times: list[int], cameras: Mapping[str, tuple[int, ...]], seed: int
) -> list[CameraDetection]:
    """The street cameras' records of the demand model's illegal parkers (demo/demand.py), at
    `times`: each on a camera-watched street bay, with a generated still."""
    from edge_oracle.simulator.png import generated_still

    rng = random.Random(seed)
    bays = [
        (sensor, bay)
        for sensor, watched in cameras.items()
        for bay in watched
        if bay >= STREET_BAY_FIRST_ID
    ]
    detections = []
    for at in times:
        sensor, bay = rng.choice(bays)
        detections.append(
            CameraDetection(
                sensor=sensor,
                slot=bay,
                event="illegal_parking",
                vehicle_type="car",
                confidence_bps=rng.randrange(6_000, 9_900),
                ts_ms=at * 1000,
                image=generated_still(rng, "illegal_parking"),
            )
        )
    return detections


def run_cameras_only(
    rig: SensorRig, detections: list[CameraDetection], advance_to: Callable[[int], None]
) -> None:
    """A day of street cameras alone (the day before sharing): each detection goes through the
    edge and the oracle at its time, the chain waiting for the reports at each SENSOR_TICK."""
    flush_before = None
    with click.progressbar(
        detections, label="The day before sharing: street cameras", file=sys.stderr
    ) as bar:
        for detection in bar:
            when = detection.ts_ms // 1000
            if flush_before is not None and when >= flush_before:
                rig.wait_until_on_chain()
            if head_time() < when:
                advance_to(when)
            rig.camera(detection, when)
            flush_before = (when // SENSOR_TICK + 1) * SENSOR_TICK
    rig.wait_until_on_chain()
