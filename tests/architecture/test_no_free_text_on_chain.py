"""No free text on chain (DESIGN §6, issue 15): no compiled contract's event, function or
constructor takes a `string`, even inside a tuple or an array. Free text is where personal data
slips in (an inspector once wrote a plate into a review's reason); a reason is a code, and
details live off chain, sealed in the evidence store, with only their CID on chain.

What is scanned: every ABI in build/contracts and build/interfaces; events (logs stay on chain
for good), the inputs of every function and constructor (call data stays in the blocks). Not
scanned: outputs (a view's answer is not stored) and custom errors (revert data is in no log or
state; ours name a config field, never a person's data).

A field that must stay text is whitelisted one by one below, with the reason it carries no
personal data. A whitelisted field that no ABI has any more fails the test, so the list cannot
rot into a blanket pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ABI_DIRS = (ROOT / "build" / "contracts", ROOT / "build" / "interfaces")
SCANNED = ("event", "function", "constructor")

# (contract, event / function / "constructor", field path) -> why it may stay text.
WHITELIST: dict[tuple[str, str, str], str] = {
    ("ERC2771Forwarder", "constructor", "name"): (
        "OpenZeppelin's abstract forwarder is never deployed by itself; CityForwarder's "
        "constructor takes no string and passes its fixed EIP-712 domain name, a public "
        "constant that names the contract, not a person"
    ),
}


def _string_fields(params: list[dict[str, Any]], prefix: str = "") -> Iterator[str]:
    """Dotted paths of the `string` fields among ABI parameters: string, string[], string[3],
    and strings inside tuples (and arrays of tuples) at any depth."""
    for index, param in enumerate(params):
        path = prefix + (param.get("name") or f"#{index}")
        base = param["type"].split("[", 1)[0]
        if base == "string":
            yield path
        elif base == "tuple":
            yield from _string_fields(param.get("components", []), path + ".")


def string_fields(abi: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(entry, field path) for every string an event carries or a call or deployment takes."""
    for entry in abi:
        if entry.get("type") in SCANNED:
            name = entry.get("name", entry["type"])
            for path in _string_fields(entry.get("inputs", [])):
                yield name, path


def abis() -> dict[str, list[dict[str, Any]]]:
    """Every compiled ABI by artefact (the contract or interface name)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for folder in ABI_DIRS:
        for path in sorted(folder.glob("*.json")):
            artefact = json.loads(path.read_text())
            if isinstance(artefact, dict) and "abi" in artefact:
                found.setdefault(path.stem, []).extend(artefact["abi"])
    return found


def offenders(compiled: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
    return sorted(
        {
            (contract, entry, field)
            for contract, abi in compiled.items()
            for entry, field in string_fields(abi)
        }
    )


@pytest.fixture(scope="module")
def compiled() -> dict[str, list[dict[str, Any]]]:
    found = abis()
    # A scan of nothing passes nothing: the build must be there, our contracts in it.
    for name in ("IncidentRegistry", "IIncidentRegistry", "ParkingSlots", "LeaseMarket"):
        assert name in found, f"build/ lacks {name}.json: compile the contracts first"
    return found


def test_no_event_or_call_of_any_compiled_contract_takes_a_string(compiled):
    unexplained = [found for found in offenders(compiled) if found not in WHITELIST]
    assert not unexplained, (
        "free text on chain (contract, event/function, field): "
        f"{unexplained}; use a reason code and, where details are needed, the CID of details "
        "sealed in the evidence store; or whitelist the field here with why it is no one's data"
    )


def test_every_whitelisted_field_still_exists_and_says_why(compiled):
    present = set(offenders(compiled))
    stale = sorted(set(WHITELIST) - present)
    assert not stale, f"whitelisted fields no ABI has any more, drop them: {stale}"
    for key, reason in WHITELIST.items():
        assert len(reason.split()) >= 8, f"{key}: say why this text carries no personal data"


def test_the_review_of_an_incident_carries_a_code_and_a_cid():
    """The field that was free text (IncidentReviewed's reason) is now a code and a CID."""
    abi = abis()["IncidentRegistry"]
    [event] = [e for e in abi if e.get("type") == "event" and e["name"] == "IncidentReviewed"]
    fields = {i["name"]: (i["type"], i.get("internalType")) for i in event["inputs"]}
    assert fields["reasonCode"] == ("uint8", "enum ReviewReason")
    assert fields["detailsCid"] == ("bytes", "bytes")
    for action in ("confirm", "dismiss"):
        [call] = [e for e in abi if e.get("type") == "function" and e["name"] == action]
        assert [i["type"] for i in call["inputs"]] == ["uint256", "uint8", "bytes"]


def test_the_scan_finds_strings_anywhere_they_can_hide():
    """The scanner against a crafted ABI: a string in an event, in a call's input, in a tuple, in
    an array and in an array of tuples is found; outputs and errors are not scanned."""
    crafted = {
        "Crafted": [
            {"type": "event", "name": "Reviewed", "anonymous": False, "inputs": [
                {"name": "id", "type": "uint256", "indexed": True},
                {"name": "reason", "type": "string", "indexed": False}]},
            {"type": "function", "name": "note", "stateMutability": "nonpayable", "inputs": [
                {"name": "lines", "type": "string[]"},
                {"name": "input", "type": "tuple", "components": [
                    {"name": "kind", "type": "uint8"},
                    {"name": "plate", "type": "string"}]},
                {"name": "batch", "type": "tuple[2]", "components": [
                    {"name": "inner", "type": "tuple", "components": [
                        {"name": "memo", "type": "string"}]}]}],
             "outputs": [{"name": "", "type": "string"}]},
            {"type": "constructor", "stateMutability": "nonpayable", "inputs": [
                {"name": "", "type": "string"}]},
            {"type": "error", "name": "Bad", "inputs": [{"name": "field", "type": "string"}]},
            {"type": "function", "name": "name", "stateMutability": "view", "inputs": [],
             "outputs": [{"name": "", "type": "string"}]},
        ]
    }  # fmt: skip
    assert offenders(crafted) == [
        ("Crafted", "Reviewed", "reason"),
        ("Crafted", "constructor", "#0"),
        ("Crafted", "note", "batch.inner.memo"),
        ("Crafted", "note", "input.plate"),
        ("Crafted", "note", "lines"),
    ]
