"""Reads on the node need a token (docs/ledger-node.md, ## Who may read what).

Without a token a member's wallet (ethers, cast) still sends a transaction and follows it to
its receipt, but eth_getLogs, eth_call and eth_getBalance are refused with a message naming the
permission; with a token the same reads work. Expired, forged, wrong-audience and
under-privileged tokens each get their own refusal. The token works in the URL path and in the
Authorization header, over HTTP and WebSocket; `ledger-node token` issues tokens the node takes.
One node serves the whole module."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import requests
from Crypto.PublicKey import ECC
from websockets.sync.client import connect

from ledger_node.rpc_tokens import audience_for, issue
from ledger_node.token_keys import issuer_key_path, load_issuer_key
from tests.ledger_helpers import (
    PASSWORD,
    ROOT,
    Rpc,
    Signer,
    access_with_members,
    call_data,
    error_line,
    new_node,
    restart,
    run_ledger_node,
)

UNAUTHORIZED = -40100
CAST = ROOT / "node_modules" / "@foundry-rs" / "cast-linux-amd64" / "bin" / "cast"
ETHERS_SCRIPT = ROOT / "tests" / "js" / "ethers_auth.js"
NO_TOKEN = "needs a token with"
FULL = ["*:*"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    node = new_node(tmp_path_factory.mktemp("auth"), "node")
    try:
        access, (member,) = access_with_members(Rpc(node.url), node.data_dir, 1)
        key = load_issuer_key(issuer_key_path(node.data_dir), PASSWORD)
        chain_id = int(node.rpc("eth_chainId")["result"], 16)
        yield {"node": node, "access": access, "member": member, "key": key, "chain": chain_id}
    finally:
        assert node.stop() == 0


def token(world, permissions=FULL, *, audience=None, lifetime=600, key=None, now=None) -> str:
    return issue(
        key or world["key"],
        subject="tester",
        audience=audience or audience_for(world["chain"]),
        permissions=permissions,
        lifetime_seconds=lifetime,
        now=now,
    )


def post(url: str, method: str, params: list, headers: dict | None = None) -> dict:
    payload = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
    reply = requests.post(url, json=payload, headers=headers or {}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def refusal(answer: dict) -> dict:
    assert "error" in answer, answer
    assert answer["error"]["code"] == UNAUTHORIZED, answer
    return answer["error"]


def reads(world) -> dict[str, list]:
    """The reads a keyless caller must not make: everyone's logs, a contract's state, another
    address's balance."""
    access = world["access"]
    data = "0x" + call_data("isAllowed(address)", world["member"].address).hex()
    return {
        "eth_getLogs": [{"fromBlock": "0x0"}],
        "eth_call": [{"to": access.address, "data": data}, "latest"],
        "eth_getBalance": [access.admin.address, "latest"],
    }


# ------------------------------------------------------------------------ without a token


def test_without_a_token_the_private_reads_are_refused_naming_the_permission(world):
    for method, params in reads(world).items():
        error = refusal(post(world["node"].base_url, method, params))
        permission = "eth:" + method.removeprefix("eth_")
        assert error["message"].startswith(f"{method} needs a token with {permission}; none was")
        assert error["data"] == {"reason": "no_token", "method": method}


def test_without_a_token_blocks_are_headers_and_full_blocks_are_refused(world):
    node = world["node"]
    full = post(node.url, "eth_getBlockByNumber", ["latest", False])["result"]
    bare = post(node.base_url, "eth_getBlockByNumber", ["latest", False])["result"]
    assert full["transactions"] and bare["transactions"] == []
    assert set(bare["logsBloom"][2:]) == {"0"} and bare["hash"] == full["hash"]
    error = refusal(post(node.base_url, "eth_getBlockByHash", [full["hash"], True]))
    assert "eth:getBlockByHash" in error["message"] and "false as the second" in error["message"]


def test_a_batch_answers_the_wallet_methods_and_refuses_the_rest_entry_by_entry(world):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_getLogs", "params": [{}]},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "params": []},
    ]
    answers = requests.post(world["node"].base_url, json=batch, timeout=30).json()
    by_id = {a["id"]: a for a in answers}
    assert int(by_id[1]["result"], 16) == world["chain"] and "result" in by_id[3]
    assert refusal(by_id[2])["data"]["reason"] == "no_token"


def cast(*args: str) -> subprocess.CompletedProcess:
    assert CAST.exists(), f"{CAST} is missing: run `make setup` (npm package @foundry-rs/cast)"
    return subprocess.run([str(CAST), *args], capture_output=True, text=True, timeout=60)


def test_cast_sends_and_follows_its_receipt_without_a_token_but_reads_need_one(world):
    node, member, access = world["node"], world["member"], world["access"]
    member.sync_nonce(Rpc(node.url))
    sent = cast(
        "send", "--rpc-url", node.base_url, "--private-key", "0x" + member.key_bytes.hex(),
        "--priority-gas-price", "0", "--gas-price", "0", "--json",
        access.address, "isAllowed(address)", member.address,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["status"] == "0x1"
    check = ["call", access.address, "isAllowed(address)(bool)", member.address]
    keyless = cast(*check, "--rpc-url", node.base_url)
    assert keyless.returncode != 0
    assert "eth_call needs a token with eth:call; none was sent" in keyless.stderr
    in_path = cast(*check, "--rpc-url", node.url)
    header = f"Authorization: Bearer {token(world, ['eth:call'])}"
    in_header = cast(*check, "--rpc-url", node.base_url, "--rpc-headers", header)
    assert in_path.stdout.strip() == in_header.stdout.strip() == "true", in_header.stderr


def ethers(world, url: str, *bearer: str) -> dict:
    access, member = world["access"], world["member"]
    data = "0x" + call_data("isAllowed(address)", member.address).hex()
    done = subprocess.run(
        ["node", str(ETHERS_SCRIPT), url, "0x" + member.key_bytes.hex(), access.address, data,
         *bearer],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("scheme", ["http", "ws"])
def test_ethers_sends_without_a_token_and_reads_with_one_in_the_path_or_header(world, scheme):
    node = world["node"]
    base = node.base_url.replace("http", scheme, 1)
    keyless = ethers(world, base)
    assert keyless["status"] == 1, keyless
    for method in ("getLogs", "call", "getBalance"):
        assert not keyless[method]["ok"]
        assert f"eth_{method} needs a token with eth:{method}" in keyless[method]["message"]
    in_path = ethers(world, node.url.replace("http", scheme, 1))
    in_header = ethers(world, base, "bearer", token(world))
    for result in (in_path, in_header):
        assert result["status"] == 1, result
        assert result["getLogs"]["ok"] and int(result["getLogs"]["result"]) > 0, result
        assert result["call"]["ok"] and result["call"]["result"].endswith("1"), result
        assert result["getBalance"]["ok"], result


# ---------------------------------------------------------------------- refused tokens


def refusals(world) -> dict[str, str]:
    other = ECC.generate(curve="P-256")
    now = int(time.time())
    return {
        "expired": token(world, now=now - 7200, lifetime=3600),
        "forged": token(world, key=other),
        "audience": token(world, audience=audience_for(world["chain"] + 1)),
        "permission": token(world, ["eth:blockNumber", "net:*"]),
        "malformed": "not-a-jwt",
    }


def test_each_bad_token_gets_its_own_refusal_in_the_header_and_in_the_path(world):
    node = world["node"]
    messages = {
        "expired": "the token expired at ",
        "forged": "the token's signature does not verify with this node's public key",
        "audience": f"this node is 'citypass-ledger:{world['chain']}'",
        "permission": "the token's permissions do not include it (subject 'tester' holds "
        "eth:blockNumber, net:*)",
        "malformed": "the token is not a JWT",
    }
    for reason, bad in refusals(world).items():
        for answer in (
            post(node.url_with(bad), "eth_getLogs", [{}]),
            post(node.base_url, "eth_getLogs", [{}], {"Authorization": f"Bearer {bad}"}),
        ):
            error = refusal(answer)
            assert error["data"]["reason"] == reason, (reason, error)
            assert messages[reason] in error["message"], (reason, error)
    wrong_audience = refusal(post(node.url_with(refusals(world)["audience"]), "eth_chainId", []))
    assert "the token is for audience 'citypass-ledger:" in wrong_audience["message"]


def test_a_bad_token_is_refused_even_for_the_wallet_methods(world):
    """A service whose token expired hears so at once, instead of silently reading less."""
    error = refusal(post(world["node"].url_with(refusals(world)["expired"]), "eth_chainId", []))
    assert error["message"].endswith("; eth_chainId refused")


def test_a_token_never_gives_less_than_no_token(world):
    narrow = world["node"].url_with(token(world, ["ledger:getSeal"]))
    assert int(post(narrow, "eth_chainId", [])["result"], 16) == world["chain"]
    assert post(narrow, "ledger_getSeal", [1])["result"] is not None
    assert refusal(post(narrow, "eth_getLogs", [{}]))["data"]["reason"] == "permission"


def test_two_different_tokens_and_a_bad_authorization_header_are_refused(world):
    node = world["node"]
    error = refusal(post(node.url, "eth_chainId", [], {"Authorization": f"Bearer {token(world)}x"}))
    assert "two different tokens" in error["message"]
    error = refusal(post(node.base_url, "eth_chainId", [], {"Authorization": "Basic abc"}))
    assert 'must read "Bearer <token>"' in error["message"]


# -------------------------------------------------------------------------- WebSocket


def ws_call(socket, method: str, params: list) -> dict:
    socket.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    return json.loads(socket.recv(timeout=10))


def test_websocket_subscriptions_and_reads_need_a_token_in_the_path_or_header(world):
    node = world["node"]
    base_ws = node.base_url.replace("http", "ws", 1)
    with connect(base_ws) as keyless:
        assert int(ws_call(keyless, "eth_chainId", [])["result"], 16) == world["chain"]
        error = refusal(ws_call(keyless, "eth_subscribe", ["newHeads"]))
        assert "eth_subscribe needs a token with eth:subscribe; none was sent" in error["message"]
        assert refusal(ws_call(keyless, "eth_getLogs", [{}]))["data"]["reason"] == "no_token"
    header = {"Authorization": f"Bearer {token(world)}"}
    with connect(node.ws_url) as in_path, connect(base_ws, additional_headers=header) as in_header:
        for socket in (in_path, in_header):
            assert ws_call(socket, "eth_subscribe", ["newHeads"])["result"].startswith("0x")
            assert isinstance(ws_call(socket, "eth_getLogs", [{}])["result"], list)
    forged = {"Authorization": f"Bearer {refusals(world)['forged']}"}
    with connect(base_ws, additional_headers=forged) as refused:
        assert refusal(ws_call(refused, "eth_chainId", []))["data"]["reason"] == "forged"


def test_a_websocket_stops_at_its_tokens_expiry(world):
    node, member, access = world["node"], world["member"], world["access"]
    short = token(world, lifetime=2)
    with connect(node.url_with(short).replace("http", "ws", 1)) as socket:
        assert ws_call(socket, "eth_subscribe", ["newHeads"])["result"].startswith("0x")
        time.sleep(2.2)
        rpc = Rpc(node.url)
        member.sync_nonce(rpc)
        rpc.receipt(rpc.send(member.sign(access.address_bytes, b"").raw)["result"])
        error = refusal(ws_call(socket, "eth_blockNumber", []))  # the next frame: no head
        assert error["data"]["reason"] == "expired" and "the token expired at" in error["message"]


# ---------------------------------------------------------------------- issuing tokens


def test_ledger_node_token_issues_a_token_the_node_accepts(world):
    node = world["node"]
    issued = run_ledger_node(
        "token", "--data-dir", node.data_dir, "--subject", "auditor-city",
        "--permissions", "eth:getLogs, ledger:*", "--expires", "1h",
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    signed = issued.stdout.strip()
    assert "token for 'auditor-city'" in issued.stderr and "eth:getLogs, ledger:*" in issued.stderr
    assert isinstance(post(node.url_with(signed), "eth_getLogs", [{}])["result"], list)
    refused = refusal(post(node.url_with(signed), "eth_call", reads(world)["eth_call"]))
    assert "subject 'auditor-city' holds eth:getLogs, ledger:*" in refused["message"]


@pytest.mark.parametrize(
    "args, names",
    [
        (["--permissions", "eth"], "--permissions: 'eth' is not a permission"),
        (["--permissions", ","], "--permissions: give at least one permission"),
        (["--expires", "90y"], "--expires '90y': write a lifetime like 90d"),
        (["--expires", "500d"], "--expires '500d' is over 400 days"),
        (["--subject", "a b"], "--subject 'a b': use 1 to 64 letters"),
        (["--no-data-dir"], "give --key FILE"),
    ],
)
def test_ledger_node_token_bad_flags_get_one_error_line(world, tmp_path, args, names):
    flags = {"--subject": "api", "--permissions": "eth:*", "--expires": "1d"}
    base = ["--data-dir", str(world["node"].data_dir)]
    if args == ["--no-data-dir"]:
        base, args = [], []
    for flag, value in zip(args[::2], args[1::2], strict=True):
        flags[flag] = value
    line = error_line(run_ledger_node("token", *base, *[x for pair in flags.items() for x in pair]))
    assert names in line, line


def test_the_wrong_password_and_token_key_are_one_error_line(world, tmp_path):
    node = world["node"]
    wrong = run_ledger_node(
        "token", "--data-dir", node.data_dir, "--subject", "api", "--permissions", "eth:*",
        "--expires", "1d", password="not-the-password",
    )  # fmt: skip
    assert "cannot open the token issuer key" in error_line(wrong)
    made = run_ledger_node("token-key", "--out", tmp_path / "issuer")
    assert made.returncode == 0, made.stderr
    assert (
        (tmp_path / "issuer" / "rpc-token-public.pem")
        .read_text()
        .startswith("-----BEGIN PUBLIC KEY-----")
    )
    again = run_ledger_node("token-key", "--out", tmp_path / "issuer")
    assert "already exists" in error_line(again)


def test_a_node_without_a_public_key_serves_only_the_wallet_methods(world, tmp_path):
    """A data directory from before tokens (no public key): nothing beyond the keyless set,
    and a token cannot be verified, so it is refused."""
    node = new_node(tmp_path, "bare")
    try:
        node.stop()
        issuer_key_path(node.data_dir).with_name("rpc-token-public.pem").unlink()
        node = restart(node)
        error = refusal(post(node.base_url, "eth_getLogs", [{}]))
        assert (
            "this node has no token public key (ledger-node start --jwt-public-key)"
            in (error["message"])
        )
        assert error["data"]["reason"] == "no_key"
        assert refusal(post(node.url, "eth_chainId", []))["data"]["reason"] == "no_key"
        assert post(node.base_url, "eth_blockNumber", [])["result"].startswith("0x")
    finally:
        node.stop()


def test_start_refuses_a_public_key_file_that_is_not_one(world, tmp_path):
    key = issuer_key_path(world["node"].data_dir)
    line = error_line(
        run_ledger_node("start", "--data-dir", world["node"].data_dir, "--jwt-public-key", key)
    )
    assert "is not a PEM public key" in line or "holds a private key" in line


def test_a_wallet_reads_its_own_nonce_without_a_token(world):
    """The wallet's own nonce read is keyless (what every wallet asks before it sends)."""
    member: Signer = world["member"]
    count = post(world["node"].base_url, "eth_getTransactionCount", [member.address, "pending"])
    assert int(count["result"], 16) >= 1
