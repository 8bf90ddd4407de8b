"""Register the ledger node's network id with brownie, once.

brownie reads live networks only from its own registry (~/.brownie/network-config.yaml), so the
`citypass-local` entry in brownie-config.yaml is copied there with `brownie networks add`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

NETWORK_ID = "citypass-local"


def _registered_ids(registry: Path) -> set[str]:
    if not registry.exists():
        return set()
    data = yaml.safe_load(registry.read_text()) or {}
    ids = {net.get("id") for net in data.get("development", [])}
    for group in data.get("live", []):
        ids.update(net.get("id") for net in group.get("networks", []))
    return ids


def main() -> int:
    config = yaml.safe_load(Path("brownie-config.yaml").read_text())
    wanted = config["networks"][NETWORK_ID]
    # Importing brownie creates ~/.brownie and its default registry on first use.
    import brownie._config as brownie_config

    registry = brownie_config._get_data_folder() / "network-config.yaml"
    if NETWORK_ID in _registered_ids(registry):
        return 0
    command = [
        str(Path(sys.executable).with_name("brownie")),
        "networks",
        "add",
        "CityPass",
        NETWORK_ID,
        f"host={wanted['host']}",
        f"chainid={wanted['chainid']}",
        f"name={wanted['name']}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"could not register {NETWORK_ID} with brownie: {result.stdout}{result.stderr}")
        return 1
    print(f"registered brownie network {NETWORK_ID} -> {wanted['host']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
