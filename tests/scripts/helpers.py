"""Running scripts/*.py in-process, as `brownie run` runs them, and a HOME of its own for the
real `brownie run` executable."""

from __future__ import annotations

from pathlib import Path

import brownie
import pytest
import yaml

from citypass.core.net import free_port


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


def brownie_home(base: Path) -> Path:
    """A HOME whose brownie network registry launches the development anvil on a free port."""
    (base / ".brownie").mkdir(parents=True)
    registry = yaml.safe_load((Path.home() / ".brownie" / "network-config.yaml").read_text())
    for network in registry["development"]:
        network.setdefault("cmd_settings", {})["port"] = free_port()
    (base / ".brownie" / "network-config.yaml").write_text(yaml.safe_dump(registry))
    return base
