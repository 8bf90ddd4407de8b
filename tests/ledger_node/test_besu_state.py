"""`ledger-node export-besu --block N` on a real ledger node with the whole system deployed: the
genesis alloc is the chain's state at N, its root is recomputed and equals the node's, block N's
hash is the extraData vanity, the journal stays verifiable, and bad input is refused."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from citypass.protocol.checkpoints import genesis_link, journal_link
from ledger_node.cli import main as ledger_node_cli
from ledger_node.qbft import decode_extra_data
from ledger_node.state_trie import accounts_from_alloc, state_root
from tests.ledger_helpers import (
    PASSWORD,
    Rpc,
    copy_data_dir,
    error_line,
    journal_db,
    run_ledger_node,
)
from tests.oracle_helpers import NODE_PASSWORD, start_chain

# Storage of the accounts the test reads back over RPC, one request each: bounded for speed.
MAX_SLOTS_CHECKED = 400


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Any:
    base = tmp_path_factory.mktemp("besu-state")
    chain = start_chain(base)
    people, system = chain.people, chain.system
    resident = chain.resident()
    # An allowance set and cleared: the engine keeps the zero-valued slot, Ethereum's state not.
    system.credit.approve(system.market.address, 0, {"from": resident})
    suspended = chain.new_member()
    system.access.suspend(suspended.address, b"\1" * 32, {"from": people.admin})
    number = chain.w3.eth.block_number
    # After block N: the export must not see these.
    late = chain.new_member()
    rpc = Rpc(chain.node.url)
    out = base / "network"
    password_file = base / "password"
    password_file.write_text("validator-password\n")
    started = time.monotonic()
    result = run_ledger_node(
        "export-besu",
        "--data-dir", chain.node.data_dir,
        "--out", out,
        "--block", number,
        "--rpc-url", chain.node.url,
        "--password-file", password_file,
        password=None,
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    yield {
        "chain": chain,
        "rpc": rpc,
        "number": number,
        "out": out,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "seconds": seconds,
        "resident": resident,
        "suspended": suspended,
        "late": late,
        "genesis": json.loads((out / "genesis.json").read_text()),
        "migration": json.loads((out / "migration.json").read_text()),
        "base": base,
    }
    chain.node.stop()


def printed(stdout: str, label: str) -> str:
    line = next(line for line in stdout.splitlines() if label in line)
    return line.split("0x", 1)[1].split()[0]


def test_recomputed_root_equals_the_nodes_state_root_at_block_n(world):
    header = world["rpc"].result("eth_getBlockByNumber", [hex(world["number"]), False])
    node_root = header["stateRoot"]
    assert 20 < world["number"] < int(world["rpc"].head()["number"], 16)
    assert "0x" + printed(world["stdout"], f"state root of block {world['number']}") == node_root
    assert "0x" + printed(world["stdout"], "recomputed from the exported state") == node_root
    assert world["migration"]["stateRoot"] == node_root
    assert world["migration"]["checkpoint"]["stateRoot"] == node_root
    print(f"\nexport of {world['number']} blocks took {world['seconds']:.1f} s; root {node_root}")


def test_alloc_root_recomputed_from_genesis_json_and_tampering_changes_it(world):
    alloc = world["genesis"]["alloc"]
    root = state_root(accounts_from_alloc(alloc), keep_zero_slots=False)
    assert "0x" + root.hex() == world["migration"]["genesisStateRoot"]
    assert root.hex() == printed(world["stdout"], "genesis state root (alloc)")
    # The cleared allowance is a zero slot the engine keeps and the alloc leaves out.
    assert world["migration"]["zeroSlotsOmitted"] >= 1
    assert world["migration"]["genesisStateRoot"] != world["migration"]["stateRoot"]
    address, account = next((a, e) for a, e in alloc.items() if e.get("storage"))
    slot, value = next(iter(account["storage"].items()))
    tampered = json.loads(json.dumps(alloc))
    tampered[address]["storage"][slot] = "0x" + (int(value, 16) ^ 1).to_bytes(32, "big").hex()
    assert state_root(accounts_from_alloc(tampered), keep_zero_slots=False) != root


def test_alloc_is_every_account_as_the_node_reports_it_at_block_n(world):
    rpc, block = world["rpc"], hex(world["number"])
    alloc = world["genesis"]["alloc"]
    contracts = [a for a, e in alloc.items() if e.get("code")]
    assert len(contracts) >= 10  # the whole system is deployed
    checked = 0
    for address, entry in alloc.items():
        assert rpc.result("eth_getBalance", [address, block]) == entry["balance"]
        assert rpc.result("eth_getTransactionCount", [address, block]) == entry["nonce"]
        assert rpc.result("eth_getCode", [address, block]) == entry.get("code", "0x")
        for slot, value in list(entry.get("storage", {}).items())[: MAX_SLOTS_CHECKED - checked]:
            assert rpc.result("eth_getStorageAt", [address, slot, block]) == value
            checked += 1
    assert checked > 50
    # The state is block N's, not the head's: the authority onboarded a member after N.
    admin = world["chain"].people.admin.address.lower()
    assert alloc[admin]["nonce"] != rpc.result("eth_getTransactionCount", [admin, "latest"])


def test_vanity_and_migration_link_block_n_and_the_journal_hash_chain(world):
    header = world["rpc"].result("eth_getBlockByNumber", [hex(world["number"]), False])
    vanity = decode_extra_data(world["genesis"]["extraData"]).vanity
    assert "0x" + vanity.hex() == header["hash"] == world["migration"]["blockHash"]
    migration = world["migration"]
    assert migration["exportBlock"] == world["number"]
    assert migration["chainId"] == world["chain"].chain_id
    assert migration["exportedAt"].endswith("+00:00")
    assert world["genesis"]["timestamp"] == header["timestamp"]
    # The journal's hash chain over blocks 1..N, from the journal's own rows.
    genesis_hash = world["rpc"].result("eth_getBlockByNumber", ["0x0", False])["hash"]
    link = genesis_link(bytes.fromhex(genesis_hash[2:]))
    with journal_db(world["chain"].node.data_dir) as db:
        rows = db.execute(
            "SELECT number, hash, seal FROM blocks WHERE number <= ? ORDER BY number",
            (world["number"],),
        ).fetchall()
    assert [row[0] for row in rows] == list(range(1, world["number"] + 1))
    for number, block_hash, seal in rows:
        link = journal_link(link, number, bytes(block_hash), bytes(seal))
    assert migration["journalHash"] == "0x" + link.hex()
    assert migration["checkpoint"]["journalHash"] == migration["journalHash"]


def test_allowlist_is_read_from_the_live_city_access(world):
    permissions = (world["out"] / "node-1" / "permissions_config.toml").read_text()
    assert world["resident"].address.lower() in permissions
    assert world["suspended"].address.lower() not in permissions
    assert world["chain"].people.operator.address.lower() in permissions


def test_readme_and_progress_bars(world):
    readme = (world["out"] / "README.md").read_text()
    assert world["migration"]["blockHash"] in readme
    assert "vanity" in readme and "zero" in readme
    assert "Replaying the journal" in world["stderr"]
    assert "Recomputing the state root" in world["stderr"]


def test_the_journal_stays_verifiable(world):
    result = run_ledger_node("verify", "--data-dir", world["chain"].node.data_dir)
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout


# ------------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def damaged(world) -> Path:
    """A copy of the (idle) data directory whose journal no longer holds block N."""
    copy = copy_data_dir(world["chain"].node.data_dir, world["base"] / "damaged")
    with journal_db(copy) as db:
        db.execute("DELETE FROM blocks WHERE number = ?", (world["number"],))
    return copy


def refused(data_dir: Path, out: Path, *args: object, password: str = PASSWORD) -> str:
    runner = CliRunner()
    result = runner.invoke(
        ledger_node_cli,
        ["export-besu", "--data-dir", str(data_dir), "--out", str(out), *map(str, args)],
        env={"LEDGER_NODE_PASSWORD": password},
    )
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert not out.exists() or not any(out.iterdir())
    assert not list(out.parent.glob(f".{out.name}.*.partial"))
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--block", "100000"], "--block 100000: the journal holds no block 100000: its head is"),
        (["--block", "-3"], "--block -3 is negative"),
        (["--block", "twelve"], "--block 'twelve' is not a block number"),
        (["--validators", "3"], "--validators 3 is too few"),
    ],
)
def test_export_refuses_bad_arguments(world, tmp_path, args, expected):
    line = refused(world["chain"].node.data_dir, tmp_path / "out", *args)
    assert expected in line


def test_export_refuses_a_short_password(world, tmp_path):
    line = refused(world["chain"].node.data_dir, tmp_path / "out", password="short")
    assert "at least 8 characters" in line


def test_export_refuses_a_non_empty_out(world):
    result = run_ledger_node("export-besu", "--data-dir", world["chain"].node.data_dir,
                             "--out", world["out"], password=NODE_PASSWORD)  # fmt: skip
    assert "is not empty" in error_line(result)


def test_export_refuses_a_block_the_journal_no_longer_holds(world, damaged, tmp_path):
    line = refused(damaged, tmp_path / "out", "--block", world["number"])
    assert f"the journal no longer holds block {world['number']}" in line
    line = refused(damaged, tmp_path / "out2", "--block", world["number"] + 1)
    assert f"block {world['number']} is missing from the journal" in line
