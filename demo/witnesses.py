"""Witnesses as the demo runs them (docs/witnesses.md): two other organisations, the village
enterprise and the city's audit office, each run `ledger-node witness run` beside the demo's
node, with its own key (an encrypted keystore under a password of its own), data directory and
engine. Each follows the node's journal with the demo's `witness` token, re-executes every
block and co-signs checkpoints; the admin puts both in CityAccess's witness set with their
names, so the node collects their co-signatures and the explorer shows "2 of 2"."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import requests
from eth_utils import to_checksum_address

from citypass.core.net import free_port
from citypass.protocol.witness_names import encode_witness_name
from demo.children import ChildDaemon, get_json, supervise
from ledger_node.config import CONFIG_FILE, GENESIS_FILE
from ledger_node.witness.config import WITNESS_KEY

LABELS = ("village-enterprise", "audit-office")
# Engine state dumps, for a restart to replay fewer blocks: rare here, where every run is a new
# chain and a dump of the whole state costs the witness a pause.
SNAPSHOT_EVERY = 2000
INIT_TIMEOUT_S = 120
# At the end of the day each witness re-executes the last blocks and co-signs the head.
CATCH_UP_TIMEOUT_S = 180


@dataclass
class DemoWitness(ChildDaemon):
    address: str  # its key's
    label: str  # its name in CityAccess's witness set


def start_witnesses(
    system: Any, admin: Any, node_url: str, node_data_dir: Path, root: Path, env: dict[str, str]
) -> list[DemoWitness]:
    """`ledger-node witness init` for each of LABELS (against the node at `node_url`, which
    carries the witness token; the node's genesis file and authority are the trust anchor),
    each key put in CityAccess's witness set from `admin` with its name, then `witness run`
    for each as a child process."""
    shutil.rmtree(root, ignore_errors=True)  # a new chain each run
    root.mkdir(parents=True)
    authority = json.loads((node_data_dir / CONFIG_FILE).read_text())["authority"]
    # Each organisation's own password, only in memory and its daemon's environment.
    envs = {label: {**env, WITNESS_KEY.password_env: secrets.token_urlsafe(24)} for label in LABELS}
    ports = {label: free_port() for label in LABELS}
    inits = {
        label: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ledger_node.cli",
                "witness",
                "init",
                "--data-dir",
                str(root / label),
                "--node-url",
                node_url,
                "--genesis",
                str(node_data_dir / GENESIS_FILE),
                "--authority",
                authority,
                "--http-port",
                str(ports[label]),
                "--snapshot-every",
                str(SNAPSHOT_EVERY),
            ],
            env=envs[label],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for label in LABELS
    }
    addresses = {}
    for label, init in inits.items():
        _out, err = init.communicate(timeout=INIT_TIMEOUT_S)
        if init.returncode != 0:
            raise click.ClickException(f"ledger-node witness init ({label}): {err.strip()}")
        keystore = json.loads(WITNESS_KEY.path(root / label).read_text())
        addresses[label] = to_checksum_address(keystore["address"])
    for label in LABELS:
        system.access.setWitness(addresses[label], encode_witness_name(label), {"from": admin})
    witnesses = []
    for label in LABELS:
        name = f"witness ({label})"
        witness = DemoWitness(
            name=name, url=f"http://127.0.0.1:{ports[label]}", data_dir=root / label,
            args=["ledger_node.cli", "witness", "run", "--data-dir", str(root / label)],
            env=envs[label], log=root / f"{name}.log", address=addresses[label], label=label,
        )  # fmt: skip
        witnesses.append(witness.start())
    for witness in witnesses:
        witness.wait_healthy()
    return witnesses


def node_call(rpc_url: str, method: str, params: list[Any]) -> dict[str, Any]:
    """A `ledger_*` answer of the node (an object), {} if it does not answer or refuses."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    try:
        reply = requests.post(rpc_url, json=body, timeout=10).json()
    except (requests.RequestException, ValueError):
        return {}
    result = reply.get("result") if isinstance(reply, dict) else None
    return result if isinstance(result, dict) else {}


def wait_until_cosigned(witnesses: Sequence[DemoWitness], rpc_url: str, block: int) -> list[str]:
    """Until the node holds every witness's co-signature of `block` or later (the day's last
    block: the explorer then shows it and every block before it witnessed by all); a progress
    bar of the witnesses done. Returns the lines saying which did not within the bound."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    latest: dict[str, int | None] = {}
    with click.progressbar(
        length=len(witnesses), label="Witnesses co-signing the day", file=sys.stderr
    ) as bar:
        while True:
            supervise(witnesses)  # one that died resumes from its data and catches up
            status = node_call(rpc_url, "ledger_getWitnessStatus", [])
            members = status.get("witnesses", [])
            latest = {
                str(m["witness"]).lower(): int(m["latest"], 16) if m.get("latest") else None
                for m in members
            }
            done = sum(1 for w in witnesses if (latest.get(w.address.lower()) or -1) >= block)
            bar.update(done - bar.pos)
            if done == len(witnesses) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    missing = []
    for witness in witnesses:
        signed = latest.get(witness.address.lower())
        if signed is None or signed < block:
            health = get_json(witness.url + "/health") or {}
            missing.append(
                f"warning: the {witness.name} has co-signed "
                f"{'nothing' if signed is None else f'up to block {signed}'}, not yet the day's "
                f"last block {block} (its state: {health.get('state', 'not answering')}); "
                f"see {witness.log}"
            )
    return missing


def describe(witnesses: Sequence[DemoWitness]) -> list[str]:
    """The lines the demo prints for its witnesses: each one's name, /health, checkpoint, key."""
    lines = ["Witnesses (re-execute every block, co-sign checkpoints; the node collects them):"]
    for witness in witnesses:
        lines.append(
            f"  {witness.label:20} {witness.url}/health  {witness.url}/v1/checkpoint  "
            f"key {witness.address}  pid {witness.process.pid}"
        )
    return lines


def save_checkpoint(rpc_url: str, path: Path) -> Path | None:
    """The node's newest co-signed checkpoint (`ledger_getCheckpoint("latest")`) saved to
    `path`, for the auditor's `ledger-node verify --checkpoint`; None if there is none."""
    checkpoint = node_call(rpc_url, "ledger_getCheckpoint", ["latest"])
    if not checkpoint:
        return None
    path.write_text(json.dumps(checkpoint, indent=2))
    return path
