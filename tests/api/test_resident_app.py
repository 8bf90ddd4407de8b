"""The resident web app at /app in real Chromium, over a real ledger node and a real API (which
auto-approves applications with its onboarding key, granted OPERATOR).

The wallet is an EIP-1193 provider injected into the page, announced by EIP-6963 only (no
window.ethereum), that forwards every request to Python, where a fresh eth-account key answers
exactly the calls a wallet offers. It starts on chain 1 and does not know the ledger's chain
until the app adds it. The test goes from that fresh key to a booked, checked-in and
checked-out lease with its receipt, checking each step on chain or through the API, with a
screenshot at each step (with CITYPASS_UPDATE_DOCS_SCREENSHOTS=1, the check-out one also at
docs/img/resident-app.png, the picture in docs/api.md)."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from web3.logs import DISCARD

from api.errors import SettingsError
from api.ledger import CLOCK_CACHE_SECONDS
from api.settings import Settings
from citypass.core.timeunits import KST
from citypass.protocol.roles import ROLES
from tests.api_helpers import World, init_onboarder, start_api_server, stop_world
from tests.browser_helpers import browser, page  # noqa: F401
from tests.indexer_helpers import CENTER, build_scenario
from tests.injected_wallet import PROVIDER, KeyWallet
from tests.oracle_helpers import ROOT, start_chain
from tests.payments_helpers import start_provider, treasury_and_provider

DOCS_SCREENSHOT = ROOT / "docs" / "img" / "resident-app.png"
UPDATE_DOCS_ENV = "CITYPASS_UPDATE_DOCS_SCREENSHOTS"
LEASE_STATUS = ["NONE", "BOOKED", "CHECKED_IN", "SETTLED", "CANCELLED", "NO_SHOW"]
CREDITS = 50_000
STEP_MS = 30_000
# The console errors the journey causes on purpose: Chromium logs every 4xx answer to a
# fetch, and the first booking's prepare answers 409 asking for a permit (the app then has it
# signed). The bad application below logs a 422 the same way. Nothing else may be logged.
# (status, path): the permits' 409s (booking, then prepaying) and the consent's 422.
EXPECTED_HTTP_LOGS = [
    (409, "/v1/prepare/book"), (409, "/v1/prepare/deposit-prepaid"), (422, "/v1/applications"),
]  # fmt: skip

# A resident's phone set to Korean (what the app follows when it has no stored choice).
KOREAN_PHONE = (
    "Object.defineProperty(Navigator.prototype, 'languages', {get: () => ['ko-KR', 'ko']});"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Any:
    base = tmp_path_factory.mktemp("resident-app")
    chain = start_chain(base / "chain")
    scenario = build_scenario(chain)
    onboarder = init_onboarder(base / "api")
    chain.system.access.grantRole(ROLES["OPERATOR"], onboarder, {"from": chain.people.admin})
    payments, provider_port = treasury_and_provider(chain, base)
    deployment, api = start_api_server(
        chain, base, CITYPASS_API_POLL_INTERVAL="0.1", CITYPASS_API_AUTO_APPROVE="true",
        **payments,
    )  # fmt: skip
    provider = start_provider(base, provider_port, api.url + "/v1/payments/webhook")
    built = World(scenario, deployment, api)
    yield built
    provider.stop()
    stop_world(built)


def _kst_input(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, KST).strftime("%Y-%m-%dT%H:%M")


def _bearer(page: Any) -> dict[str, str]:
    """The app's own session (sessionStorage), as a header for checking the API directly."""
    stored = json.loads(page.evaluate("sessionStorage.getItem('citypass.session')"))
    return {"Authorization": f"Bearer {stored['token']}"}


def _move_clock(world: World, timestamp: int) -> None:
    world.chain.set_clock(timestamp)
    time.sleep(CLOCK_CACHE_SECONDS + 0.1)  # the API caches the ledger clock for a second


def _lease(world: World, lease_id: int) -> Any:
    return world.chain.contract("market").functions.leaseOf(lease_id).call()


# ----------------------------------------------------------------------------- endpoints


def test_network_gives_what_a_wallet_adds(world: World):
    reply = world.api.get("/v1/network")
    assert reply.status_code == 200, reply.text
    network = reply.json()
    chain_id = world.chain.chain_id
    assert network == {
        "chainId": hex(chain_id), "chainIdDecimal": chain_id, "chainName": "CityPass Ledger",
        # public_rpc_url unset: the API's own rpc_url, without the API's token
        "rpcUrls": [world.chain.node.base_url],
        "nativeCurrency": {"name": "CityPass Gas", "symbol": "CPG", "decimals": 18},
    }  # fmt: skip
    answer = requests.post(network["rpcUrls"][0], json={
        "jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []
    }, timeout=10).json()  # fmt: skip
    assert int(answer["result"], 16) == chain_id
    assert world.chain.node.token not in reply.text


@pytest.mark.parametrize("url", ["rpc.village.example", "ftp://rpc.example", "http:// x"])
def test_a_public_rpc_url_that_is_not_http_is_a_settings_error(url: str):
    with pytest.raises(SettingsError, match="PUBLIC_RPC_URL"):
        Settings.from_env({"CITYPASS_API_PUBLIC_RPC_URL": url})
    assert Settings.from_env({}).wallet_rpc_url == Settings().rpc_url
    chosen = Settings.from_env({"CITYPASS_API_PUBLIC_RPC_URL": "https://rpc.village.example"})
    assert chosen.wallet_rpc_url == "https://rpc.village.example"


def test_the_app_and_ethers_are_served_from_the_api(world: World):
    api = world.api
    root = api.get("/app", allow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/app/"
    index = api.get("/app/")
    assert index.status_code == 200 and "text/html" in index.headers["content-type"]
    assert "vendor/ethers.umd.min.js" in index.text and "http" not in index.text.split("<body")[0]
    ethers = api.get("/app/vendor/ethers.umd.min.js")
    assert ethers.status_code == 200 and "javascript" in ethers.headers["content-type"]
    assert "6.17.0" in ethers.text and len(ethers.content) > 100_000
    for path in ("/app/js/main.js", "/app/app.css"):
        assert api.get(path).status_code == 200, path
    for path in ("/app/../api/settings.py", "/app/js/nothing.js", "/app/vendor/other.js"):
        missing = api.get(path)
        assert missing.status_code == 404, path
        assert "error" in missing.json()


# ------------------------------------------------------------------------------- journey


def test_a_fresh_wallet_books_checks_in_and_out_in_chromium(world: World, page, tmp_path: Path):  # noqa: F811, PLR0915
    chain, api, scenario = world.chain, world.api, world.scenario
    wallet = KeyWallet()
    address = wallet.account.address
    shots: list[Path] = []
    http_logs: list[str] = []

    def shot(name: str) -> None:
        path = tmp_path / f"{len(shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    page.on(
        "response",
        lambda r: http_logs.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.expose_function("citypassWallet", wallet.handle)
    page.add_init_script(PROVIDER)
    page.add_init_script(KOREAN_PHONE)
    page.set_default_timeout(STEP_MS)
    page.goto(api.url + "/app", wait_until="load")
    assert page.url == api.url + "/app/"
    page.wait_for_selector("#ledger-time[data-ledger-time]")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.locator("h1").inner_text() == "시티패스 주민"
    shown = int(page.locator("#ledger-time").get_attribute("data-ledger-time"))
    assert abs(shown - chain.head_time()) < 30  # the ledger's clock, not the wall's
    # Tonight on the ledger's clock: the scenario's ledger is Monday morning.
    assert page.input_value("#search-form [name=start]") == _kst_input(scenario.at(0, 19))
    assert page.input_value("#search-form [name=end]") == _kst_input(scenario.at(0, 22))
    shot("opened")
    # Lease ids pass 2^53 from slot 32 on: the app keeps such integers exact, as text.
    parsed = page.evaluate(
        "async () => (await import('/app/js/api.js')).parseJson("
        '\'{"leaseId": 9007199254740993, "price": 3600}\')'
    )
    assert parsed == {"leaseId": "9007199254740993", "price": 3600}

    # Connect: discovered by EIP-6963, the chain added (4902 first) and switched to.
    page.click("#connect")
    page.wait_for_selector(f"#wallet-address:has-text('{address}')")
    network = api.get("/v1/network").json()
    assert wallet.added == [
        {k: network[k] for k in ("chainId", "chainName", "rpcUrls", "nativeCurrency")}
    ]
    assert wallet.chain_id == chain.chain_id
    assert wallet.calls.count("wallet_switchEthereumChain") == 2  # 4902, then after adding
    shot("connected")

    # Sign in (EIP-4361, resident scope): the token kept in sessionStorage works.
    page.click("#sign-in")
    page.wait_for_selector("#sign-out:visible")
    stored = json.loads(page.evaluate("sessionStorage.getItem('citypass.session')"))
    session = api.get("/v1/auth/session", headers={"Authorization": f"Bearer {stored['token']}"})
    assert session.status_code == 200 and session.json()["address"] == address
    assert "personal_sign" in wallet.calls
    shot("signed-in")

    # Apply: without consent the API's own words are shown; with it, approved at once.
    form = "#apply-form"
    page.fill(f"{form} [name=name]", "김민지")
    page.fill(f"{form} [name=phone]", "010-1234-5678")
    page.fill(f"{form} [name=homeAddress]", "상살미길 12")
    page.click("#apply")
    page.wait_for_selector("#status.error")
    assert "privacyConsent" in page.inner_text("#status")
    access = chain.contract("access")
    assert not access.functions.isActiveMember(address).call()
    page.check(f"{form} [name=privacyConsent]")
    page.click("#apply")
    page.wait_for_selector("#application-state[data-status=APPROVED]")
    assert access.functions.isActiveMember(address).call()
    notice = page.inner_text("#application-notice")  # the API's notice: approved at once
    assert "approved automatically" in notice
    assert page.locator("#status").is_hidden()  # the refusal is gone with the new attempt
    shot("approved")

    # Top up through the payment provider: the app opens its checkout, the resident pays there,
    # the provider's signed webhook makes the API's treasury mint, the app follows the order.
    page.fill("#topup-form [name=amount]", str(CREDITS))
    page.click("#topup")
    page.wait_for_selector("#topup-pay:not([hidden])")
    checkout = page.get_attribute("#topup-pay", "href")
    assert checkout.startswith(api.url.rsplit(":", 1)[0])  # the provider, on loopback
    shot("top-up-ordered")
    provider_tab = page.context.new_page()
    provider_tab.goto(checkout)
    provider_tab.click("button")
    provider_tab.wait_for_selector("text=Paid (simulated)")
    provider_tab.close()
    page.wait_for_selector("#topup-status[data-status=minted]", timeout=60_000)
    page.wait_for_selector(f"#balance[data-balance='{CREDITS}']")
    order = page.get_attribute("#topup-status", "data-order")
    assert chain.contract("credit").functions.balanceOf(address).call() == CREDITS
    [topup] = api.get("/v1/topups", headers=_bearer(page)).json()["topUps"]
    assert (topup["id"], topup["status"], topup["amount"]) == (order, "minted", CREDITS)
    shot("topped-up")

    # Search near the scenario's slots, as a list and a map.
    page.fill("#search-form [name=lat]", str(CENTER[0]))
    page.fill("#search-form [name=lon]", str(CENTER[1]))
    page.fill("#search-form [name=radius]", "2000")
    page.click("#find")
    page.wait_for_selector("#slots li")
    found = api.get("/v1/slots/search", params={
        "lat": CENTER[0], "lon": CENTER[1], "radius_m": 2000,
        "start": scenario.at(0, 19), "end": scenario.at(0, 22),
    }).json()  # fmt: skip
    listed = [int(x) for x in page.locator("#slots li").evaluate_all(
        "items => items.map(li => li.dataset.slot)"
    )]  # fmt: skip
    assert listed == [s["slotId"] for s in found["slots"]] and listed
    assert page.locator("#map svg g.slot").count() == len(listed)
    shot("searched")

    # Quote the nearest.
    slot = listed[0]
    page.click(f"#slots li[data-slot='{slot}'] button.quote")
    page.wait_for_selector(f"#quote-section[data-slot='{slot}']")
    quote = api.get(
        f"/v1/slots/{slot}/quote", params={"start": scenario.at(0, 19), "end": scenario.at(0, 22)}
    ).json()
    assert quote["bookable"] is True
    assert int(page.get_attribute("#quote", "data-price")) == quote["price"]
    assert page.get_attribute("#quote", "data-bookable") == "true"
    shot("quoted")

    # Book: the allowance is short, so the permit is signed first, then the ForwardRequest.
    page.click("#book")
    page.wait_for_selector("#booked[data-lease]")
    lease_id = int(page.get_attribute("#booked", "data-lease"))
    lease = _lease(world, lease_id)
    assert (lease[0], LEASE_STATUS[lease[2]]) == (address, "BOOKED")
    assert wallet.calls.count("eth_signTypedData_v4") == 2  # permit, then the booking
    tx = page.get_attribute("#booked", "data-tx")
    assert chain.w3.eth.get_transaction_receipt(tx)["status"] == 1
    row = f"#leases li[data-lease='{lease_id}']"
    page.wait_for_selector(f"{row}[data-status=BOOKED]")
    assert chain.contract("credit").functions.balanceOf(address).call() == CREDITS - quote["price"]
    shot("booked")
    # The API reads a lease id sent as decimal text (how the app sends one past 2^53) as the
    # number: both forms are refused for the same reason, not for their type.
    for form_of_id in (lease_id, str(lease_id)):
        early = api.post("/v1/prepare/check-in", json={"from": address, "leaseId": form_of_id})
        assert early.json()["error"]["code"] == "LeaseMarketOutsideLeaseTime", early.text

    # Check in at the start (the ledger's clock moved there), then out an hour later.
    _move_clock(world, scenario.at(0, 19))
    page.click(f"{row} button.lease-check-in")
    page.wait_for_selector(f"{row}[data-status=CHECKED_IN]")
    assert LEASE_STATUS[_lease(world, lease_id)[2]] == "CHECKED_IN"
    shot("checked-in")
    _move_clock(world, scenario.at(0, 20))
    page.click(f"{row} button.lease-check-out")
    page.wait_for_selector(f"{row}[data-status=SETTLED]")
    assert LEASE_STATUS[_lease(world, lease_id)[2]] == "SETTLED"
    receipt_tx = page.get_attribute("#receipt", "data-tx")
    settled = (
        chain.contract("market")
        .events.LeaseSettled()
        .process_receipt(chain.w3.eth.get_transaction_receipt(receipt_tx), errors=DISCARD)
    )
    assert settled and settled[0]["args"]["leaseId"] == lease_id
    lines = page.locator("#receipt-lines li").all_inner_texts()
    price = f"{quote['price']:,}"
    assert any(price in line and "요금" in line for line in lines), lines
    assert any("초과 이용 요금 0" in line for line in lines), lines
    own = _bearer(page)  # a resident's leases are read with her own session
    listed_lease = api.get(f"/v1/members/{address}/leases", headers=own).json()["leases"][0]
    assert (listed_lease["leaseId"], listed_lease["status"]) == (lease_id, "SETTLED")
    shot("checked-out")
    # The picture in docs/api.md, refreshed only when asked: a test run leaves the checkout clean.
    if os.environ.get(UPDATE_DOCS_ENV):
        shutil.copyfile(shots[-1], DOCS_SCREENSHOT)

    # English, at the press of a button; the receipt follows.
    page.click("#lang-en")
    assert page.locator("h1").inner_text() == "CityPass Resident"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.inner_text("#booked").startswith(f"Booked: lease #{lease_id}")
    assert page.inner_text("#application-notice") == notice
    lines = page.locator("#receipt-lines li").all_inner_texts()
    assert f"Charged {price} credits" in lines and "Overstay charge 0 credits" in lines, lines
    shot("english")

    # Prepay for bookings (the allowance the booking's permit gave is spent: a permit again),
    # then take part of it back; the chain's balance is shown before the read model has it.
    market = chain.contract("market").functions
    page.fill("#prepaid-form [name=amount]", "5000")
    page.click("#prepay")
    page.wait_for_selector("#prepaid[data-balance='5000']")
    assert market.prepaidBalanceOf(address).call() == 5_000
    assert wallet.calls.count("eth_signTypedData_v4") == 6  # booking 2, check-in, out, prepay 2
    page.fill("#prepaid-form [name=amount]", "1500")
    page.click("#withdraw-prepaid")
    page.wait_for_selector("#prepaid[data-balance='3500']")
    assert market.prepaidBalanceOf(address).call() == 3_500
    assert "Withdrew 1,500 credits (prepaid balance 3,500)" in page.inner_text("#prepaid-receipt")
    shot("prepaid")

    assert len(shots) == 13 and all(p.stat().st_size > 10_000 for p in shots)
    # Chromium's network log lines for the three 4xx answers, and nothing else.
    assert sorted(page.problems) == sorted(
        f"Failed to load resource: the server responded with a status of {s} ({reason})"
        for s, reason in ((409, "Conflict"), (409, "Conflict"), (422, "Unprocessable Entity"))
    ), page.problems
    assert sorted(http_logs) == sorted(f"{s} {api.url}{path}" for s, path in EXPECTED_HTTP_LOGS), (
        http_logs
    )


@pytest.mark.parametrize(
    ("languages", "title", "lang"),
    [(["en-GB", "en"], "CityPass Resident", "en"), (["fr-FR", "de"], "시티패스 주민", "ko")],
)
def test_with_nothing_stored_the_app_follows_the_browser_then_korean(
    world: World,
    page,  # noqa: F811
    languages: list[str],
    title: str,
    lang: str,
):
    page.add_init_script(
        "localStorage.removeItem('citypass.lang');"
        "Object.defineProperty(Navigator.prototype, 'languages', "
        f"{{get: () => {json.dumps(languages)}}});"
    )
    page.goto(world.api.url + "/app/", wait_until="load")
    page.wait_for_function(f"document.querySelector('h1').textContent === {json.dumps(title)}")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.evaluate("localStorage.getItem('citypass.lang')") == lang
    assert page.problems == []
