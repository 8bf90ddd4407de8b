"""Each block's witness status in the explorer and /v1/explorer/witnesses, against the real node.

The explorer world's node (tests/explorer_helpers.py) gets three witnesses on CityAccess (the
village enterprise, the audit office and the city); two of them co-sign the node's own checkpoint
at block B through `ledger_submitCosignature` (signed with citypass.protocol.checkpoints), the
city never does. Blocks up to B then read "2 of 3", blocks above B "0 of 3", in English and
Korean. An unreachable node is a real HTTP client pointed at a port nobody listens on, rendered
through the explorer's own templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from api.explorer.pages import TEMPLATES
from api.explorer.witnesses import UNREACHABLE, WitnessWatch, parse_status
from api.i18n.locale import use as use_locale
from citypass.core.net import free_port
from citypass.protocol.checkpoints import Checkpoint, Cosignature
from citypass.protocol.roles import ROLES
from citypass.protocol.witness_names import encode_witness_name
from tests.explorer_helpers import ExplorerWorld, in_english, sqlite_explorer_world  # noqa: F401
from tests.oracle_helpers import wait_until

SIGNERS = ("village-enterprise", "audit-office")
SILENT = "city"


def text(html: str) -> str:
    """What a reader sees: inline tags dropped, block tags a space."""
    inline = re.sub(r"</?(span|a|code)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def rpc(world: ExplorerWorld, method: str, params: list[Any]) -> Any:
    reply = world.chain.w3.provider.make_request(method, params)  # type: ignore[arg-type]
    assert "error" not in reply, reply
    return reply["result"]


@dataclass
class Witnessed:
    world: ExplorerWorld
    keys: dict[str, Any]
    block: int  # B: the block the two co-signed

    def get(self, path: str, language: str = "en", **kwargs: Any) -> Any:
        return self.world.get(path, language=language, **kwargs)


def test_no_witnesses_are_configured_is_said_not_hidden(sqlite_explorer_world):  # noqa: F811
    world = sqlite_explorer_world
    assert world.get("/v1/explorer/witnesses").json()["witnesses"] == []
    landing = text(world.get("/explorer").text)
    assert "No witnesses are configured" in landing
    block = text(world.get("/explorer/block/1").text)
    assert "No witnesses are configured" in block
    korean = text(world.get("/explorer/block/1", language="ko").text)
    assert "설정된 증인이 없습니다" in korean


@pytest.fixture(scope="module")
def witnessed(sqlite_explorer_world) -> Iterator[Witnessed]:  # noqa: F811
    """Three witnesses; two co-sign the node's checkpoint at B; one more block after B. The
    witnesses are removed afterwards: the world is shared with the other explorer tests."""
    world = sqlite_explorer_world
    chain = world.chain
    admin = {"from": chain.people.admin}
    keys = {label: Account.create() for label in (*SIGNERS, SILENT)}
    for label, key in keys.items():
        chain.system.access.setWitness(key.address, encode_witness_name(label), admin)
    block = chain.w3.eth.block_number
    answer = rpc(world, "ledger_getCheckpoint", [hex(block)])
    checkpoint = Checkpoint.from_json(answer["checkpoint"])
    assert checkpoint.number == block and answer["cosignatures"] == []
    for label in SIGNERS:
        signature = Cosignature(keys[label].address, checkpoint.sign(keys[label]))
        accepted = rpc(
            world, "ledger_submitCosignature", [checkpoint.to_json(), signature.to_json()]
        )
        assert accepted["accepted"] is True
    # A block after B, which no witness has co-signed.
    chain.system.access.grantRole(ROLES["AUDITOR"], Account.create().address, admin)
    world.wait_indexed()

    def fresh() -> bool:  # the API caches the node's status for a second
        found = world.get("/v1/explorer/witnesses").json()["witnesses"]
        return [w["latest"] for w in found] == [block, block, None]

    wait_until(fresh, timeout=10, interval=0.2)
    yield Witnessed(world, keys, block)
    for key in keys.values():
        chain.system.access.removeWitness(key.address, admin)


def test_a_witnessed_block_names_its_witnesses_2_of_3(witnessed):
    for number in (1, witnessed.block):
        english = witnessed.get(f"/explorer/block/{number}")
        assert english.status_code == 200
        page = text(english.text)
        assert "Witnessed by village enterprise and audit office, 2 of 3" in page, page
        assert f"latest co-signed block {witnessed.block}" in page
        assert f'href="/explorer/block/{witnessed.block}"' in english.text
        assert witnessed.keys[SILENT].address in english.text  # the silent one is listed
        assert "has not co-signed a checkpoint yet" in page
    korean = text(witnessed.get(f"/explorer/block/{witnessed.block}", language="ko").text)
    assert "마을기업 상살미사람들 및 감사실 증인 확인 (3곳 중 2곳)" in korean, korean
    assert "시청" in korean


def test_a_block_above_the_checkpoint_is_not_witnessed_yet(witnessed):
    above = witnessed.block + 1
    page = text(witnessed.get(f"/explorer/block/{above}").text)
    assert "Not witnessed yet, 0 of 3" in page, page
    assert "Witnessed by" not in page
    korean = text(witnessed.get(f"/explorer/block/{above}", language="ko").text)
    assert "아직 증인 확인 없음 (3곳 중 0곳)" in korean


def test_the_block_list_has_a_witnessed_column(witnessed):
    b = witnessed.block
    html = witnessed.get("/explorer/blocks", params={"before": b + 2, "limit": 2}).text
    rows = dict(
        re.findall(r'<tr data-block="(\d+)">.*?<td class="witnessed">(.*?)</td>', html, re.S)
    )
    assert text(rows[str(b)]) == "2/3" and text(rows[str(b + 1)]) == "0/3", rows
    assert "증인 확인" in witnessed.get("/explorer/blocks", language="ko").text


def test_the_landing_panel_shows_each_witness_and_its_lag(witnessed):
    html = witnessed.get("/explorer").text
    found = re.search(r"The node's head is block (\d+)", text(html))
    assert found, text(html)
    head = int(found.group(1))
    assert head >= witnessed.block + 1
    rows = {
        address: body
        for address, body in re.findall(r'<tr data-witness="(0x[0-9a-fA-F]{40})">(.*?)</tr>', html, re.S)
    }  # fmt: skip
    assert list(rows) == [witnessed.keys[label].address for label in (*SIGNERS, SILENT)]
    for label in SIGNERS:
        row = rows[witnessed.keys[label].address]
        assert f'<a href="/explorer/block/{witnessed.block}">{witnessed.block}</a>' in row
        behind = re.search(r'class="num behind">(\d+)<', row)
        assert behind and int(behind.group(1)) == head - witnessed.block
    silent = text(rows[witnessed.keys[SILENT].address])
    assert "city hall" in silent and "has not co-signed a checkpoint yet" in silent
    korean = text(witnessed.get("/explorer", language="ko").text)
    assert "감사실" in korean and "아직 체크포인트에 공동 서명하지 않았습니다" in korean


def test_the_json_status_and_a_blocks_status(witnessed):
    b = witnessed.block
    body = witnessed.get("/v1/explorer/witnesses").json()
    assert [w["name"] for w in body["witnesses"]] == [*SIGNERS, SILENT]
    assert [w["witness"] for w in body["witnesses"]] == [
        witnessed.keys[label].address for label in (*SIGNERS, SILENT)
    ]
    assert body["witnesses"][0]["behind"] == body["head"] - b
    assert body["witnesses"][0]["signedAtIso"].endswith("+09:00")
    assert body["witnesses"][2]["latest"] is None and body["witnesses"][2]["behind"] is None
    at = witnessed.get("/v1/explorer/witnesses", params={"block": b}).json()["block"]
    assert at == {
        "number": b, "witnessed": 2, "of": 3,
        "witnessedBy": [witnessed.keys[label].address for label in SIGNERS],
    }  # fmt: skip
    above = witnessed.get("/v1/explorer/witnesses", params={"block": b + 1}).json()["block"]
    assert above["witnessed"] == 0 and above["witnessedBy"] == []


@pytest.mark.parametrize(
    ("block", "status", "code", "says"),
    [
        ("twelve", 422, "validation", "block: "),
        ("-1", 422, "validation", "block: "),
        ("1.5", 422, "validation", "block: "),
        (str(2**64), 422, "validation", "block: "),
        (str(2**40), 404, "unknown_block", "is above the node's head"),
    ],
)
def test_a_bad_block_is_refused_naming_it(sqlite_explorer_world, block, status, code, says):  # noqa: F811
    reply = sqlite_explorer_world.get("/v1/explorer/witnesses", params={"block": block})
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code and says in error["message"], error


def test_an_unreachable_node_is_a_clear_note_not_an_error():
    watch = WitnessWatch(Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}")))
    status = watch.status()
    assert status.problem == UNREACHABLE and not status.available
    assert watch.status() is status  # cached: a page makes one call
    macros = TEMPLATES.env.get_template("_witnesses.html").module
    english = text(str(macros.block_status(status, 7)))  # type: ignore[attr-defined]
    assert english.startswith("Witness status unavailable: the node did not answer (")
    with use_locale("ko"):
        korean = text(str(macros.block_status(status, 7)))  # type: ignore[attr-defined]
    assert korean.startswith("증인 확인 상태를 알 수 없음: 노드가 응답하지 않았습니다 (")


@pytest.mark.parametrize(
    ("answer", "names"),
    [
        ({"head": "0x5"}, "no witnesses list"),
        ({"head": "0x5", "witnesses": [{"witness": "0x12"}]}, "witnesses[0].witness"),
        ({"head": "five", "witnesses": []}, "head is 'five'"),
        (
            {"head": "0x5", "witnesses": [{"witness": "0x" + "1" * 40, "latest": -3}]},
            "witnesses[0].latest",
        ),
    ],
)
def test_a_malformed_node_answer_names_the_field(answer, names):
    with pytest.raises(ValueError, match=re.escape(names)):
        parse_status(answer)


def test_quiet_witnesses_get_a_note_after_five_minutes():
    status = parse_status({
        "head": "0x20",
        "witnesses": [
            {"witness": "0x" + "1" * 40, "name": "audit-office", "latest": "0x10", "signedAt": 1000},
            {"witness": "0x" + "2" * 40, "name": "tram-co", "latest": "0x20", "signedAt": 1000},
        ],
    })  # fmt: skip
    lagging, current = status.witnesses
    assert lagging.quiet_for(status.head, now=1000 + 299) is None
    assert lagging.quiet_for(status.head, now=1000 + 720) == 720
    assert current.quiet_for(status.head, now=1000 + 7200) is None  # at the head: idle chain
    assert lagging.behind(status.head) == 16 and status.of_block(0x11).by == (current,)
