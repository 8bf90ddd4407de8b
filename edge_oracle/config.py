"""The edge daemon's settings: one frozen pydantic model, read from CITYPASS_EDGE_* variables with
CLI flags overriding (citypass/core/settings.py), every value validated with a message that
names the setting to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from eth_utils import is_address, to_checksum_address
from pydantic import ValidationInfo, model_validator

from citypass.core.ranges import check_range
from citypass.core.settings import FrozenSettings, load_settings
from citypass.protocol.sensor_events import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, EventDomain
from edge_oracle.errors import ConfigError

ENV_PREFIX = "CITYPASS_EDGE_"
# A magnetometer's heartbeat comes every 3 h (DESIGN §4); silence beyond that plus a margin
# means the sensor (or its link) is gone.
DEFAULT_COMMS_LOST_AFTER_S = 3 * 3600 + 15 * 60


class EdgeSettings(FrozenSettings):
    data_dir: Path = Path(".citypass/edge")
    # One oracle daemon's URL, or several comma-separated (independent oracles, one per
    # organisation): every event goes to each of them, with its own progress per daemon.
    oracle_url: str = "http://127.0.0.1:8600"
    chain_id: int = 0
    registry: str = ""
    listen_host: str = "127.0.0.1"
    listen_port: int = 9108
    batch_events: int = MAX_BATCH_EVENTS
    batch_bytes: int = MAX_BATCH_BYTES
    comms_lost_after_s: float = DEFAULT_COMMS_LOST_AFTER_S
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 60.0
    request_timeout_s: float = 30.0
    poll_interval_s: float = 0.2
    devices_file: Path | None = None

    @classmethod
    def load(
        cls, overrides: dict[str, Any] | None = None, *, need_chain: bool = True
    ) -> EdgeSettings:
        """Defaults ← CITYPASS_EDGE_<NAME> ← overrides (CLI flags; None means "not given")."""
        return load_settings(
            cls, env_prefix=ENV_PREFIX, error=ConfigError, overrides=overrides,
            context={"need_chain": need_chain},
        )  # fmt: skip

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> EdgeSettings:
        need_chain = (info.context or {}).get("need_chain", True)
        for one in self.oracle_urls or ("",):
            url = urlparse(one)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ValueError(
                    f"oracle_url {one!r} is not an http(s) URL: set {ENV_PREFIX}ORACLE_URL or "
                    "--oracle-url like http://127.0.0.1:8600 (several: comma-separated)"
                )
        if len(set(self.oracle_urls)) != len(self.oracle_urls):
            raise ValueError("oracle_url lists the same oracle daemon twice")
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise ValueError(f"data_dir {self.data_dir} exists and is not a directory")
        if need_chain:
            if not 1 <= self.chain_id < 2**64:
                raise ValueError(
                    f"chain_id {self.chain_id} is not set or out of range: set "
                    f"{ENV_PREFIX}CHAIN_ID or --chain-id to the ledger's chain id"
                )
            if not is_address(self.registry):
                raise ValueError(
                    f"registry {self.registry!r} is not an address: set {ENV_PREFIX}REGISTRY "
                    "or --registry to the DeviceRegistry contract address"
                )
        check_range("listen_port", self.listen_port, 1, 65535)
        check_range("batch_events", self.batch_events, 1, MAX_BATCH_EVENTS)
        check_range("batch_bytes", self.batch_bytes, 4096, MAX_BATCH_BYTES)
        for name in ("comms_lost_after_s", "backoff_initial_s", "backoff_max_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must not be smaller than backoff_initial_s")
        if not 0 < self.request_timeout_s <= 600:
            raise ValueError(f"request_timeout_s {self.request_timeout_s} is out of range: 0 … 600")
        if not 0 < self.poll_interval_s <= 60:
            raise ValueError(f"poll_interval_s {self.poll_interval_s} is out of range: 0 … 60")
        if self.devices_file is not None and not self.devices_file.is_file():
            raise ValueError(f"devices_file {self.devices_file} does not exist")
        return self

    @property
    def domain(self) -> EventDomain:
        return EventDomain(self.chain_id, to_checksum_address(self.registry))

    @property
    def oracle_urls(self) -> tuple[str, ...]:
        """Every oracle daemon's base URL (oracle_url split at commas)."""
        return tuple(u.strip().rstrip("/") for u in self.oracle_url.split(",") if u.strip())

    @property
    def events_url(self) -> str:
        """The first oracle daemon's ingest URL (one Deliverer per URL: `Deliverer.url`)."""
        return self.oracle_urls[0] + "/v1/events"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite"

    @property
    def plate_keys_path(self) -> Path:
        """The month keys file `citypass-api plate-keys --out` writes (docs/edge-oracle.md)."""
        return self.data_dir / "plate-keys.json"
