"""Let operators run their brownie scripts against the serving demo.

The demo's stakeholder keys are made for the run. So that `brownie run scripts/... --network
citypass-demo` works against its node, the demo:
- registers the `citypass-demo` network (the node's URL, its chain id) in brownie's registry;
- writes `deployments/citypass-demo.json`;
- writes the keys the operator scripts sign with as encrypted keystores in WORKDIR/demo-keys,
  with the password in a file whose name says it is for the demo only;
- prints the commands to use them.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citypass.chain import networks
from citypass.chain.deployment import save_deployment
from citypass.core.files import create_exclusively
from citypass.core.keystore import create_keystore

NETWORK_ID = "citypass-demo"
NETWORK_NAME = "CityPass demo ledger node"
PASSWORD_FILE = "PASSWORD-DEMO-ONLY.txt"


class DemoSetupError(Exception):
    pass


@dataclass(frozen=True)
class OperatorAccess:
    network: str
    keys_dir: Path
    password_file: Path

    def environment(self) -> dict[str, str]:
        """What an operator's shell needs for the scripts to find and unlock the keys."""
        return {
            "CITYPASS_KEYSTORE_DIR": str(self.keys_dir),
            "CITYPASS_KEYSTORE_PASSWORD_FILE": str(self.password_file),
        }

    def add_key(self, name: str, account: Any) -> None:
        """Write one more keystore (an account made after the set-up, e.g. the inspector)."""
        create_keystore(
            self.keys_dir / f"{name}.json",
            self.password_file.read_text().rstrip("\n"),
            error=DemoSetupError,
            private_key=bytes.fromhex(account.private_key.removeprefix("0x")),
        )

    def instructions(self) -> str:
        exports = " ".join(f"{name}={value}" for name, value in self.environment().items())
        return "\n".join(
            [
                f"Operator scripts (keys in {self.keys_dir}, for this demo only):",
                f"  export {exports}",
                f"  brownie run scripts/report.py main --network {self.network}",
                f"  brownie run scripts/member.py main onboard 0x… --network {self.network}",
                "  (keystores: admin, treasury, village-enterprise, city-fund, operator, "
                "technopark, inspector; docs/operator-scripts.md lists every script)",
            ]
        )


def set_up_operators(
    workdir: Path,
    rpc_url: str,
    chain_id: int,
    system: Any,
    signers: dict[str, Any],
    network: str = NETWORK_ID,
) -> OperatorAccess:
    """`signers`: keystore name (a stakeholder name of scripts/_cli/accounts.py, or a role
    such as `inspector`) → the brownie account that holds the key."""
    networks.register_live_network(network, NETWORK_NAME, rpc_url, chain_id)
    save_deployment(network, system, chain_id)
    keys_dir = workdir / "demo-keys"
    shutil.rmtree(keys_dir, ignore_errors=True)  # an earlier run's keys open an old chain
    keys_dir.mkdir(parents=True)
    password = secrets.token_urlsafe(18)
    password_file = keys_dir / PASSWORD_FILE
    create_exclusively(password_file, password + "\n")
    access = OperatorAccess(network, keys_dir, password_file)
    for name, account in signers.items():
        access.add_key(name, account)
    return access
