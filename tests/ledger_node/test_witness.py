"""A witness daemon following a real node: it re-executes and co-signs, survives kill -9 by
resuming from its own data, refuses bad co-signing requests without changing its state, and
its CLI refuses bad flags with one `error:` line (docs/witnesses.md)."""

from __future__ import annotations

import json

import pytest

from citypass.protocol.checkpoints import Checkpoint, Cosignature, genesis_link, journal_link
from ledger_node.launcher import init_data_dir
from tests.ledger_helpers import (
    PASSWORD,
    Rpc,
    config_of,
    error_line,
    wait_until,
)
from tests.witness_helpers import (
    WitnessProcess,
    member_world,
    send_member_txs,
    set_witness,
    witness_cli,
)

SNAPSHOT_EVERY = 4


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = member_world(tmp_path_factory.mktemp("witness"))
    node = world["node"]
    witness = WitnessProcess.init(world["base"] / "witness", node, snapshot_every=SNAPSHOT_EVERY)
    set_witness(world["rpc"], world["access"], witness.address, "audit-office")
    world["witness"] = witness.start()
    try:
        yield world
    finally:
        world["witness"].kill()
        node.kill()


def caught_up(witness: WitnessProcess, rpc: Rpc, timeout: float = 30.0) -> dict:
    """Wait until the witness has re-executed and co-signed the node's head; its /health."""
    head = int(rpc.head()["number"], 16)

    def done():
        status, health = witness.health()
        return health if health["cosigned"] == head and health["head"] == head else None

    return wait_until(done, timeout=timeout)


def journal_hash_from_seals(rpc: Rpc, number: int) -> bytes:
    """journalHash(number), computed here from the node's blocks and seals alone."""
    link = genesis_link(
        bytes.fromhex(rpc.result("eth_getBlockByNumber", ["0x0", False])["hash"][2:])
    )
    for n in range(1, number + 1):
        seal = rpc.result("ledger_getSeal", [hex(n)])
        link = journal_link(
            link, n, bytes.fromhex(seal["hash"][2:]), bytes.fromhex(seal["signature"][2:])
        )
    return link


def test_follows_re_executes_and_co_signs_the_nodes_head(world):
    send_member_txs(world, 3)
    witness, rpc = world["witness"], world["rpc"]
    health = caught_up(witness, rpc)
    assert health["ok"] and health["state"] == "caught-up" and health["lag"] == 0
    body = witness.get("/v1/checkpoint").json()
    checkpoint = Checkpoint.from_json(body["checkpoint"])
    (cosignature,) = [Cosignature.from_json(c) for c in body["cosignatures"]]
    cosignature.verify(checkpoint)  # the witness's own key, over this checkpoint
    assert cosignature.witness == health["witness"]
    block = rpc.result("eth_getBlockByNumber", [hex(checkpoint.number), False])
    # Everything in it is the node's, reproduced: hash, state root, journal hash chain.
    assert "0x" + checkpoint.block_hash.hex() == block["hash"]
    assert "0x" + checkpoint.state_root.hex() == block["stateRoot"]
    assert checkpoint.journal_hash == journal_hash_from_seals(rpc, checkpoint.number)
    assert checkpoint.chain_id == config_of(world["node"].data_dir)["chain_id"]
    assert witness.metric("witness_cosigned_block") == checkpoint.number
    # The node accepted it (it checks the same values against its own) and serves it.
    served = wait_until(
        lambda: (
            (c := rpc.result("ledger_getCheckpoint"))["checkpoint"]["number"]
            == hex(checkpoint.number)
            and c
        )
    )
    assert served["checkpoint"] == checkpoint.to_json()
    assert served["cosignatures"] == [cosignature.to_json()]
    assert {"witness": cosignature.witness, "name": "audit-office"} in served["witnessSet"]
    assert witness.metric("witness_submissions_total", '{outcome="accepted"}') >= 1
    assert witness.metric("witness_alarm") == 0


def test_kill_9_resumes_from_its_own_data_and_catches_up(world):
    witness, rpc = world["witness"], world["rpc"]
    send_member_txs(world, SNAPSHOT_EVERY + 2)  # past a snapshot of the witness's engine
    before = caught_up(witness, rpc)
    witness.kill()
    send_member_txs(world, 3)  # the node never waits for a witness
    witness.start()
    after = caught_up(witness, rpc)
    assert after["cosigned"] > before["cosigned"]
    recovered = after["recovered"]
    # It came back from its own journal, from a snapshot: not from block 0, nor from the node.
    assert recovered["head"] == before["head"]
    assert 0 < recovered["replayedFrom"] <= before["head"]
    assert recovered["replayedFrom"] % SNAPSHOT_EVERY == 0
    assert witness.metric("witness_recovered_from_block") == recovered["replayedFrom"]
    starts = [r for r in witness.log_records() if r.get("msg", "").startswith("recovered from")]
    assert starts[-1]["replayed_from"] == recovered["replayedFrom"]
    assert starts[-1]["head"] == before["head"]
    # It re-executed only what came after its head, not the node's whole chain.
    assert witness.metric("witness_executed_blocks_total") == after["head"] - before["head"]


def _current(witness: WitnessProcess) -> Checkpoint:
    return Checkpoint.from_json(witness.get("/v1/checkpoint").json()["checkpoint"])


def _with(checkpoint: Checkpoint, **changes) -> dict:
    body = checkpoint.to_json()
    body.update(changes)
    return body


BAD_COSIGN = {
    "not JSON": (lambda c: b"{not json", 400, "malformed", "not JSON"),
    "not an object": (lambda c: [1, 2], 400, "malformed", "JSON object"),
    "unknown field": (lambda c: {**c.to_json(), "extra": "0x1"}, 400, "malformed", "unknown field 'extra'"),
    "missing field": (lambda c: {k: v for k, v in c.to_json().items() if k != "stateRoot"}, 400, "malformed", "stateRoot is missing"),
    "bad hash": (lambda c: _with(c, blockHash="0x12"), 400, "malformed", "checkpoint.blockHash"),
    "other chain": (lambda c: _with(c, chainId=hex(c.chain_id + 1)), 400, "other_chain", "another chain"),
    "older head": (lambda c: _with(c, number=hex(c.number - 1)), 409, "older", "older than the head I co-signed"),
    "not re-executed": (lambda c: _with(c, number=hex(c.number + 50)), 409, "not_executed", "re-executed up to block"),
    "block hash differs": (lambda c: _with(c, blockHash="0x" + "11" * 32), 409, "differs", "checkpoint.blockHash differs"),
    "state root differs": (lambda c: _with(c, stateRoot="0x" + "22" * 32), 409, "differs", "checkpoint.stateRoot differs"),
    "journal hash differs": (lambda c: _with(c, journalHash="0x" + "33" * 32), 409, "differs", "checkpoint.journalHash differs"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_COSIGN, ids=list(BAD_COSIGN))
def test_cosign_refuses_bad_requests_and_changes_nothing(world, case):
    make, status, code, words = BAD_COSIGN[case]
    witness = world["witness"]
    caught_up(witness, world["rpc"])
    before = witness.get("/v1/checkpoint").json()
    refused_before = witness.metric("witness_refusals_total", f'{{reason="{code}"}}')
    reply = witness.cosign(make(_current(witness)))
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code and words in error["message"], error
    assert witness.get("/v1/checkpoint").json() == before
    assert witness.metric("witness_refusals_total", f'{{reason="{code}"}}') == refused_before + 1


def test_cosign_accepts_its_own_checkpoint_again(world):
    witness = world["witness"]
    caught_up(witness, world["rpc"])
    current = witness.get("/v1/checkpoint").json()
    reply = witness.cosign(current["checkpoint"])
    assert reply.status_code == 200 and reply.json() == current  # idempotent


def test_unknown_paths_and_methods_answer_json(world):
    witness = world["witness"]
    missing = witness.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "http_error"
    wrong = witness.get("/v1/cosign")
    assert wrong.status_code == 405 and "error" in wrong.json()
    assert witness.get("/v1/evidence").json() == {"alarm": None, "evidence": []}


def test_init_refuses_bad_flags_with_one_error_line(world, tmp_path):
    node, base = world["node"], world["base"]
    other = base / "other-chain"
    init_data_dir(other, PASSWORD, block_period=0)
    common = ["--node-url", node.url, "--authority", config_of(node.data_dir)["authority"]]
    genesis = ["--genesis", node.data_dir / "genesis.json"]
    cases = {
        "another genesis": (["--data-dir", tmp_path / "a", *common, "--genesis", other / "genesis.json"], "the genesis file"),
        "another authority": (["--data-dir", tmp_path / "b", *genesis, "--node-url", node.url, "--authority", config_of(other)["authority"]], "not --authority"),
        "bad authority": (["--data-dir", tmp_path / "c", *genesis, "--node-url", node.url, "--authority", "0x12"], "--authority"),
        "not empty": (["--data-dir", world["witness"].data_dir, *common, *genesis], "not empty"),
        "no node": (["--data-dir", tmp_path / "d", *genesis, "--node-url", "http://127.0.0.1:9", "--authority", config_of(node.data_dir)["authority"]], "cannot read the node"),
        "bad url": (["--data-dir", tmp_path / "e", *genesis, "--node-url", "ftp://x", "--authority", config_of(node.data_dir)["authority"]], "--node-url"),
    }  # fmt: skip
    for name, (args, words) in cases.items():
        line = error_line(witness_cli("init", *args))
        assert words in line, (name, line)
    for name in "abcde":
        assert not (tmp_path / name).exists(), name  # nothing is written when init refuses
    missing = error_line(witness_cli("run", "--data-dir", tmp_path / "nothing"))
    assert "witness init" in missing
    bad_flag = witness_cli("run", "--data-dir", tmp_path, "--poll-interval", "0")
    assert bad_flag.returncode == 2 and "--poll-interval" in bad_flag.stderr
    for command in ("init", "run"):
        shown = witness_cli(command, "--help")
        assert shown.returncode == 0 and "--data-dir" in shown.stdout


def test_the_witness_key_is_an_encrypted_keystore(world):
    document = json.loads((world["witness"].data_dir / "keystore" / "witness.json").read_text())
    assert "crypto" in document and "privateKey" not in json.dumps(document)
