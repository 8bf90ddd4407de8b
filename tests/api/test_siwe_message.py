"""The strict EIP-4361 parser (citypass/protocol/siwe_message.py): the spec's example round-trips, and each
malformed field is named in the error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from citypass.protocol.siwe_message import MalformedMessage, parse_message, render_message

ADDRESS = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
EXAMPLE = (
    "api.citypass.example wants you to sign in with your Ethereum account:\n"
    f"{ADDRESS}\n\n"
    "Sign in to CityPass staff tools.\n\n"
    "URI: https://api.citypass.example/login\n"
    "Version: 1\n"
    "Chain ID: 1337\n"
    "Nonce: 32891756abcd\n"
    "Issued At: 2026-05-01T09:00:00Z\n"
    "Expiration Time: 2026-05-01T10:00:00.5+09:00\n"
    "Not Before: 2026-05-01T08:59:00Z\n"
    "Request ID: req-1\n"
    "Resources:\n"
    "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/\n"
    "- https://example.com/my-web2-claim.json"
)


def test_parse_reads_every_field_of_the_spec_example():
    message = parse_message(EXAMPLE)
    assert message.domain == "api.citypass.example" and message.address == ADDRESS
    assert message.statement == "Sign in to CityPass staff tools."
    assert (message.uri, message.version, message.chain_id) == (
        "https://api.citypass.example/login", "1", 1337,
    )  # fmt: skip
    assert message.nonce == "32891756abcd"
    assert message.issued_at == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert (
        message.expiration_time.timestamp()
        == datetime(2026, 5, 1, 1, 0, 0, 500000, tzinfo=UTC).timestamp()
    )
    assert message.not_before == datetime(2026, 5, 1, 8, 59, tzinfo=UTC)
    assert message.request_id == "req-1" and len(message.resources) == 2
    assert parse_message(render_message(message)) == message


def test_parse_accepts_no_statement_and_a_scheme():
    # No statement: the ABNF keeps two empty lines between the address and URI.
    text = EXAMPLE.replace("Sign in to CityPass staff tools.\n\n", "\n").replace(
        "api.citypass", "https://api.citypass", 1
    )
    message = parse_message(text)
    assert message.statement is None and message.scheme == "https"
    assert parse_message(render_message(message)) == message


@pytest.mark.parametrize(
    ("old", "new", "part"),
    [
        (" wants you to sign in", " wants to sign in", "header"),
        ("api.citypass.example wants", "api citypass wants", "domain"),
        (ADDRESS, ADDRESS.lower(), "address"),
        (ADDRESS, "0x1234", "address"),
        ("URI: https://api.citypass.example/login", "URI: /login", "URI"),
        ("Version: 1", "Version: 2", "Version"),
        ("Chain ID: 1337", "Chain ID: 0x539", "Chain ID"),
        ("Nonce: 32891756abcd", "Nonce: short", "Nonce"),
        ("Nonce: 32891756abcd", "Nonce: 3289-1756-abcd", "Nonce"),
        ("Issued At: 2026-05-01T09:00:00Z", "Issued At: yesterday", "Issued At"),
        ("Issued At: 2026-05-01T09:00:00Z", "Issued At: 2026-05-01T09:00:00", "Issued At"),
        ("Issued At: 2026-05-01T09:00:00Z", "Issued At: 2026-02-30T09:00:00Z", "Issued At"),
        (
            "Expiration Time: 2026-05-01T10:00:00.5+09:00",
            "Expiration Time: soon",
            "Expiration Time",
        ),
        ("Version: 1\nChain ID: 1337", "Chain ID: 1337\nVersion: 1", "Version"),
        ("Request ID: req-1\n", "Request ID: req-1\nSurprise: field\n", "message"),
        ("- https://example.com/my-web2-claim.json", "- not a uri", "Resources"),
    ],
)
def test_parse_names_the_malformed_part(old, new, part):
    assert old in EXAMPLE
    with pytest.raises(MalformedMessage) as raised:
        parse_message(EXAMPLE.replace(old, new))
    assert raised.value.part == part


def test_parse_refuses_crlf_and_truncation():
    with pytest.raises(MalformedMessage, match="CR"):
        parse_message(EXAMPLE.replace("\n", "\r\n"))
    with pytest.raises(MalformedMessage) as raised:
        parse_message(EXAMPLE.split("Nonce:")[0])
    assert raised.value.part == "Nonce"
