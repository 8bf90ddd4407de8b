"""An auditor signs in to the explorer in Chromium with an injected wallet (EIP-6963, a real
eth-account key granted AUDITOR on chain): from a resident's address page, which shows the
public no history, through /explorer/sign-in (the wallet moved to the ledger's chain, an
EIP-4361 message signed, the session exchanged for the HttpOnly cookie), back to the same page
now showing her balance, leases and transactions; then sign-out hides them again."""

from __future__ import annotations

import re

from eth_account import Account

from api.explorer.viewer import COOKIE
from citypass.protocol.roles import ROLES
from tests.browser_helpers import browser, page  # noqa: F401
from tests.explorer_helpers import in_english, sqlite_explorer_world  # noqa: F401
from tests.injected_wallet import PROVIDER, KeyWallet

STEP_MS = 30_000


def test_an_auditor_signs_in_with_a_wallet_and_sees_a_residents_history(  # noqa: F811
    sqlite_explorer_world, page
):
    world = sqlite_explorer_world
    chain, s = world.chain, world.scenario
    auditor = Account.create()
    chain.system.access.grantRole(ROLES["AUDITOR"], auditor.address, {"from": chain.people.admin})
    wallet = KeyWallet(auditor)
    page.expose_function("citypassWallet", wallet.handle)
    page.add_init_script(PROVIDER)
    page.set_default_timeout(STEP_MS)
    address_page = f"/explorer/address/{s.lessee.address}"

    page.goto(world.url + address_page + "?lang=en", wait_until="load")
    assert page.locator("#withheld").is_visible()
    assert page.locator("#balance").count() == 0
    page.click("#withheld a")
    page.wait_for_url(re.compile(r"/explorer/sign-in\?next=/explorer/address/0x"))
    page.click("#sign-in-button")
    page.wait_for_url(world.url + address_page)

    # The wallet was asked for the account, moved to the ledger's chain and signed once.
    assert {"eth_requestAccounts", "wallet_addEthereumChain", "personal_sign"} <= set(wallet.calls)
    assert [added["chainId"] for added in wallet.added] == [hex(chain.chain_id)]
    credit = chain.contract("credit").functions.balanceOf(s.lessee.address).call()
    assert page.locator("#balance").inner_text() == f"₩{credit:,}"
    assert page.locator(f'#leases a[href$="#lease-{s.leases["booked"]}"]').count() == 1
    assert page.locator("#txs tr").count() > 1
    assert page.locator("#signed-in").get_attribute("title") == auditor.address
    [cookie] = [c for c in page.context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find(COOKIE) == -1  # no script can read it
    # A slot's lessees too.
    page.goto(world.url + f"/explorer/slot/{s.slots['A']}", wait_until="load")
    assert page.locator("#leases td.lessee").count() > 0
    assert page.problems == [], page.problems

    page.click("#sign-out")
    page.wait_for_url("**/explorer/sign-in")
    page.goto(world.url + address_page, wait_until="load")
    assert page.locator("#withheld").is_visible() and page.locator("#balance").count() == 0
