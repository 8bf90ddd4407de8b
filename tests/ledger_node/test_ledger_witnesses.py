"""Witnesses on the node (issue 16; docs/ledger-node.md, ## Witnesses): the journal's hash chain,
ledger_submitCosignature and its refusals, ledger_getCheckpoint, ledger_getWitnessStatus, the
witness token, co-signatures surviving a kill -9, and `ledger-node verify --checkpoint` against
a shortened and a rewritten journal.

One real node serves the module: CityAccess deployed by the authority, a member, and two
witnesses (eth-account keys) put in the witness set with CityAccess.setWitness. The journal hash
is recomputed here from ledger_getJournalEntry's blocks and seals, not taken from the node."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests
from eth_account import Account
from eth_hash.auto import keccak

from citypass.protocol.checkpoints import Checkpoint, Cosignature, genesis_link, journal_link
from ledger_node.launcher import NodeProcess
from ledger_node.rpc_auth import SERVICE_PERMISSIONS
from tests.ledger_helpers import (
    INVALID_PARAMS,
    PASSWORD,
    Rpc,
    anvil_processes_for,
    call_data,
    copy_data_dir,
    error_line,
    journal_db,
    refused_start,
    restart,
    run_ledger_node,
    wait_until,
)
from tests.witness_helpers import member_world, send_member_txs, set_witness

REFUSED = -32010
UNAUTHORIZED = -40100


def remove_witness(world, account) -> None:
    signed = world["access"]._admin_tx(call_data("removeWitness(address)", account.address))
    assert world["rpc"].receipt(signed.hash)["status"] == "0x1"


def member_blocks(world, count: int) -> None:
    world["rpc"].receipt(send_member_txs(world, count))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    state = member_world(tmp_path_factory.mktemp("witnesses"))
    state.update(audit=Account.create(), university=Account.create(), outsider=Account.create())
    try:
        yield state
    finally:
        state["node"].stop()


def head(world) -> int:
    return int(world["rpc"].result("eth_blockNumber"), 16)


def own_checkpoint(world, number: int) -> Checkpoint:
    """Block `number`'s checkpoint, computed here: block hash and state root from the engine's
    block, the journal hash recomputed from every journal entry's block hash and seal."""
    rpc = world["rpc"]
    link = genesis_link(
        bytes.fromhex(rpc.result("eth_getBlockByNumber", ["0x0", False])["hash"][2:])
    )
    for n in range(1, number + 1):
        entry = rpc.result("ledger_getJournalEntry", [n])
        link = journal_link(
            link, n, bytes.fromhex(entry["hash"][2:]), bytes.fromhex(entry["seal"][2:])
        )
        assert entry["journalHash"] == "0x" + link.hex(), n  # stored == recomputed
    block = rpc.result("eth_getBlockByNumber", [hex(number), False])
    return Checkpoint(
        int(rpc.result("eth_chainId"), 16),
        number,
        bytes.fromhex(block["hash"][2:]),
        bytes.fromhex(block["stateRoot"][2:]),
        link,
    )


def submit(rpc: Rpc, checkpoint: Checkpoint, account, *, signer=None) -> dict:
    cosignature = Cosignature(account.address, checkpoint.sign(signer or account))
    return rpc.request("ledger_submitCosignature", [checkpoint.to_json(), cosignature.to_json()])


def status(world) -> dict:
    return {
        w["name"]: w["latest"] for w in world["rpc"].result("ledger_getWitnessStatus")["witnesses"]
    }


def refused_metric(world, reason: str) -> float:
    text = requests.get(world["node"].base_url + "/metrics", timeout=10).text
    line = f'ledger_cosignatures_refused_total{{reason="{reason}"}} '
    return float(next(row for row in text.splitlines() if row.startswith(line)).split()[-1])


# ----------------------------------------------------------------------------- the hash chain


def test_before_any_cosignature_latest_is_an_error_and_a_block_answers_empty(world):
    rpc = world["rpc"]
    set_witness(world["rpc"], world["access"], world["audit"].address, "audit-office")
    set_witness(world["rpc"], world["access"], world["university"].address, "university")
    error = rpc.error("ledger_getCheckpoint")
    assert error["message"] == "no checkpoint has been co-signed yet"
    number = head(world)
    answer = rpc.result("ledger_getCheckpoint", [hex(number)])
    # The node's checkpoint equals the one computed here from the journal's entries.
    assert answer["checkpoint"] == own_checkpoint(world, number).to_json()
    assert answer["cosignatures"] == []
    assert answer["witnessSet"] == [
        {"witness": world["audit"].address, "name": "audit-office"},
        {"witness": world["university"].address, "name": "university"},
    ]
    above = rpc.error("ledger_getCheckpoint", [hex(number + 5)])
    assert above["code"] == INVALID_PARAMS and f"above the head {number}" in above["message"]
    tag = rpc.error("ledger_getCheckpoint", ["earliest"])
    assert tag["code"] == INVALID_PARAMS and "params[0] (block)" in tag["message"]


# ---------------------------------------------------------------------------- co-signatures


def test_a_cosignature_is_accepted_idempotently_and_answered_everywhere(world):
    rpc, audit = world["rpc"], world["audit"]
    member_blocks(world, 2)
    number = head(world)
    checkpoint = own_checkpoint(world, number)
    # The witness's own token (ledger-node token --service witness issues the same set).
    witness_rpc = Rpc(
        world["node"].url_with(world["node"].mint("witness-1", SERVICE_PERMISSIONS["witness"]))
    )
    expected = {"accepted": True, "number": hex(number), "witness": audit.address}
    assert submit(witness_rpc, checkpoint, audit)["result"] == expected
    assert submit(witness_rpc, checkpoint, audit)["result"] == expected  # idempotent
    answer = rpc.result("ledger_getCheckpoint")
    assert answer["checkpoint"] == checkpoint.to_json()
    assert [c["witness"] for c in answer["cosignatures"]] == [audit.address]
    Cosignature.from_json(answer["cosignatures"][0]).verify(checkpoint)
    assert status(world) == {"audit-office": hex(number), "university": None}
    witness_status = rpc.result("ledger_getWitnessStatus")
    assert witness_status["head"] == hex(number)
    assert isinstance(witness_status["witnesses"][0]["signedAt"], int)
    assert witness_status["witnesses"][1]["signedAt"] is None
    health = requests.get(world["node"].base_url + "/health", timeout=10)
    assert health.status_code == 200
    summary = health.json()["witnesses"]
    # The university has co-signed nothing: reported, and the node is still healthy.
    assert summary["set"] == 2 and summary["cosigned"] == hex(number) and summary["lag"] == 0
    assert rpc.result("ledger_status")["witnesses"]["members"][1] == {
        "witness": world["university"].address, "name": "university", "latest": None
    }  # fmt: skip
    shown = run_ledger_node("status", "--rpc-url", world["node"].url).stdout
    assert f"2 in the set; newest co-signed block {number} (0 behind the head)" in shown
    metrics = requests.get(world["node"].base_url + "/metrics", timeout=10).text
    assert f'ledger_witness_cosigned_block{{witness="{audit.address}"}} {float(number)}' in metrics
    assert "ledger_cosignatures_accepted_total 2.0" in metrics


def _with(checkpoint: Checkpoint, **change) -> Checkpoint:
    values = {**checkpoint.__dict__, **change}
    return Checkpoint(**values)


def test_every_refusal_names_what_is_wrong_and_changes_nothing(world):
    rpc, audit, university = world["rpc"], world["audit"], world["university"]
    number = head(world)
    good = own_checkpoint(world, number)
    before = status(world)
    other = b"\x11" * 32
    cases = {
        "chain": (submit(rpc, _with(good, chain_id=good.chain_id + 1), university),
                  f"checkpoint.chainId is {hex(good.chain_id + 1)}, but this node's chain is"),
        "above_head": (submit(rpc, _with(good, number=number + 3), university),
                       f"checkpoint.number {number + 3} is above the node's head {number}"),
        "signature": (submit(rpc, good, university, signer=world["outsider"]),
                      f"the signature is not {university.address}'s over this checkpoint"),
        "not_witness": (submit(rpc, good, world["outsider"]),
                        f"{world['outsider'].address} is not in the witness set "
                        "(CityAccess.witnesses)"),
        "older": (submit(rpc, own_checkpoint(world, number - 1), audit),
                  f"checkpoint {number - 1} is older than its latest co-signed block {number}"),
    }  # fmt: skip
    for field, attribute in (
        ("blockHash", "block_hash"), ("stateRoot", "state_root"), ("journalHash", "journal_hash")
    ):  # fmt: skip
        cases[field] = (
            submit(rpc, _with(good, **{attribute: other}), university),
            f"checkpoint.{field} differs from the node's at block {number}: the node has "
            f"0x{getattr(good, attribute).hex()}, the checkpoint 0x{other.hex()}",
        )
    for case, (answer, message) in cases.items():
        assert answer["error"]["code"] == REFUSED, (case, answer)
        assert message in answer["error"]["message"], (case, answer)
    assert refused_metric(world, "differs") == 3
    assert refused_metric(world, "older") == 1
    malformed = {
        "missing field": [{k: v for k, v in good.to_json().items() if k != "stateRoot"}, {}],
        "short signature": [good.to_json(), {"witness": audit.address, "signature": "0x12"}],
        "one param": [good.to_json()],
        "not objects": ["checkpoint", "cosignature"],
    }
    messages = {
        case: rpc.error("ledger_submitCosignature", params) for case, params in malformed.items()
    }
    assert all(e["code"] == INVALID_PARAMS for e in messages.values()), messages
    assert (
        "params[0] (checkpoint): checkpoint.stateRoot is missing"
        in messages["missing field"]["message"]
    )
    assert (
        "cosignature.signature is not a 65-byte signature" in messages["short signature"]["message"]
    )
    assert "missing params[1] (cosignature)" in messages["one param"]["message"]
    keyless = Rpc(world["node"].base_url)
    cosignature = Cosignature(university.address, good.sign(university))
    refusal = keyless.error("ledger_submitCosignature", [good.to_json(), cosignature.to_json()])
    assert refusal["code"] == UNAUTHORIZED
    assert (
        "ledger_submitCosignature needs a token with ledger:submitCosignature" in refusal["message"]
    )
    assert refused_metric(world, "malformed") == 4 and refused_metric(world, "unauthorized") == 1
    assert status(world) == before  # nothing was stored by any refusal
    stored = rpc.result("ledger_getCheckpoint", [hex(number)])["cosignatures"]
    assert [c["witness"] for c in stored] == [audit.address]


def test_a_removed_witness_is_refused_from_the_next_block(world):
    rpc, university = world["rpc"], world["university"]
    assert "result" in submit(rpc, own_checkpoint(world, head(world)), university)
    remove_witness(world, university)
    answer = submit(rpc, own_checkpoint(world, head(world)), university)
    assert answer["error"]["code"] == REFUSED
    assert f"{university.address} is not in the witness set" in answer["error"]["message"]
    assert list(status(world)) == ["audit-office"]
    # Back, for the tests after this one.
    set_witness(world["rpc"], world["access"], university.address, "university")


def test_token_service_witness_issues_a_token_that_submits(world):
    node = world["node"]
    issued = run_ledger_node(
        "token", "--service", "witness", "--data-dir", node.data_dir, "--expires", "1h"
    )
    assert issued.returncode == 0, issued.stderr
    assert "token for 'witness'" in issued.stderr and "ledger:*" in issued.stderr
    rpc = Rpc(node.url_with(issued.stdout.strip()))
    answer = submit(rpc, own_checkpoint(world, head(world)), world["audit"])
    assert answer["result"]["accepted"] is True
    both = run_ledger_node(
        "token", "--service", "witness", "--permissions", "eth:*", "--data-dir", node.data_dir,
        "--expires", "1h",
    )  # fmt: skip
    assert "give --service NAME" in error_line(both)
    neither = run_ledger_node("token", "--data-dir", node.data_dir, "--expires", "1h")
    assert "give --service NAME" in error_line(neither)


def test_a_cosignature_survives_a_kill_9(world):
    rpc = world["rpc"]
    member_blocks(world, 1)
    number = head(world)
    assert "result" in submit(rpc, own_checkpoint(world, number), world["university"])
    world["node"].kill()
    wait_until(lambda: not anvil_processes_for(world["node"].data_dir))
    world["node"] = restart(world["node"])
    world["rpc"] = rpc = Rpc(world["node"].url)
    world["access"].rpc = rpc
    assert status(world)["university"] == hex(number)
    answer = rpc.result("ledger_getCheckpoint")
    assert answer["checkpoint"]["number"] == hex(number)
    assert [c["witness"] for c in answer["cosignatures"]] == [world["university"].address]


# ------------------------------------------------------------------ verify and the journal


@pytest.fixture(scope="module")
def stopped(world):
    """The world's node stopped, with its latest co-signed checkpoint saved as a witness would
    keep it (ledger_getCheckpoint's answer)."""
    answer = world["rpc"].result("ledger_getCheckpoint")
    path = world["base"] / "checkpoint.json"
    path.write_text(json.dumps(answer))
    assert world["node"].stop() == 0
    return {"data_dir": world["node"].data_dir, "file": path, "answer": answer, **world}


def verify(data_dir: Path, *files: Path):
    args = [a for f in files for a in ("--checkpoint", f)]
    return run_ledger_node("verify", "--data-dir", data_dir, *args)


def test_verify_checkpoint_matches_and_names_the_cosigners(stopped):
    result = verify(stopped["data_dir"], stopped["file"], stopped["file"])
    assert result.returncode == 0, result.stderr
    number = int(stopped["answer"]["checkpoint"]["number"], 16)
    block_hash = stopped["answer"]["checkpoint"]["blockHash"]
    line = (
        f"checkpoint at block {number} ({block_hash}): matches; co-signed by university "
        f"({stopped['university'].address})"
    )
    assert result.stdout.count(line) == 2, result.stdout


def test_a_backup_carries_the_cosignatures_and_verifies_against_the_checkpoint(stopped, tmp_path):
    copy = tmp_path / "backup"
    made = run_ledger_node("backup", "--data-dir", stopped["data_dir"], "--to", copy)
    assert made.returncode == 0, made.stderr
    rows = "SELECT witness, number, signature FROM cosignatures ORDER BY witness, number"
    with journal_db(stopped["data_dir"]) as original, journal_db(copy) as copied:
        assert copied.execute(rows).fetchall() == original.execute(rows).fetchall() != []
    result = verify(copy, stopped["file"])
    assert result.returncode == 0 and "matches; co-signed by university" in result.stdout


def shortened(
    stopped, tmp_path: Path, keep: int, tables=("blocks", "links", "cosignatures")
) -> Path:
    """The journal cut back to block `keep` as the machine's owner would do it: blocks, their
    transactions, links and co-signatures deleted, the head marker rewritten to match."""
    data_dir = copy_data_dir(stopped["data_dir"], tmp_path / "-".join(tables))
    with journal_db(data_dir) as db:
        kept_hash = db.execute("SELECT hash FROM blocks WHERE number = ?", (keep,)).fetchone()[0]
        db.execute("DELETE FROM txs WHERE block > ?", (keep,))
        for table in tables:
            db.execute(f"DELETE FROM {table} WHERE number > ?", (keep,))
    marker = json.loads((data_dir / "journal.head").read_text())
    marker.update(block=keep, hash="0x" + bytes(kept_hash).hex())
    (data_dir / "journal.head").write_text(json.dumps(marker))
    shutil.rmtree(data_dir / "snapshots", ignore_errors=True)
    return data_dir


def test_verify_checkpoint_refuses_a_journal_shortened_after_the_checkpoint(stopped, tmp_path):
    number = int(stopped["answer"]["checkpoint"]["number"], 16)
    data_dir = shortened(stopped, tmp_path, number - 2)
    assert verify(data_dir).returncode == 0  # the plain verify cannot tell
    line = error_line(verify(data_dir, stopped["file"]))
    assert (
        f"the journal ends at block {number - 2}, but the checkpoint co-signed by university "
        f"({stopped['university'].address}) is at block {number}"
    ) in line
    # Had the owner left the node's own copies of the co-signatures, the node would not start.
    kept = shortened(stopped, tmp_path, number - 2, ("blocks", "links"))
    assert (
        f"the journal was shortened: it ends at block {number - 2}, but witness "
        f"{stopped['university'].address} co-signed block {number}"
    ) in refused_start(kept)


def test_verify_checkpoint_refuses_a_rewritten_journal(stopped, tmp_path):
    """The owner shortens the journal, then the authority seals other blocks up past the
    checkpoint: every seal is valid, but block N is not what the witness co-signed."""
    number = int(stopped["answer"]["checkpoint"]["number"], 16)
    node = NodeProcess(shortened(stopped, tmp_path, number - 2), PASSWORD).start()
    try:
        rpc = Rpc(node.url)
        member = stopped["member"]
        member.sync_nonce(rpc)
        for _ in range(3):  # other transactions: the same nonces, another order of calls
            signed = member.sign(
                stopped["access"].address_bytes, call_data("isWitness(address)", member.address)
            )
            assert rpc.send(signed.raw)["result"] == signed.hash
        assert int(rpc.result("eth_blockNumber"), 16) >= number
    finally:
        assert node.stop() == 0
    assert verify(node.data_dir).returncode == 0
    line = error_line(verify(node.data_dir, stopped["file"]))
    assert (
        f"block {number}'s block hash differs from the checkpoint co-signed by university" in line
    )
    assert f"the checkpoint {stopped['answer']['checkpoint']['blockHash']}" in line


def test_verify_checkpoint_refuses_bad_files(stopped, tmp_path):
    answer = stopped["answer"]
    forged = json.loads(json.dumps(answer))
    signature = forged["cosignatures"][0]["signature"]  # one byte of r changed
    forged["cosignatures"][0]["signature"] = (
        signature[:4] + f"{int(signature[4:6], 16) ^ 1:02x}" + signature[6:]
    )
    outsider = stopped["outsider"]
    checkpoint = Checkpoint.from_json(answer["checkpoint"])
    foreign = {
        **answer,
        "cosignatures": [Cosignature(outsider.address, checkpoint.sign(outsider)).to_json()],
    }
    files = {
        "not json": "{",
        "no cosignatures": json.dumps({**answer, "cosignatures": []}),
        "bad field": json.dumps({**answer, "checkpoint": {**answer["checkpoint"], "number": "12"}}),
        "forged": json.dumps(forged),
        "outsider": json.dumps(foreign),
    }
    lines = {}
    for case, text in files.items():
        path = tmp_path / f"{case.replace(' ', '-')}.json"
        path.write_text(text)
        lines[case] = error_line(verify(stopped["data_dir"], path))
    missing = error_line(verify(stopped["data_dir"], tmp_path / "nowhere.json"))
    assert "nowhere.json: cannot be read (No such file or directory)" in missing
    assert "is not JSON" in lines["not json"]
    assert "no witness co-signed this checkpoint" in lines["no cosignatures"]
    assert "checkpoint.number is not a hex quantity" in lines["bad field"]
    assert "cosignatures[0]: the signature is not" in lines["forged"]
    assert (
        f"{outsider.address} co-signed block {int(answer['checkpoint']['number'], 16)}, but it "
        "is not in the witness set (CityAccess.witnesses)"
    ) in lines["outsider"]


def test_a_tampered_link_is_refused_by_start_and_verify_and_a_missing_chain_is_backfilled(
    stopped, tmp_path
):
    tampered = copy_data_dir(stopped["data_dir"], tmp_path / "tampered")
    with journal_db(tampered) as db:
        db.execute("UPDATE links SET link = ? WHERE number = 3", (keccak(b"other"),))
    expected = "the journal's hash chain does not reproduce at block 3: it stores 0x"
    assert expected in error_line(verify(tampered))
    assert expected in refused_start(tampered)
    older = copy_data_dir(stopped["data_dir"], tmp_path / "older")
    with journal_db(older) as db:  # a journal from before the hash chain
        db.execute("DELETE FROM links")
    result = verify(older)
    assert result.returncode == 0 and "not stored yet" in result.stdout, result.stdout
    node = NodeProcess(older, PASSWORD).start()
    try:
        entry = Rpc(node.url).result("ledger_getJournalEntry", [3])
    finally:
        assert node.stop() == 0
    with journal_db(stopped["data_dir"]) as db:
        original = bytes(db.execute("SELECT link FROM links WHERE number = 3").fetchone()[0])
    assert entry["journalHash"] == "0x" + original.hex()
