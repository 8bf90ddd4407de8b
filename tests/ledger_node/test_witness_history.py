"""Witnesses never accept two histories (issue 16): a node whose data directory is restored from
an older backup (as a machine's owner could do) and then seals other blocks is refused as a
rewrite by a witness that had co-signed the lost blocks, and a node that comes back shorter is
refused as a truncation; both keep authority-signed evidence across restarts, report it on
/health and co-sign nothing after. A node briefly down is waited out, not refused."""

from __future__ import annotations

import shutil

import pytest

from citypass.protocol.checkpoints import Checkpoint, Cosignature
from citypass.protocol.seals import seal_signer
from ledger_node.launcher import NodeProcess
from tests.ledger_helpers import (
    PASSWORD,
    Rpc,
    Signer,
    config_of,
    wait_until,
)
from tests.witness_helpers import WitnessProcess, member_world, send_member_txs


def cosigned_head(witness: WitnessProcess, head: int) -> dict:
    return wait_until(
        lambda: (h := witness.state())["cosigned"] == head and not h["alarm"] and h, timeout=30
    )


def restart_node(world) -> None:
    """The same data directory, on the same port (the witnesses' URL)."""
    node = NodeProcess(world["node"].data_dir, PASSWORD, port=world["node"].port)
    world["node"] = node.start()
    world["rpc"] = world["access"].rpc = Rpc(node.url)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = member_world(tmp_path_factory.mktemp("histories"))
    base, node, rpc = world["base"], world["node"], world["rpc"]
    rewrite = WitnessProcess.init(base / "witness-rewrite", node).start()
    truncation = WitnessProcess.init(base / "witness-truncation", node).start()
    world.update(rewrite=rewrite, truncation=truncation)
    try:
        send_member_txs(world, 2)
        backup_head = int(rpc.head()["number"], 16)
        for witness in (rewrite, truncation):
            cosigned_head(witness, backup_head)
        # The node stops (its witnesses wait: no answer is no evidence) and is backed up.
        assert node.stop() == 0
        unreachable = wait_until(
            lambda: (h := truncation.state())["state"] == "node-unreachable" and h
        )
        assert not unreachable["alarm"]
        shutil.copytree(node.data_dir, base / "backup")
        restart_node(world)
        send_member_txs(world, 3)
        witnessed = int(world["rpc"].head()["number"], 16)
        for witness in (rewrite, truncation):
            cosigned_head(witness, witnessed)
        assert rewrite.stop() == 0  # it is away while the history is rewritten
        # The machine's owner restores the older backup: the node comes back shorter.
        assert world["node"].stop() == 0
        shutil.rmtree(node.data_dir)
        shutil.copytree(base / "backup", node.data_dir)
        restart_node(world)
        world["truncated_head"] = int(world["rpc"].head()["number"], 16)
        wait_until(lambda: truncation.state()["alarm"], timeout=30)
        # Then other transactions: different blocks, sealed by the same authority, past the
        # witnessed head.
        admin = world["access"]
        for _ in range(witnessed - backup_head + 1):
            admin.onboard(Signer(None, int(world["rpc"].result("eth_chainId"), 16)).address)
        wait_until(lambda: int(world["rpc"].head()["number"], 16) > witnessed)
        rewrite.start()
        wait_until(lambda: rewrite.state()["alarm"], timeout=30)
        world.update(backup_head=backup_head, witnessed=witnessed)
        yield world
    finally:
        rewrite.kill()
        truncation.kill()
        world["node"].kill()


def assert_authority_sealed(entry: dict, world) -> None:
    config = config_of(world["node"].data_dir)
    signer = seal_signer(
        bytes.fromhex(entry["seal"][2:]),
        config["chain_id"],
        int(entry["number"], 16),
        bytes.fromhex(entry["hash"][2:]),
        bytes.fromhex(entry["parentHash"][2:]),
    )
    assert signer == config["authority"]


def assert_cosigned(record: dict, number: int, witness: WitnessProcess) -> None:
    checkpoint = Checkpoint.from_json(record["checkpoint"])
    (cosignature,) = [Cosignature.from_json(c) for c in record["cosignatures"]]
    cosignature.verify(checkpoint)
    assert checkpoint.number == number and cosignature.witness == witness.address


def test_a_rewritten_history_is_refused_with_both_sealed_entries_kept(world):
    witness = world["rewrite"]
    status, health = witness.health()
    first_lost = world["backup_head"] + 1
    assert status == 503 and health["state"] == "alarm" and not health["ok"]
    assert f"another block {first_lost}" in health["reason"]
    evidence = witness.get("/v1/evidence").json()["evidence"]
    (record,) = evidence
    assert (record["kind"], record["number"]) == ("rewrite", first_lost)
    held, conflicting = record["held"], record["conflicting"]
    assert held["number"] == conflicting["number"] == hex(first_lost)
    assert held["hash"] != conflicting["hash"]
    assert held["parentHash"] == conflicting["parentHash"]  # the histories part at this block
    assert_authority_sealed(held, world)
    assert_authority_sealed(conflicting, world)
    assert_cosigned(record["cosigned"], world["witnessed"], witness)
    assert witness.metric("witness_refusals_total", '{reason="rewrite"}') == 1
    assert witness.metric("witness_alarm") == 1
    # It co-signs nothing after: not as the node moves on, not when asked.
    send_member_txs(world, 1)
    node_head = int(world["rpc"].head()["number"], 16)
    wait_until(lambda: witness.state()["nodeHead"] == node_head)
    assert witness.state()["cosigned"] == world["witnessed"]
    own = witness.get("/v1/checkpoint").json()
    refused = witness.cosign(own["checkpoint"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "alarm"
    # The evidence and the alarm survive a restart.
    assert witness.stop() == 0
    witness.start()
    assert witness.health()[0] == 503
    assert witness.get("/v1/evidence").json()["evidence"] == evidence
    assert witness.get("/v1/checkpoint").json() == own


def test_a_truncated_chain_is_refused_with_the_cosigned_checkpoint_kept(world):
    witness = world["truncation"]
    status, health = witness.health()
    assert status == 503 and health["state"] == "alarm"
    assert f"ends at block {world['truncated_head']}" in health["reason"]
    (record,) = witness.get("/v1/evidence").json()["evidence"]
    assert (record["kind"], record["number"]) == ("truncation", world["witnessed"])
    assert record["nodeHead"]["number"] == world["truncated_head"]
    assert_authority_sealed(record["held"], world)  # the block the node no longer serves
    assert_authority_sealed(record["nodeHead"]["entry"], world)
    assert_cosigned(record["cosigned"], world["witnessed"], witness)
    assert witness.state()["cosigned"] == world["witnessed"]
    assert witness.metric("witness_refusals_total", '{reason="truncation"}') == 1
