"""scripts/witness.py run in-process as `brownie run` runs it (see tests/scripts/test_scripts.py):
the witness set on CityAccess, and every bad input as one `error:` line."""

from __future__ import annotations

import brownie
import pytest

from citypass.protocol.witness_names import decode_witness_name
from tests.scripts.helpers import fails, script


def test_add_rename_list_and_remove(capsys, system, accounts):
    first, second = accounts[12].address, accounts[13].address
    assert script("witness", "add", first, "audit-office") == [
        {"witness": first, "name": "audit-office"}
    ]
    assert "added" in capsys.readouterr().out
    script("witness", "add", second, "village-enterprise")
    assert system.access.isWitness(second)
    assert decode_witness_name(system.access.witnessName(second)) == "village-enterprise"
    # The same name again sends nothing; a new name renames.
    height = brownie.web3.eth.block_number
    script("witness", "add", second, "village-enterprise")
    assert "nothing to do" in capsys.readouterr().out
    assert brownie.web3.eth.block_number == height
    script("witness", "add", second, "mobility-operator")
    assert "renamed" in capsys.readouterr().out
    listed = script("witness", "list")
    out = capsys.readouterr().out
    assert listed == [
        {"witness": first, "name": "audit-office"},
        {"witness": second, "name": "mobility-operator"},
    ]
    assert "2 witness(es) of at most 16" in out and second in out
    remaining = script("witness", "remove", first)
    assert remaining == [{"witness": second, "name": "mobility-operator"}]
    assert not system.access.isWitness(first)
    script("witness", "remove", second)
    assert list(system.access.witnesses()[0]) == []


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        (("add", "0x1234", "city"), 2, "ACCOUNT '0x1234' is not an address"),
        (("add", "0x" + "1" * 40, "Audit Office"), 2, "argument NAME: witness name 'Audit Office'"),
        (("add", "0x" + "1" * 40, "x" * 33), 2, "use 1 to 32 lower-case letters"),
        (("add", "0x" + "1" * 40), 2, "add needs the witness's NAME"),
        (("remove",), 2, "remove needs the witness's ACCOUNT"),
        (("list", "0x" + "1" * 40), 2, "list takes no ACCOUNT"),
        (("promote", "0x" + "1" * 40), 2, "argument ACTION: invalid choice: 'promote'"),
        (("remove", "0x" + "2" * 40), 1, "is not in the witness set: nothing to remove"),
        (
            ("add", "0x" + "3" * 40, "city", "as=operator"),
            1,
            "adding witness 0x3333333333333333333333333333333333333333 was refused by the "
            "ledger: AccessControlUnauthorizedAccount",
        ),
    ],
)
def test_bad_input_is_one_error_line(capsys, system, argv, code, expected):
    height = brownie.web3.eth.block_number
    got, line = fails(capsys, "witness", *argv)
    assert got == code, line
    assert expected in line, line
    assert list(system.access.witnesses()[0]) == []
    if code == 2:  # a bad command line sends nothing
        assert brownie.web3.eth.block_number == height


def test_a_non_admin_removal_is_refused_with_the_contracts_error(capsys, system, accounts):
    target = accounts[14].address
    script("witness", "add", target, "city")
    try:
        _, line = fails(capsys, "witness", "remove", target, "as=operator")
        assert "AccessControlUnauthorizedAccount" in line and "does not hold CITY_ADMIN" in line
        assert system.access.isWitness(target)
    finally:
        script("witness", "remove", target)


def test_help_prints_usage(capsys, addresses):
    assert script("witness", "help") is None
    out = capsys.readouterr().out
    assert "add | remove | list" in out and "audit-office" in out
