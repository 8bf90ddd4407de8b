"""Who sees a resident's history in the explorer (docs/privacy.md "Who can read what"): the
public gets what an address is and organisations' records; a resident's balance, leases and
transactions, a slot's lessees and persons' addresses on block and transaction pages need an
AUDITOR's (or INSPECTOR's, CITY_ADMIN's) session, carried by the explorer's cookie
(POST /explorer/session). Real node, real API over HTTP, real SIWE signatures."""

from __future__ import annotations

import re

import requests
from eth_account import Account

from api.explorer.formatting import short
from api.explorer.viewer import COOKIE
from citypass.protocol.roles import ROLES
from tests.explorer_helpers import ExplorerWorld, in_english, sqlite_explorer_world  # noqa: F401
from tests.siwe_helpers import session_token

# Who may see a person's records is decided in Python (api/record_access.py): one database is
# enough; the pages' queries run on both in tests/explorer/test_explorer.py.
explorer_world = sqlite_explorer_world


def _booking_tx(world: ExplorerWorld) -> str:
    lease_id = world.scenario.leases["booked"]
    market = world.chain.contract("market")
    (log,) = market.events.LeaseBooked().get_logs(
        from_block=0, to_block="latest", argument_filters={"leaseId": lease_id}
    )
    return "0x" + log.transactionHash.hex().removeprefix("0x")


def _leases_table(html: str) -> str:
    return re.search(r'<table id="leases">(.*?)</table>', html, re.S).group(1)


def test_a_residents_address_page_shows_the_public_what_she_is_and_no_history(explorer_world):
    lessee = explorer_world.scenario.lessee.address
    reply = explorer_world.get(f"/explorer/address/{lessee}")
    assert reply.status_code == 200
    page = reply.text
    assert 'id="withheld"' in page and "shown to an auditor" in page
    assert f'href="/explorer/sign-in?next=/explorer/address/{lessee}"' in page
    assert 'id="member-status"' in page  # what she is stays public
    assert 'id="balance"' not in page and 'id="leases"' not in page and 'id="txs"' not in page
    assert _booking_tx(explorer_world) not in page


def test_an_auditor_inspector_and_the_city_see_her_history(explorer_world):
    s = explorer_world.scenario
    credit = explorer_world.chain.contract("credit")
    for role in ("AUDITOR", "INSPECTOR", "CITY_ADMIN"):
        reply = explorer_world.get(
            f"/explorer/address/{s.lessee.address}", cookies=explorer_world.signed_in(role)
        )
        assert reply.status_code == 200
        assert 'id="withheld"' not in reply.text, role
        balance = re.search(r'id="balance">([^<]*)<', reply.text).group(1)
        assert balance == f"₩{credit.functions.balanceOf(s.lessee.address).call():,}"
        assert f'#lease-{s.leases["booked"]}"' in _leases_table(reply.text)
        assert _booking_tx(explorer_world) in reply.text


def test_staff_of_another_role_and_a_residents_token_see_no_history(explorer_world):
    lessee = explorer_world.scenario.lessee.address
    operator = explorer_world.get(
        f"/explorer/address/{lessee}", cookies=explorer_world.signed_in("OPERATOR")
    )
    assert 'id="withheld"' in operator.text
    assert "Your session does not hold one of those roles." in operator.text
    # A resident's wallet session cannot become the explorer's cookie, and a cookie holding one
    # anyway (set by hand) shows nothing more.
    other = Account.create()
    token = session_token(explorer_world.url, explorer_world.chain.chain_id, other, "resident")
    refused = requests.post(
        explorer_world.url + "/explorer/session", json={"token": token}, timeout=30
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_staff"
    assert "set-cookie" not in refused.headers
    forged = explorer_world.get(f"/explorer/address/{lessee}", cookies={COOKIE: token})
    assert 'id="withheld"' in forged.text and 'id="balance"' not in forged.text


def test_an_organisations_page_stays_public(explorer_world):
    operator = explorer_world.chain.people.operator.address  # holds OPERATOR: an organisation
    reply = explorer_world.get(f"/explorer/address/{operator}")
    assert reply.status_code == 200
    assert 'id="withheld"' not in reply.text and 'id="balance"' in reply.text


def test_a_slot_pages_lessees_are_for_an_auditor(explorer_world):
    s = explorer_world.scenario
    path = f"/explorer/slot/{s.slots['A']}"
    public = explorer_world.get(path)
    assert public.status_code == 200 and 'id="lessees-withheld"' in public.text
    table = _leases_table(public.text)
    assert f'id="lease-{s.leases["booked"]}"' in table  # the leases themselves stay listed
    assert "Lessee" not in table and s.lessee.address not in public.text
    assert short(s.lessee.address) not in public.text
    audited = explorer_world.get(path, cookies=explorer_world.signed_in())
    table = _leases_table(audited.text)
    assert 'id="lessees-withheld"' not in audited.text and "Lessee" in table
    assert f'href="/explorer/address/{s.lessee.address}">{short(s.lessee.address)}<' in table


def test_tx_and_block_pages_name_no_person_for_the_public(explorer_world):
    lessee = explorer_world.scenario.lessee.address
    tx = _booking_tx(explorer_world)
    public = explorer_world.get(f"/explorer/tx/{tx}")
    assert public.status_code == 200
    assert lessee not in public.text and short(lessee) not in public.text
    assert "a person" in public.text and "Lease #" in public.text  # what happened stays public
    audited = explorer_world.get(f"/explorer/tx/{tx}", cookies=explorer_world.signed_in())
    assert lessee in audited.text and short(lessee) in audited.text
    block = explorer_world.chain.w3.eth.get_transaction_receipt(tx).blockNumber
    page = explorer_world.get(f"/explorer/block/{block}")
    assert tx in page.text and lessee not in page.text and short(lessee) not in page.text
    seen = explorer_world.get(f"/explorer/block/{block}", cookies=explorer_world.signed_in())
    assert short(lessee) in seen.text


def test_the_session_exchange_refuses_bad_input_as_json(explorer_world):
    url = explorer_world.url + "/explorer/session"
    cases = [
        ({}, 422, "validation", "token"),
        ({"token": ""}, 422, "validation", "token"),
        ({"token": "t", "role": "AUDITOR"}, 422, "validation", "role"),
        ({"token": "not-a-token"}, 401, "session_unknown", "sign in again"),
    ]
    for body, status, code, said in cases:
        reply = requests.post(url, json=body, timeout=30)
        assert reply.status_code == status, (body, reply.text)
        assert reply.headers["content-type"].startswith("application/json")
        error = reply.json()["error"]
        assert error["code"] == code and said in error["message"], (body, error)


def test_the_cookie_is_http_only_strict_and_sign_out_ends_the_session(explorer_world):
    auditor = Account.create()
    chain = explorer_world.chain
    chain.system.access.grantRole(ROLES["AUDITOR"], auditor.address, {"from": chain.people.admin})
    token = session_token(explorer_world.url, chain.chain_id, auditor)
    opened = requests.post(
        explorer_world.url + "/explorer/session", json={"token": token}, timeout=30
    )
    assert opened.status_code == 204
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={token};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    header = explorer_world.get("/explorer/blocks", cookies={COOKIE: token}).text
    assert f'title="{auditor.address}"' in header and 'id="sign-out"' in header
    ended = requests.post(
        explorer_world.url + "/explorer/sign-out", cookies={COOKIE: token},
        allow_redirects=False, timeout=30,
    )  # fmt: skip
    assert ended.status_code == 303 and ended.headers["location"] == "/explorer/sign-in"
    assert f'{COOKIE}=""' in ended.headers["set-cookie"]
    whoami = requests.get(
        explorer_world.url + "/v1/auth/session",
        headers={"Authorization": f"Bearer {token}"}, timeout=30,
    )  # fmt: skip
    assert whoami.status_code == 401
    after = explorer_world.get(
        f"/explorer/address/{explorer_world.scenario.lessee.address}", cookies={COOKIE: token}
    )
    assert 'id="withheld"' in after.text and 'id="sign-in-link"' in after.text


def test_the_sign_in_page_returns_only_to_explorer_pages(explorer_world):
    page = explorer_world.get("/explorer/sign-in", params={"next": "/explorer/slot/1"})
    assert page.status_code == 200
    assert 'data-next="/explorer/slot/1"' in page.text
    assert '<script type="module" src="/explorer/sign-in.js">' in page.text
    script = explorer_world.get("/explorer/sign-in.js")
    assert script.status_code == 200 and "/app/js/siwe.js" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    for bad in ("https://evil.example/", "//evil.example", "/v1/members", "/explorer/..\\x"):
        reply = explorer_world.get("/explorer/sign-in", params={"next": bad})
        assert reply.status_code == 422, bad
        assert "is not an explorer page" in reply.text
    korean = explorer_world.get("/explorer/sign-in", language="ko")
    assert "감사인으로 로그인" in korean.text
