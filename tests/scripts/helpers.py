"""Running scripts/*.py in-process, as `brownie run` runs them."""

from __future__ import annotations

import brownie
import pytest


def project():
    return brownie.project.get_loaded_projects()[0]


def script(name: str, *argv: object):
    """Run scripts/<name>.py main(*argv) the way `brownie run` does; return its value.

    brownie.project.run drops the project's containers from the `brownie` namespace when the
    script ends; put them back so later test modules still find them there."""
    try:
        return brownie.project.run(f"scripts/{name}.py", args=tuple(str(a) for a in argv))
    finally:
        project()._add_to_main_namespace()


def funded_member(accounts, system, account, spender):
    """`account` onboarded by the operator (accounts[5]) with ₩1,000,000 from the treasury
    (accounts[1]) that `spender` may spend: the deploy script's roles."""
    system.access.onboard(account, {"from": accounts[5]})
    system.credit.mint(account, 1_000_000, b"\x00" * 32, {"from": accounts[1]})
    system.credit.approve(spender, 2**256 - 1, {"from": account})
    return account


def fails(capsys, name: str, *argv: object) -> tuple[int, str]:
    """Run a script that must fail; return (exit code, the single stderr line)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        script(name, *argv)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {err!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in err
    assert exit_info.value.code not in (0, None)
    return exit_info.value.code, lines[0]
