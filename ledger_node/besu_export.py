"""Export the ledger's chain as a Hyperledger Besu QBFT network run by several organisations.

The embedded node has one authority. When the city, the village enterprise and the operators each
run a validator, the same chain design moves to Besu QBFT: same chain id, same genesis
allocations and gas limit, zero base fee, and the accounts allowlist taken from the *current*
CityAccess members. The export writes, into a new directory OUT:

- genesis.json                      Besu genesis with the QBFT extraData for the validators
- node-i/keystore.json              the validator key, V3-encrypted with the caller's password
- node-i/config.toml                Besu options; paths are relative to OUT (start Besu there)
- node-i/permissions_config.toml    accounts-allowlist and nodes-allowlist
- README.md                         who runs which node, and how to start it

Raw keys are never written: Besu reads `node-i/data/key`, which the operator decrypts at start.
Everything is staged in a sibling directory and renamed into place, so a failed export leaves
no half-written network behind.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from eth_utils import is_address, keccak, to_checksum_address
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception

from citypass.core.keystore import MIN_PASSWORD_LENGTH
from ledger_node.config import NodeConfig, load_config, load_genesis
from ledger_node.errors import ConfigError, LedgerNodeError
from ledger_node.qbft import encode_extra_data

MIN_VALIDATORS = 1
MAX_VALIDATORS = 32
# QBFT tolerates f faulty validators only with n >= 3f + 1, so fewer than 4 tolerate none.
BFT_MIN_VALIDATORS = 4

# Besu's BFT mix hash ("ctical byzantine fault tolerance"), required in IBFT 2.0 / QBFT genesis.
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
EPOCH_LENGTH = 30_000
REQUEST_TIMEOUT_SECONDS = 4

P2P_BASE_PORT = 30303
# Above the embedded node's 8545, so both can run on one machine during a migration.
RPC_BASE_PORT = 8645
RPC_APIS = ["ETH", "NET", "QBFT", "WEB3"]
HOST_ALLOWLIST = ["localhost", "127.0.0.1"]
NODE_HOST = "127.0.0.1"

GENESIS_FILE = "genesis.json"
README_FILE = "README.md"
KEYSTORE_FILE = "keystore.json"
CONFIG_FILE = "config.toml"
PERMISSIONS_FILE = "permissions_config.toml"
DATA_DIR = "data"
RAW_KEY_FILE = "key"
PASSWORD_ENV = "BESU_KEYSTORE_PASSWORD"

RPC_TIMEOUT_SECONDS = 15
# Ledger RPC servers cap eth_getLogs ranges; small windows keep every request acceptable.
LOG_WINDOW_BLOCKS = 5_000

# The CityAccess events that name an account (topic index of the account), and the one view
# that decides membership. tests/ledger_node/test_besu_export.py checks these against the compiled ABI.
ACCOUNT_EVENTS: dict[str, int] = {
    "MemberOnboarded(address,address)": 1,
    "MemberSuspended(address,address,bytes32)": 1,
    "MemberReinstated(address,address)": 1,
    "RoleGranted(bytes32,address,address)": 2,
    "RoleRevoked(bytes32,address,address)": 2,
}
IS_ALLOWED_ABI: list[dict[str, Any]] = [
    {
        "inputs": [{"internalType": "address", "name": "account", "type": "address"}],
        "name": "isAllowed",
        "outputs": [{"internalType": "bool", "name": "", "type": "bool"}],
        "stateMutability": "view",
        "type": "function",
    }
]

# The contracts are compiled for evm_version prague, but Prague adds no opcode: Cancun (PUSH0,
# MCOPY, TSTORE) is enough to run them. Prague itself is left off because Besu then refuses
# blocks unless the EIP-7002/7251 system contracts are deployed in the genesis.
EVM_MILESTONES: dict[str, int] = {
    "berlinBlock": 0,
    "londonBlock": 0,
    "shanghaiTime": 0,
    "cancunTime": 0,
}

# A shell function (POSIX sh) that decrypts node-i/keystore.json into node-i/data/key, the raw
# key file Besu reads, readable by its owner only. The README shows it; the tests run it.
DECRYPT_FUNCTION = (
    "besu_key() { (umask 077 && python3 -c 'import getpass, json, os, sys; "
    "from eth_account import Account; "
    "key = Account.decrypt(json.load(open(sys.argv[1])), "
    f'os.environ.get("{PASSWORD_ENV}") or getpass.getpass("keystore password: ")); '
    'open(sys.argv[2], "w").write("0x" + bytes(key).hex())\' '
    f'"$1/{KEYSTORE_FILE}" "$1/{DATA_DIR}/{RAW_KEY_FILE}"); }}'
)

T = TypeVar("T")


class BesuExportError(LedgerNodeError):
    """The Besu export cannot be written; the message says what to fix."""


@dataclass(frozen=True)
class ExportedNode:
    index: int
    organisation: str
    address: str
    enode: str
    directory: Path
    keystore: Path
    config: Path
    permissions: Path
    p2p_port: int
    rpc_port: int

    @property
    def name(self) -> str:
        return self.directory.name


@dataclass(frozen=True)
class ExportResult:
    out: Path
    genesis: Path
    readme: Path
    extra_data: str
    nodes: list[ExportedNode]
    allowlist: list[str]
    allowlist_source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def validators(self) -> list[str]:
        return [node.address for node in self.nodes]

    def summary(self) -> list[str]:
        """Lines for the CLI: one per node, the allowlist, then any warnings."""
        lines = [
            f"{node.name}: {node.organisation}, validator {node.address}, "
            f"p2p {node.p2p_port}, rpc {node.rpc_port}"
            for node in self.nodes
        ]
        lines.append(
            f"accounts allowlist: {len(self.allowlist)} accounts ({self.allowlist_source})"
        )
        lines.extend(f"warning: {warning}" for warning in self.warnings)
        return lines


@dataclass(frozen=True)
class _Validator:
    account: LocalAccount
    enode_id: str


def export_besu(
    data_dir: Path,
    out: Path,
    validators: int,
    password: str,
    rpc_url: str | None = None,
    access_address: str | None = None,
    organisations: list[str] | None = None,
) -> ExportResult:
    """Write a `validators`-node Besu QBFT network of the ledger in DATA_DIR to the new dir OUT.

    The accounts allowlist is every account CityAccess.isAllowed() accepts now (read over
    `rpc_url` at `access_address`), plus the node authority and the validators."""
    data_dir, out = Path(data_dir), Path(out)
    _check_validator_count(validators)
    names = _organisations(validators, organisations)
    _check_password(password)
    _check_out(out)
    config, ledger_genesis = _load_ledger(data_dir)
    members, source = _current_members(config, rpc_url, access_address)
    keyset = [_new_validator() for _ in range(validators)]
    nodes = [_plan_node(out, i, names[i], keyset[i]) for i in range(validators)]
    allowlist = _unique_addresses([*members, config.authority, *(node.address for node in nodes)])
    extra_data = encode_extra_data([node.address for node in nodes])
    warnings = _warnings(validators)
    result = ExportResult(
        out=out,
        genesis=out / GENESIS_FILE,
        readme=out / README_FILE,
        extra_data=extra_data,
        nodes=nodes,
        allowlist=allowlist,
        allowlist_source=source,
        warnings=warnings,
    )
    genesis = besu_genesis(config, ledger_genesis, extra_data)
    _write_atomically(
        out, lambda staging: _write_network(staging, result, genesis, keyset, password, config)
    )
    return result


def besu_genesis(
    config: NodeConfig, ledger_genesis: dict[str, Any], extra_data: str
) -> dict[str, Any]:
    """The Besu QBFT genesis: the ledger's chain id, allocations and gas limit, zero base fee."""
    return {
        "config": {
            "chainId": config.chain_id,
            **EVM_MILESTONES,
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": block_period_seconds(config.block_period),
                "epochlength": EPOCH_LENGTH,
                "requesttimeoutseconds": REQUEST_TIMEOUT_SECONDS,
            },
        },
        "nonce": "0x0",
        "timestamp": ledger_genesis.get("timestamp", hex(config.genesis_timestamp)),
        "extraData": extra_data,
        "gasLimit": ledger_genesis.get("gasLimit", hex(config.gas_limit)),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": "0x0",
        "alloc": ledger_genesis["alloc"],
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": "0x" + "00" * 32,
    }


def block_period_seconds(block_period: float) -> int:
    """Besu counts whole seconds and needs at least 1; the ledger may seal faster or on demand."""
    return max(1, math.ceil(block_period))


def default_organisations(count: int) -> list[str]:
    """City first, then the village enterprise, then the operators (operator 1, 2, …)."""
    leading = ["city", "village enterprise"]
    return leading[:count] + [f"operator {i}" for i in range(1, count - len(leading) + 1)]


# --- checks -----------------------------------------------------------------------------------


def _check_validator_count(validators: int) -> None:
    if isinstance(validators, bool) or not isinstance(validators, int):
        raise BesuExportError(f"--validators must be a whole number, not {validators!r}")
    if not MIN_VALIDATORS <= validators <= MAX_VALIDATORS:
        raise BesuExportError(
            f"--validators must be between {MIN_VALIDATORS} and {MAX_VALIDATORS} (got {validators}); "
            f"use {BFT_MIN_VALIDATORS} or more to tolerate a faulty validator"
        )


def _organisations(count: int, organisations: list[str] | None) -> list[str]:
    if organisations is None:
        return default_organisations(count)
    if len(organisations) != count or not all(
        isinstance(o, str) and o.strip() for o in organisations
    ):
        raise BesuExportError(
            f"give exactly one non-empty organisation name per validator ({count}), "
            f"got {len(organisations)}"
        )
    return [name.strip() for name in organisations]


def _check_password(password: str) -> None:
    # The message never repeats the password.
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise BesuExportError(
            f"the validator keystore password must have at least {MIN_PASSWORD_LENGTH} characters"
        )


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise BesuExportError(f"--out {out} is a file: choose a new directory")
    if out.is_dir() and any(out.iterdir()):
        raise BesuExportError(
            f"--out {out} is not empty: the export never overwrites; choose a new directory"
        )


def _load_ledger(data_dir: Path) -> tuple[NodeConfig, dict[str, Any]]:
    try:
        config = load_config(data_dir)
        genesis = load_genesis(data_dir)
    except ConfigError as exc:
        raise BesuExportError(str(exc)) from exc
    genesis_chain = genesis.get("config", {}).get("chainId")
    if genesis_chain != config.chain_id:
        raise BesuExportError(
            f"{data_dir / 'genesis.json'} has chainId {genesis_chain} but config.json has "
            f"chain_id {config.chain_id}: restore the data directory from a backup"
        )
    if not isinstance(genesis["alloc"], dict):
        raise BesuExportError(f"{data_dir / 'genesis.json'} has no alloc object")
    return config, genesis


def _warnings(validators: int) -> list[str]:
    if validators >= BFT_MIN_VALIDATORS:
        return []
    return [
        f"{validators} validator(s) cannot tolerate a faulty or stopped validator; "
        f"Besu QBFT needs at least {BFT_MIN_VALIDATORS} for Byzantine fault tolerance"
    ]


# --- current CityAccess members -----------------------------------------------------------------


def _current_members(
    config: NodeConfig, rpc_url: str | None, access_address: str | None
) -> tuple[list[str], str]:
    """The accounts CityAccess allows now, and a sentence saying where the list came from."""
    if access_address is None:
        return [], "no CityAccess address was given: authority and validators only"
    if not isinstance(access_address, str) or not is_address(access_address):
        raise BesuExportError(f"--access {access_address!r} is not an address")
    if rpc_url is None:
        return [], "no --rpc-url was given to read CityAccess: authority and validators only"
    access = to_checksum_address(access_address)
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))
    chain_id = _rpc(rpc_url, "read the chain id", lambda: w3.eth.chain_id)
    if chain_id != config.chain_id:
        raise BesuExportError(
            f"--rpc-url {rpc_url} serves chain {chain_id}, but the data directory is chain "
            f"{config.chain_id}: point --rpc-url at this ledger's node"
        )
    head = _rpc(rpc_url, "read the head block", lambda: w3.eth.block_number)
    if not _rpc(rpc_url, "read the CityAccess code", lambda: w3.eth.get_code(access, head)):
        raise BesuExportError(
            f"no contract at --access {access} on chain {chain_id}: check the address"
        )
    candidates = _rpc(rpc_url, "read the CityAccess logs", lambda: _log_accounts(w3, access, head))
    contract = w3.eth.contract(address=access, abi=IS_ALLOWED_ABI)
    allowed = [
        account
        for account in sorted(candidates)
        if _rpc(
            rpc_url,
            "call CityAccess.isAllowed",
            lambda account=account: contract.functions.isAllowed(account).call(
                block_identifier=head
            ),
        )
    ]
    return allowed, f"CityAccess {access} at block {head}: {len(allowed)} allowed members"


def _log_accounts(w3: Web3, access: str, head: int) -> set[str]:
    """Every account a membership or role event ever named; isAllowed() decides which count."""
    topic_index = {"0x" + keccak(text=sig).hex(): index for sig, index in ACCOUNT_EVENTS.items()}
    accounts: set[str] = set()
    for start in range(0, head + 1, LOG_WINDOW_BLOCKS):
        logs = w3.eth.get_logs(
            {
                "address": access,
                "fromBlock": start,
                "toBlock": min(start + LOG_WINDOW_BLOCKS - 1, head),
                "topics": [list(topic_index)],
            }
        )
        for log in logs:
            topics = [Web3.to_hex(topic) for topic in log["topics"]]
            index = topic_index.get(topics[0]) if topics else None
            if index is not None and len(topics) > index:
                accounts.add(to_checksum_address("0x" + topics[index][-40:]))
    return accounts


def _rpc(rpc_url: str, action: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except (requests.RequestException, OSError) as exc:
        raise BesuExportError(
            f"cannot reach --rpc-url {rpc_url} to {action} ({type(exc).__name__}): "
            "start the ledger node or fix the URL"
        ) from exc
    except (Web3Exception, ValueError) as exc:
        raise BesuExportError(f"--rpc-url {rpc_url} failed to {action}: {exc}") from exc


def _unique_addresses(addresses: Iterable[str]) -> list[str]:
    return sorted({to_checksum_address(address) for address in addresses}, key=str.lower)


# --- validators and nodes -----------------------------------------------------------------------


def _new_validator() -> _Validator:
    account = Account.create()
    # The enode id is the 64-byte uncompressed public key without its 0x04 prefix.
    enode_id = keys.PrivateKey(account.key).public_key.to_bytes().hex()
    return _Validator(account, enode_id)


def _plan_node(out: Path, position: int, organisation: str, validator: _Validator) -> ExportedNode:
    index = position + 1
    directory = out / f"node-{index}"
    p2p_port = P2P_BASE_PORT + position
    return ExportedNode(
        index=index,
        organisation=organisation,
        address=validator.account.address,
        enode=f"enode://{validator.enode_id}@{NODE_HOST}:{p2p_port}",
        directory=directory,
        keystore=directory / KEYSTORE_FILE,
        config=directory / CONFIG_FILE,
        permissions=directory / PERMISSIONS_FILE,
        p2p_port=p2p_port,
        rpc_port=RPC_BASE_PORT + position,
    )


# --- writing ------------------------------------------------------------------------------------


def _write_atomically(out: Path, write: Callable[[Path], None]) -> None:
    """Write into a sibling staging directory, then rename it to OUT (which is absent or empty)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise BesuExportError(
            f"cannot create a directory next to --out {out}: {exc.strerror}"
        ) from exc
    try:
        write(staging)
        os.replace(staging, out)
    except OSError as exc:
        raise BesuExportError(
            f"cannot write the export to --out {out} ({exc.strerror}); choose a new, writable directory"
        ) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _write_network(
    root: Path,
    result: ExportResult,
    genesis: dict[str, Any],
    keyset: list[_Validator],
    password: str,
    config: NodeConfig,
) -> None:
    _write_text(root / GENESIS_FILE, json.dumps(genesis, indent=2) + "\n")
    permissions = permissions_toml(
        result.allowlist, [node.enode for node in result.nodes], result.allowlist_source
    )
    bootnode = result.nodes[0].enode
    for node, validator in zip(result.nodes, keyset, strict=True):
        directory = root / node.name
        (directory / DATA_DIR).mkdir(mode=0o700, parents=True)
        keystore = Account.encrypt(validator.account.key, password)
        _write_text(directory / KEYSTORE_FILE, json.dumps(keystore) + "\n", mode=0o600)
        bootnodes = [] if node.index == 1 else [bootnode]
        _write_text(directory / CONFIG_FILE, node_config_toml(node, bootnodes))
        _write_text(directory / PERMISSIONS_FILE, permissions)
    _write_text(root / README_FILE, readme(result, config))


def _write_text(path: Path, text: str, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _toml_value(value: Any) -> str:
    """TOML for the few value types the configs use; JSON strings are valid TOML basic strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _toml_lines(options: dict[str, Any]) -> list[str]:
    return [f"{key}={_toml_value(value)}" for key, value in options.items()]


def node_config_toml(node: ExportedNode, bootnodes: list[str]) -> str:
    """Besu options for one validator. Paths are relative to OUT: Besu resolves them against
    the working directory, not against the config file."""
    name = node.name
    options: dict[str, Any] = {
        "data-path": f"{name}/{DATA_DIR}",
        "node-private-key-file": f"{name}/{DATA_DIR}/{RAW_KEY_FILE}",
        "genesis-file": GENESIS_FILE,
        "p2p-host": NODE_HOST,
        "p2p-port": node.p2p_port,
        "rpc-http-enabled": True,
        "rpc-http-host": NODE_HOST,
        "rpc-http-port": node.rpc_port,
        "rpc-http-api": RPC_APIS,
        "host-allowlist": HOST_ALLOWLIST,
        "min-gas-price": 0,
        "permissions-accounts-config-file-enabled": True,
        "permissions-accounts-config-file": f"{name}/{PERMISSIONS_FILE}",
        "permissions-nodes-config-file-enabled": True,
        "permissions-nodes-config-file": f"{name}/{PERMISSIONS_FILE}",
    }
    if bootnodes:
        options["bootnodes"] = bootnodes
    header = [
        f"# CityPass Ledger - Besu QBFT validator {name} ({node.organisation}), validator {node.address}",
        f"# Start from the export directory: besu --config-file={name}/{CONFIG_FILE}",
    ]
    return "\n".join(header + _toml_lines(options)) + "\n"


def permissions_toml(allowlist: list[str], enodes: list[str], source: str) -> str:
    """Besu local permissioning: who may send transactions, which nodes may connect."""
    header = [
        f"# Accounts allowed to transact: {source}.",
        "# Besu compares addresses in lower case. Nodes: the validators (the bootnode included).",
    ]
    options = {
        "accounts-allowlist": [address.lower() for address in allowlist],
        "nodes-allowlist": enodes,
    }
    return "\n".join(header + _toml_lines(options)) + "\n"


def decrypt_command(node_name: str) -> str:
    """The command (run in OUT, after DECRYPT_FUNCTION) that writes a node's raw Besu key file."""
    return f"besu_key {node_name}"


def readme(result: ExportResult, config: NodeConfig) -> str:
    """OUT/README.md: what the network is, who runs which node, the files, how to start."""
    parts = [
        _readme_intro(result, config),
        _readme_nodes(result, config),
        _readme_files(),
        _readme_allowlist(result, config),
        _readme_start(result),
    ]
    return "\n\n".join(parts) + "\n"


def _readme_intro(result: ExportResult, config: NodeConfig) -> str:
    lines = [
        f"# CityPass Ledger on Hyperledger Besu QBFT ({len(result.nodes)} validators)",
        "",
        "Exported by `ledger-node export-besu`. The network keeps the embedded ledger's chain "
        f"design: chain id **{config.chain_id}**, the same genesis allocations (`alloc`) and gas "
        "limit as the data directory's genesis.json, and free transactions (zero base fee: "
        "`londonBlock` 0 with `zeroBaseFee`, and `min-gas-price=0` on every node). It is a new "
        "genesis, not a copy of the ledger's history: deploy the contracts again before use.",
    ]
    if result.warnings:
        lines += ["", *(f"> **Warning:** {warning}." for warning in result.warnings)]
    return "\n".join(lines)


def _readme_nodes(result: ExportResult, config: NodeConfig) -> str:
    rows = [
        f"| {n.name} | {n.organisation} | `{n.address}` | {n.p2p_port} | {n.rpc_port} |"
        for n in result.nodes
    ]
    return "\n".join(
        [
            "## Who runs which node",
            "",
            "| Node | Organisation | Validator address | P2P port | RPC port |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"QBFT: block period {block_period_seconds(config.block_period)} s, epoch "
            f"{EPOCH_LENGTH} blocks, round timeout {REQUEST_TIMEOUT_SECONDS} s. The EVM runs up to "
            "Cancun (the contracts use PUSH0, MCOPY and TSTORE): use a Besu release that supports "
            "Cancun on QBFT.",
        ]
    )


def _readme_files() -> str:
    return "\n".join(
        [
            "## Files",
            "",
            f"- `{GENESIS_FILE}`: the Besu genesis; `extraData` lists the validators above, in order.",
            f"- `node-i/{KEYSTORE_FILE}`: the validator key, an encrypted (V3) keystore; the "
            "password was chosen at export. No raw key is written anywhere in this directory.",
            f"- `node-i/{CONFIG_FILE}`: the node's Besu options. Its paths are relative to this "
            "directory (Besu resolves them against the working directory).",
            f"- `node-i/{PERMISSIONS_FILE}`: `accounts-allowlist` (who may send transactions) and "
            "`nodes-allowlist` (the validators' enode URLs). Every node carries the same lists.",
            f"- `node-i/{DATA_DIR}/`: the node's Besu data path.",
        ]
    )


def _readme_allowlist(result: ExportResult, config: NodeConfig) -> str:
    return "\n".join(
        [
            "## Accounts allowlist",
            "",
            f"{len(result.allowlist)} accounts ({result.allowlist_source}). It always holds the "
            f"ledger's authority `{config.authority}` and the validators. Members onboarded or "
            f"suspended after the export are not reflected: re-export, or edit `{PERMISSIONS_FILE}` "
            "on every node and restart it.",
        ]
    )


def _readme_start(result: ExportResult) -> str:
    nodes = result.nodes
    return "\n".join(
        [
            "## Start the network",
            "",
            "Run every command from this directory. Each organisation first decrypts its "
            f"validator key into `node-i/{DATA_DIR}/{RAW_KEY_FILE}`, the raw key file Besu reads "
            f"(the command asks for the password, or reads `${PASSWORD_ENV}`; it needs Python "
            "with `eth-account`):",
            "",
            "```sh",
            DECRYPT_FUNCTION,
            *(decrypt_command(n.name) for n in nodes),
            "```",
            "",
            f"Then each starts its node, {nodes[0].name} (the bootnode) first:",
            "",
            "```sh",
            *(f"besu --config-file={n.name}/{CONFIG_FILE}" for n in nodes),
            "```",
            "",
            f"The raw key file is the validator's identity: keep `{DATA_DIR}/{RAW_KEY_FILE}` "
            "readable by the Besu user only and delete it when the node is retired. Check the "
            f"validator set with `qbft_getValidatorsByBlockNumber` on "
            f"http://127.0.0.1:{nodes[0].rpc_port}.",
            "",
            "To run the nodes on separate machines, replace 127.0.0.1 in every `nodes-allowlist`, "
            "`bootnodes` and `p2p-host` with the machines' addresses.",
        ]
    )
