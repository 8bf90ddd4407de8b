"""Node URLs carrying an access token (citypass/core/rpc_url.py): the token never shows in a
log line or an error, and wallets get the URL without it."""

from __future__ import annotations

import pytest

from citypass.core.rpc_url import redacted, with_token, without_token

TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhcGkifQ.c2lnbmF0dXJlLWJ5dGVz_-"


def test_with_token_puts_it_in_the_path_and_none_leaves_the_url():
    assert with_token("http://node:8545", TOKEN) == f"http://node:8545/t/{TOKEN}"
    assert with_token("http://node:8545/", TOKEN) == f"http://node:8545/t/{TOKEN}"
    assert with_token("http://node:8545", "") == "http://node:8545"


@pytest.mark.parametrize(
    "url, wallet",
    [
        (f"http://node:8545/t/{TOKEN}", "http://node:8545"),
        (f"https://rpc.village.example/ledger/t/{TOKEN}", "https://rpc.village.example/ledger"),
        ("http://node:8545", "http://node:8545"),
    ],
)
def test_without_token_gives_the_wallets_url(url, wallet):
    assert without_token(url) == wallet


def test_redacted_hides_every_token_in_a_message():
    message = (
        f"the ledger node at http://node:8545/t/{TOKEN} did not answer (Max retries exceeded "
        f"with url: /t/{TOKEN})"
    )
    hidden = redacted(message)
    assert TOKEN not in hidden and TOKEN[:20] not in hidden
    assert hidden.count("/t/<token>") == 2 and "http://node:8545" in hidden
