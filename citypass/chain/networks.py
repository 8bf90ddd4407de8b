"""Register the CityPass networks with brownie's network registry (~/.brownie/network-config.yaml).

brownie reads live networks and anvil's launch flags only from that registry, and its mypyc
build crashes on `cmd_settings` in a project file. So `make setup` copies:
- `networks.development.engine_settings` from brownie-config.yaml into the development
  network's `cmd_settings`;
- `networks.citypass-local` (the ledger node's RPC endpoint) as a live network.
"""

from __future__ import annotations

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
    live_entry = {
        "name": wanted["name"],
        "id": LIVE_ID,
        "host": wanted["host"],
        "chainid": wanted["chainid"],
    }
    groups = registry.setdefault("live", [])
    group = next((g for g in groups if g.get("name") == LIVE_GROUP), None)
    if group is None:
        group = {"name": LIVE_GROUP, "networks": []}
        groups.append(group)
    existing = next((n for n in group["networks"] if n.get("id") == LIVE_ID), None)
    if existing != live_entry:
        group["networks"] = [n for n in group["networks"] if n.get("id") != LIVE_ID] + [live_entry]
        changed = True
    return changed


def main() -> int:
    project_config = yaml.safe_load(Path("brownie-config.yaml").read_text())
    # Importing brownie creates ~/.brownie and its default registry on first use.
    import brownie._config as brownie_config

    path = brownie_config._get_data_folder() / "network-config.yaml"
    registry = yaml.safe_load(path.read_text()) or {}
    if apply(project_config, registry):
        write_atomically(path, yaml.safe_dump(registry, sort_keys=False))
        print(f"updated brownie network registry {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
