"""The Besu QBFT export: extraData codec, genesis, node configs, allowlist from CityAccess, keys."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import brownie
import pytest
from eth_account import Account

from citypass.protocol.roles import ROLES
from ledger_node.besu_export import (
    ACCOUNT_EVENTS,
    DECRYPT_FUNCTION,
    IS_ALLOWED_ABI,
    PASSWORD_ENV,
    QBFT_MIX_HASH,
    BesuExportError,
    ExportResult,
    decrypt_command,
    export_besu,
)
from ledger_node.qbft import Vote, decode_extra_data, encode_extra_data

PASSWORD = "correct horse battery staple"
VALIDATORS = 4
GAS_LIMIT = 30_000_000
GENESIS_TIME = 1_700_000_000
ROOT = Path(__file__).resolve().parents[2]

# Besu docs, "Configure QBFT consensus" (docs/private-networks/how-to/configure/consensus/qbft.md
# in hyperledger/besu-docs), block header validator selection genesis: these four validators and
# this extraData. It ends in c0 80 c0: no vote, round 0 as an empty scalar, no seals.
BESU_DOCS_VALIDATORS = [
    "0x64a702e6263b7297a96638cac6ae65e6541f4169",
    "0x3923390ad55e90c237593b3b0e401f3b08a03185",
    "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
    "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
]
BESU_DOCS_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854"
    "9464a702e6263b7297a96638cac6ae65e6541f4169943923390ad55e90c237593b3b0e401f3b08a03185"
    "94aefdb9a738c9f433e5b6b212a6d62f6370c2f69294c7eeb9a4e00ce683cf93039b212648e01c6c6b78"
    "c080c0"
)


def write_data_dir(path: Path, chain_id: int, alloc: dict[str, int]) -> dict:
    """A data directory as `ledger-node init` leaves it (config.json + genesis.json)."""
    path.mkdir(parents=True)
    config = {
        "chain_id": chain_id,
        "block_period": 0.5,
        "max_block_txs": 500,
        "gas_limit": GAS_LIMIT,
        "snapshot_every": 1000,
        "authority": Account.create().address,
        "genesis_timestamp": GENESIS_TIME,
    }
    genesis = {
        "config": {"chainId": chain_id},
        "nonce": "0x0",
        "timestamp": hex(GENESIS_TIME),
        "extraData": "0x",
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x0",
        "mixHash": "0x" + "00" * 32,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": "0x0",
        "alloc": {address: {"balance": hex(balance)} for address, balance in alloc.items()},
    }
    (path / "config.json").write_text(json.dumps(config))
    (path / "genesis.json").write_text(json.dumps(genesis))
    return {"config": config, "genesis": genesis}


@pytest.fixture(scope="module")
def rpc_url() -> str:
    return brownie.web3.provider.endpoint_uri


@pytest.fixture(scope="module")
def ledger(tmp_path_factory, people):
    data_dir = tmp_path_factory.mktemp("ledger") / "data"
    alloc = {people.admin.address: 10**24, people.treasury.address: 5 * 10**23}
    written = write_data_dir(data_dir, brownie.web3.eth.chain_id, alloc)
    return {"dir": data_dir, **written}


@pytest.fixture(scope="module")
def membership(accounts, system, people, owner, residents):
    """residents[1] suspended; a role granted then revoked; a member suspended then reinstated;
    a role-only account."""
    admin = {"from": people.admin}
    suspended = residents[1]
    system.access.suspend(suspended, b"\0" * 32, admin)
    revoked, reinstated, inspector = accounts[12], accounts[13], accounts[14]
    system.access.grantRole(ROLES["INSPECTOR"], revoked, admin)
    system.access.revokeRole(ROLES["INSPECTOR"], revoked, admin)
    system.access.onboard(reinstated, admin)
    system.access.suspend(reinstated, b"\1" * 32, admin)
    system.access.reinstate(reinstated, admin)
    system.access.grantRole(ROLES["INSPECTOR"], inspector, admin)
    return {
        "allowed": [
            *(getattr(people, f.name) for f in fields(people)),
            owner,
            residents[0],
            reinstated,
            inspector,
        ],
        "refused": [suspended, revoked],
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory, ledger, system, membership, rpc_url) -> ExportResult:
    out = tmp_path_factory.mktemp("besu") / "network"
    return export_besu(
        ledger["dir"],
        out,
        VALIDATORS,
        PASSWORD,
        rpc_url=rpc_url,
        access_address=system.access.address,
    )


@pytest.fixture(scope="module")
def validator_keys(exported) -> list[bytes]:
    return [
        bytes(Account.decrypt(json.loads(node.keystore.read_text()), PASSWORD))
        for node in exported.nodes
    ]


def toml(path: Path) -> dict:
    return tomllib.loads(path.read_text())


# --------------------------------------------------------------------------- extraData codec


def test_encode_extra_data_matches_besu_docs_vector():
    assert encode_extra_data(BESU_DOCS_VALIDATORS) == BESU_DOCS_EXTRA_DATA


def test_decode_extra_data_reads_besu_docs_vector():
    decoded = decode_extra_data(BESU_DOCS_EXTRA_DATA)
    assert decoded.vanity == bytes(32)
    assert [v.lower() for v in decoded.validators] == BESU_DOCS_VALIDATORS
    assert decoded.vote is None
    assert decoded.round == 0
    assert decoded.seals == []


def test_decode_extra_data_reads_a_vote_and_a_round():
    import rlp

    recipient = bytes.fromhex(BESU_DOCS_VALIDATORS[0][2:])
    payload = [bytes(32), [recipient], [recipient, b"\xff"], b"\x07", [b"\x01" * 65]]
    decoded = decode_extra_data("0x" + rlp.encode(payload).hex())
    assert decoded.vote == Vote(decoded.validators[0], True)
    assert decoded.round == 7
    assert decoded.seals == [b"\x01" * 65]


def test_decode_extra_data_rejects_ibft2_style_four_byte_round():
    import rlp

    ibft_round = rlp.encode([bytes(32), [], [], b"\x00\x00\x00\x00", []])
    with pytest.raises(ValueError, match="canonical RLP scalar"):
        decode_extra_data("0x" + ibft_round.hex())


def test_encode_extra_data_rejects_duplicates_and_non_addresses():
    with pytest.raises(ValueError, match="duplicates"):
        encode_extra_data([BESU_DOCS_VALIDATORS[0], BESU_DOCS_VALIDATORS[0].upper()[2:]])
    with pytest.raises(ValueError, match="not an address"):
        encode_extra_data(["0x1234"])


def test_account_events_and_is_allowed_match_compiled_city_access():
    abi = json.loads((ROOT / "build/contracts/CityAccess.json").read_text())["abi"]
    events = {}
    for entry in abi:
        if entry["type"] == "event":
            signature = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
            events[signature] = entry["inputs"]
    for signature, topic_index in ACCOUNT_EVENTS.items():
        inputs = events[signature]
        indexed = [i for i in inputs if i["indexed"]]
        # topic 0 is the signature hash, so topic k is the k-th indexed input
        assert indexed[topic_index - 1]["name"] == "account"
        assert indexed[topic_index - 1]["type"] == "address"
    assert IS_ALLOWED_ABI[0] in abi


# ----------------------------------------------------------------------------------- export


def test_export_extra_data_lists_the_validators_in_order(exported):
    genesis = json.loads(exported.genesis.read_text())
    decoded = decode_extra_data(genesis["extraData"])
    assert decoded.validators == exported.validators
    assert decoded.validators == [node.address for node in exported.nodes]
    assert len(decoded.validators) == VALIDATORS
    # This data directory has sealed nothing: the export block is its genesis, whose hash is
    # the vanity (tests/ledger_node/test_besu_state.py exports a real chain).
    assert exported.state.number == 0
    assert decoded.vanity == exported.state.block_hash != bytes(32)
    assert (decoded.vote, decoded.round, decoded.seals) == (None, 0, [])
    assert genesis["extraData"] == exported.extra_data


def test_export_genesis_keeps_chain_id_alloc_and_gas_limit(exported, ledger):
    genesis = json.loads(exported.genesis.read_text())
    assert genesis["config"]["chainId"] == ledger["config"]["chain_id"]
    for address, account in ledger["genesis"]["alloc"].items():
        assert genesis["alloc"][address.lower()]["balance"] == account["balance"]
    assert genesis["gasLimit"] == ledger["genesis"]["gasLimit"]
    assert genesis["timestamp"] == ledger["genesis"]["timestamp"]
    # block_period 0.5 s rounds up to Besu's minimum of one whole second
    assert genesis["config"]["qbft"] == {
        "blockperiodseconds": 1,
        "epochlength": 30000,
        "requesttimeoutseconds": 4,
    }
    assert genesis["config"]["londonBlock"] == 0
    assert genesis["config"]["zeroBaseFee"] is True
    assert genesis["difficulty"] == "0x1"
    assert genesis["mixHash"] == QBFT_MIX_HASH


def test_export_node_configs_parse_and_use_distinct_ports(exported):
    configs = [toml(node.config) for node in exported.nodes]
    p2p = [c["p2p-port"] for c in configs]
    rpc = [c["rpc-http-port"] for c in configs]
    assert len(set(p2p)) == len(set(rpc)) == VALIDATORS
    assert not set(p2p) & set(rpc)
    for node, config in zip(exported.nodes, configs, strict=True):
        assert config["rpc-http-api"] == ["ETH", "NET", "QBFT", "WEB3"]
        assert config["min-gas-price"] == 0
        assert config["permissions-accounts-config-file-enabled"] is True
        assert config["permissions-nodes-config-file-enabled"] is True
        # paths are relative to OUT, where the README starts Besu
        for key in ("genesis-file", "permissions-accounts-config-file", "data-path"):
            assert (exported.out / config[key]).exists(), key
        assert config["node-private-key-file"] == f"{node.name}/data/key"
        assert node.enode.endswith(f"@127.0.0.1:{config['p2p-port']}")
    assert "bootnodes" not in configs[0]
    assert all(c["bootnodes"] == [exported.nodes[0].enode] for c in configs[1:])


def test_export_enode_ids_are_the_validators_public_keys(exported, validator_keys):
    from eth_keys import keys

    for node, key in zip(exported.nodes, validator_keys, strict=True):
        public = keys.PrivateKey(key).public_key
        assert node.enode == f"enode://{public.to_bytes().hex()}@127.0.0.1:{node.p2p_port}"
        assert public.to_checksum_address() == node.address


def test_export_allowlist_holds_current_members_only(exported, membership, ledger):
    allowlist = {address.lower() for address in exported.allowlist}
    for account in membership["allowed"]:
        assert account.address.lower() in allowlist
    for account in membership["refused"]:
        assert account.address.lower() not in allowlist
    assert ledger["config"]["authority"].lower() in allowlist
    assert {v.lower() for v in exported.validators} <= allowlist
    for node in exported.nodes:
        permissions = toml(node.permissions)
        assert set(permissions["accounts-allowlist"]) == allowlist
        assert permissions["nodes-allowlist"] == [n.enode for n in exported.nodes]


def test_export_allowlist_excludes_stranger(exported, stranger):
    assert stranger.address.lower() not in {a.lower() for a in exported.allowlist}


def test_export_keystores_decrypt_to_validators_and_no_raw_key_is_written(exported, validator_keys):
    for node, key in zip(exported.nodes, validator_keys, strict=True):
        assert Account.from_key(key).address == node.address
        assert node.keystore.stat().st_mode & 0o077 == 0
        assert not (node.directory / "data" / "key").exists()
    files = [path for path in exported.out.rglob("*") if path.is_file()]
    assert len(files) == 3 + 3 * VALIDATORS  # genesis, migration.json, README, 3 per node
    for path in files:
        content = path.read_bytes()
        for key in validator_keys:
            assert key.hex().encode() not in content.lower(), path
            assert key not in content, path
        assert PASSWORD.encode() not in content, path


def test_readme_names_organisations_and_start_commands(exported):
    text = exported.readme.read_text()
    organisations = ["city", "village enterprise", "mobility operator", "audit office"]
    assert [node.organisation for node in exported.nodes] == organisations
    for node in exported.nodes:
        assert f"| {node.name} | {node.organisation} | `{node.address}` |" in text
        assert f"besu --config-file={node.name}/config.toml" in text
        assert decrypt_command(node.name) in text
    assert DECRYPT_FUNCTION in text
    assert f"chain id **{brownie.web3.eth.chain_id}**" in text
    assert "**state at block 0**" in text
    assert f"`0x{exported.state.block_hash.hex()}`" in text


def test_readme_decrypt_command_writes_the_besu_key_file(exported, validator_keys, tmp_path):
    # On a copy: the real export must stay free of raw keys.
    copy = tmp_path / "copy"
    shutil.copytree(exported.out, copy)
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", PASSWORD_ENV: PASSWORD}
    subprocess.run(
        ["sh", "-c", DECRYPT_FUNCTION + "\n" + decrypt_command("node-2")],
        cwd=copy,
        env=env,
        check=True,
        timeout=60,
    )
    key_file = copy / "node-2" / "data" / "key"
    assert key_file.read_text() == "0x" + validator_keys[1].hex()
    assert key_file.stat().st_mode & 0o077 == 0


def test_export_refuses_a_non_empty_out(exported, ledger):
    with pytest.raises(BesuExportError, match="not empty"):
        export_besu(ledger["dir"], exported.out, VALIDATORS, PASSWORD)
    assert len(list(exported.out.glob("node-*"))) == VALIDATORS


@pytest.mark.parametrize("count", [0, 1, 3])
def test_export_refuses_fewer_than_four_validators(ledger, tmp_path, count):
    with pytest.raises(BesuExportError, match=r"at least 4 \(f = 1\)") as refused:
        export_besu(ledger["dir"], tmp_path / "out", count, PASSWORD)
    assert f"--validators {count} is too few" in str(refused.value)
    assert "3f + 1" in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_more_than_32_validators(ledger, tmp_path):
    with pytest.raises(BesuExportError, match="between 4 and 32"):
        export_besu(ledger["dir"], tmp_path / "out", 33, PASSWORD)
    assert list(tmp_path.iterdir()) == []


def test_export_names_the_missing_config_json(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with pytest.raises(BesuExportError, match=r"config\.json is missing"):
        export_besu(data_dir, tmp_path / "out", VALIDATORS, PASSWORD)
    assert not (tmp_path / "out").exists()


def test_export_reports_an_unreachable_rpc_url(ledger, tmp_path, system):
    with pytest.raises(BesuExportError, match="cannot reach --rpc-url http://127.0.0.1:9"):
        export_besu(
            ledger["dir"],
            tmp_path / "out",
            VALIDATORS,
            PASSWORD,
            rpc_url="http://127.0.0.1:9",
            access_address=system.access.address,
        )
    assert list(tmp_path.iterdir()) == []


def test_export_rejects_an_rpc_url_of_another_chain(tmp_path, system, rpc_url):
    data_dir = tmp_path / "data"
    write_data_dir(data_dir, brownie.web3.eth.chain_id + 1, {})
    with pytest.raises(BesuExportError, match="point --rpc-url at this ledger's node"):
        export_besu(
            data_dir,
            tmp_path / "out",
            VALIDATORS,
            PASSWORD,
            rpc_url=rpc_url,
            access_address=system.access.address,
        )


def test_export_rejects_an_access_address_without_code(ledger, tmp_path, rpc_url, stranger):
    with pytest.raises(BesuExportError, match="no contract at --access"):
        export_besu(
            ledger["dir"],
            tmp_path / "out",
            VALIDATORS,
            PASSWORD,
            rpc_url=rpc_url,
            access_address=stranger.address,
        )


def test_export_rejects_a_short_password(ledger, tmp_path):
    with pytest.raises(BesuExportError, match="at least 8 characters"):
        export_besu(ledger["dir"], tmp_path / "out", VALIDATORS, "short")


def test_export_without_access_allowlists_authority_and_validators(ledger, tmp_path):
    out = tmp_path / "out"
    out.mkdir()  # an existing empty directory is accepted
    names = ["Bucheon city hall", "Sangsalmi people", "Bucheon bikes", "city audit office"]
    result = export_besu(ledger["dir"], out, 4, PASSWORD, organisations=names)
    authority = ledger["config"]["authority"]
    assert sorted(result.allowlist) == sorted([authority, *result.validators])
    assert "no CityAccess address" in result.allowlist_source
    assert [node.organisation for node in result.nodes] == names
    assert (
        decode_extra_data(json.loads(result.genesis.read_text())["extraData"]).validators
        == result.validators
    )


def test_export_rejects_organisations_of_the_wrong_length(ledger, tmp_path):
    with pytest.raises(BesuExportError, match="one non-empty organisation name per validator"):
        export_besu(ledger["dir"], tmp_path / "out", 4, PASSWORD, organisations=["city"])
