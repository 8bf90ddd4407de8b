"""Which contract lives at which address, and how to decode its logs (ABIs from build/contracts)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3 import Web3
from web3._utils.events import get_event_data

from api.indexer.errors import IndexerError
from citypass.deployment import CONTRACT_NAMES

BUILD = Path(__file__).resolve().parents[2] / "build" / "contracts"
# Deployment record key → contract name: the one map scripts/deploy.py writes records with
# (citypass.deployment imports no brownie, so the read model may use it).
CONTRACTS = CONTRACT_NAMES


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    addresses: dict[str, str]  # deployment key → checksummed address
    start_block: int = 0

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            record = json.loads(Path(path).read_text())
            addresses = {key: to_checksum_address(record["contracts"][key]) for key in CONTRACTS}
            return cls(int(record["chainId"]), addresses, int(record.get("startBlock", 0)))
        except FileNotFoundError as exc:
            raise IndexerError(
                f"deployment record {path} not found: pass the deployments/<network>.json "
                "written by scripts/deploy.py"
            ) from exc
        except (KeyError, ValueError, TypeError) as exc:
            raise IndexerError(
                f"{path} is not a deployment record (missing or bad {exc}); it needs chainId "
                f"and contracts.{{{', '.join(CONTRACTS)}}}"
            ) from exc

    def write(self, path: Path) -> Path:
        payload = {
            "chainId": self.chain_id,
            "startBlock": self.start_block,
            "contracts": self.addresses,
        }
        Path(path).write_text(json.dumps(payload, indent=2) + "\n")
        return Path(path)


@dataclass(frozen=True)
class DecodedEvent:
    contract: str  # contract name, e.g. "LeaseMarket"
    event: str
    args: dict[str, Any]


def load_abi(name: str) -> list[dict[str, Any]]:
    path = BUILD / f"{name}.json"
    if not path.exists():
        raise IndexerError(f"{path} missing: run `brownie compile` so the ABIs exist")
    return json.loads(path.read_text())["abi"]


class Registry:
    """Decodes a raw log of any known contract into its event name and arguments."""

    def __init__(self, w3: Web3, deployment: Deployment) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.names: dict[str, str] = {}
        self.contracts: dict[str, Any] = {}
        self._events: dict[tuple[str, bytes], dict[str, Any]] = {}
        for key, address in deployment.addresses.items():
            name = CONTRACTS[key]
            abi = load_abi(name)
            self.names[address] = name
            self.contracts[key] = w3.eth.contract(address=address, abi=abi)
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    self._events[(address, event_abi_to_log_topic(item))] = item

    def decode(self, log: dict[str, Any]) -> DecodedEvent | None:
        """The event a raw log stands for, or None when it is not from a known contract."""
        address = to_checksum_address(log["address"])
        topics = log["topics"]
        if not topics:
            return None
        abi = self._events.get((address, bytes(topics[0])))
        if abi is None:
            return None
        data = get_event_data(self.w3.codec, abi, log)
        return DecodedEvent(self.names[address], data["event"], dict(data["args"]))
