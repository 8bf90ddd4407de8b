"""Register the CityPass networks with brownie's network registry (~/.brownie/network-config.yaml).

brownie reads live networks and anvil's launch flags only from that registry, and its mypyc
build crashes on `cmd_settings` in a project file. So `make setup` copies:
- `networks.development.engine_settings` from brownie-config.yaml into the development
  network's `cmd_settings`;
- `networks.citypass-local` (the ledger node's RPC endpoint) as a live network.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from citypass.core.files import write_atomically

LIVE_ID = "citypass-local"
LIVE_GROUP = "CityPass"


def apply(project_config: dict[str, Any], registry: dict[str, Any]) -> bool:
    """Update `registry` in place; returns whether anything changed."""
    networks = project_config["networks"]
    changed = False
    engine = networks["development"]["engine_settings"]
    for entry in registry.get("development", []):
        if entry.get("id") == "development":
            settings = entry.setdefault("cmd_settings", {}) or {}
            if any(settings.get(k) != v for k, v in engine.items()):
                settings.update(engine)
                entry["cmd_settings"] = settings
                changed = True
    wanted = networks[LIVE_ID]
    live = set_live_network(registry, LIVE_ID, wanted["name"], wanted["host"], wanted["chainid"])
    return changed or live


def set_live_network(
    registry: dict[str, Any], network_id: str, name: str, host: str, chain_id: int
) -> bool:
    """Add or update one live network of the CityPass group; returns whether anything changed."""
    entry = {"name": name, "id": network_id, "host": host, "chainid": chain_id}
    groups = registry.setdefault("live", [])
    group = next((g for g in groups if g.get("name") == LIVE_GROUP), None)
    if group is None:
        group = {"name": LIVE_GROUP, "networks": []}
        groups.append(group)
    existing = next((n for n in group["networks"] if n.get("id") == network_id), None)
    if existing == entry:
        return False
    group["networks"] = [n for n in group["networks"] if n.get("id") != network_id] + [entry]
    return True


def _registry_path() -> Path:
    # Importing brownie creates ~/.brownie and its default registry on first use.
    import brownie._config as brownie_config

    return Path(brownie_config._get_data_folder()) / "network-config.yaml"


def _update_registry(change: Callable[[dict[str, Any]], bool]) -> Path | None:
    """Apply `change` to brownie's registry file; the path if it was rewritten."""
    path = _registry_path()
    registry = yaml.safe_load(path.read_text()) or {}
    if not change(registry):
        return None
    write_atomically(path, yaml.safe_dump(registry, sort_keys=False))
    return path


def register_live_network(network_id: str, name: str, host: str, chain_id: int) -> None:
    """Make `brownie run ... --network <network_id>` reach `host` (the demo's node)."""
    _update_registry(lambda registry: set_live_network(registry, network_id, name, host, chain_id))


def main() -> int:
    project_config = yaml.safe_load(Path("brownie-config.yaml").read_text())
    path = _update_registry(lambda registry: apply(project_config, registry))
    if path is not None:
        print(f"updated brownie network registry {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
