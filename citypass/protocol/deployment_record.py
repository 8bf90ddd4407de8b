"""The deployment record (deployments/<network>.json): which contract lives at which address.

scripts/deploy.py writes it (through citypass.chain.deployment); the API, the indexer and the
demo read it. A plain module, so the services need not import brownie.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_utils import to_checksum_address

from citypass.core.files import write_json_atomically
from citypass.protocol.abi import ArtefactError
from citypass.protocol.contracts import CONTRACT_NAMES

# Deployment record key → contract name: the one map scripts/deploy.py writes records with
CONTRACTS = CONTRACT_NAMES


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    addresses: dict[str, str]  # deployment key → checksummed address
    start_block: int = 0
    network: str | None = None  # the brownie network id it was deployed on, when recorded

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            record = json.loads(Path(path).read_text())
            addresses: dict[str, str] = {
                key: to_checksum_address(record["contracts"][key]) for key in CONTRACTS
            }
            return cls(
                int(record["chainId"]),
                addresses,
                int(record.get("startBlock", 0)),
                record.get("network"),
            )
        except FileNotFoundError as exc:
            raise ArtefactError(
                f"deployment record {path} not found: pass the deployments/<network>.json "
                "written by scripts/deploy.py"
            ) from exc
        except (KeyError, ValueError, TypeError) as exc:
            raise ArtefactError(
                f"{path} is not a deployment record (missing or bad {exc}); it needs chainId "
                f"and contracts.{{{', '.join(CONTRACTS)}}}"
            ) from exc

    def write(self, path: Path) -> Path:
        payload = {
            **({"network": self.network} if self.network else {}),
            "chainId": self.chain_id,
            "startBlock": self.start_block,
            "contracts": self.addresses,
        }
        # atomically: the API, the indexer and the scripts may read it while it is rewritten
        write_json_atomically(Path(path), payload)
        return Path(path)
