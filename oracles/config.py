"""The daemon's settings: one frozen pydantic model, filled from defaults, an optional TOML/YAML
file, then environment variables `CITYPASS_ORACLE_<NAME>`, then CLI flags (later wins; the
loader is citypass/core/settings.py). Every value is validated with an error naming the setting
and what to write instead."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address
from pydantic import model_validator

from citypass.core import settings as core_settings
from citypass.core.retention import RetentionDays
from citypass.core.settings import CommaList, CommaPaths, FrozenSettings
from citypass.protocol.occupancy_report import MAX_REPORT_WORDS
from citypass.protocol.sensor_events import MAX_BATCH_BYTES, MAX_BATCH_EVENTS
from oracles.errors import ConfigError

ENV_PREFIX = "CITYPASS_ORACLE_"
DEFAULT_PASSWORD_ENV = "CITYPASS_ORACLE_PASSWORD"
DEFAULT_MAX_REPORT_WORDS = MAX_REPORT_WORDS


class OracleSettings(FrozenSettings):
    host: str = "127.0.0.1"
    port: int = 8740
    data_dir: Path = Path(".citypass/oracle")
    rpc_url: str = "http://127.0.0.1:8545"
    # Either a deployments/<network>.json record or the three addresses.
    deployment: Path | None = None
    device_registry: str = ""
    occupancy_oracle: str = ""
    incident_registry: str = ""
    # Plate matching (oracles/plates): the LeaseMarket (from the deployment record too) and the
    # API that keeps residents' vehicle tags; without api_url, plate tags are not matched.
    lease_market: str = ""
    api_url: str = ""
    plate_cache_seconds: float = 30.0
    # The ORACLE account that sends transactions (and signs reports); extra report co-signers.
    keystore: Path | None = None
    signer_keystores: CommaPaths = ()
    password_env: str = DEFAULT_PASSWORD_ENV
    password_file: Path | None = None
    # Independent oracles (docs/oracle-daemon.md, Several oracles): the other daemons'
    # base URLs; each report then needs the contract's quorum of signatures from separate
    # daemons. Empty: this daemon reports alone (its own key, plus any signer_keystores).
    peers: CommaList = ()
    # How long a peer waits for events it has not received yet before refusing a proposal.
    cosign_wait_seconds: float = 2.0
    # How long the next daemon in turn waits for the owner of a sequence before proposing.
    proposer_timeout_seconds: float = 10.0
    # Plates and incidents are filed by ONE designated daemon (set false on the others).
    file_incidents: bool = True
    report_interval: float = 2.0
    debounce_seconds: float = 3.0
    reconcile_seconds: float = 10.0
    camera_min_confidence_bps: int = 8000
    max_future_seconds: float = 120.0
    # Below the OccupancyOracle's maximum report age (24 h), so an accepted event can always be
    # reported; an edge offline for longer re-reads its sensors.
    max_past_seconds: float = 20 * 3600.0
    max_batch_events: int = MAX_BATCH_EVENTS
    max_batch_bytes: int = MAX_BATCH_BYTES
    max_report_words: int = DEFAULT_MAX_REPORT_WORDS
    incident_batch: int = 50
    device_refresh_seconds: float = 2.0
    # "wall": the host clock; "chain": the ledger's block time (a development clock moved ahead).
    clock: str = "wall"
    evidence_dir: Path | None = None
    # Retention (docs/privacy.md "How long each thing is kept"), in days: evidence of a
    # dismissed incident after its dismissal, of a confirmed one after its confirmation, and
    # evidence no incident anchors after it was stored. Evidence of open incidents is kept.
    retain_dismissed_days: RetentionDays = 30
    retain_confirmed_days: RetentionDays = 365
    retain_unanchored_days: RetentionDays = 30
    # How often the daemon sweeps (seconds).
    retention_sweep_seconds: float = 3600.0
    log_level: str = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _addresses_from_deployment(cls, values: Any) -> Any:
        """Fill the contract addresses from a deployment record; explicit addresses win."""
        if not isinstance(values, dict) or not values.get("deployment"):
            return values
        path = Path(values["deployment"])
        try:
            record = json.loads(path.read_text())["contracts"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"deployment {path} is not a deployments/<network>.json record ({exc}); deploy "
                "first or give the three contract addresses"
            ) from exc
        found = {
            "device_registry": record.get("devices", ""),
            "occupancy_oracle": record.get("occupancy", ""),
            "incident_registry": record.get("incidents", ""),
            "lease_market": record.get("market", ""),
        }
        return {**values, **{k: values.get(k) or v for k, v in found.items()}}

    @model_validator(mode="after")
    def _check(self) -> OracleSettings:
        validate(self)
        return self

    @property
    def inbox_path(self) -> Path:
        return self.data_dir / "inbox.sqlite"

    @property
    def evidence_path(self) -> Path:
        return self.evidence_dir or self.data_dir

    @property
    def submitter_keystore(self) -> Path:
        return self.keystore or self.data_dir / "keystore" / "submitter.json"


def load_settings(
    config_file: Path | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> OracleSettings:
    """Defaults ← file ← environment ← flags (None flags are ignored), validated."""
    return core_settings.load_settings(
        OracleSettings, env_prefix=ENV_PREFIX, error=ConfigError, environ=env,
        config_file=config_file, file_section="oracle", overrides=overrides,
    )  # fmt: skip


def validate(s: OracleSettings) -> None:
    """The rules across settings; ValueError (pydantic reports it) names the one to fix."""

    def need(ok: bool, message: str) -> None:
        if not ok:
            raise ValueError(message)

    need(1 <= s.port <= 65535, f"port={s.port} must be 1..65535")
    need(bool(s.host), "host must not be empty (127.0.0.1 keeps the ingest on loopback)")
    need(
        s.rpc_url.startswith(("http://", "https://")),
        f"rpc_url={s.rpc_url!r} must be an http(s) URL of the ledger node",
    )
    for name in ("device_registry", "occupancy_oracle", "incident_registry"):
        value = getattr(s, name)
        need(
            is_address(value),
            f"{name}={value!r} is not an address: give it, or deployment=<deployments/x.json>",
        )
    need(
        not s.lease_market or is_address(s.lease_market),
        f"lease_market={s.lease_market!r} is not an address: give it, or deployment=<x.json>",
    )
    need(
        not s.api_url or s.api_url.startswith(("http://", "https://")),
        f"api_url={s.api_url!r} must be the citypass-api's http(s) base URL, like "
        "http://127.0.0.1:8080",
    )
    need(
        not s.api_url or bool(s.lease_market),
        "api_url needs lease_market (or deployment=<x.json>): plates are matched to its leases",
    )
    need(0 < s.plate_cache_seconds <= 3600, "plate_cache_seconds must be in (0, 3600]")
    for url in s.peers:
        need(
            url.startswith(("http://", "https://")),
            f"peers: {url!r} must be a peer oracle daemon's http(s) base URL, like "
            "http://127.0.0.1:8741",
        )
    need(len(set(s.peers)) == len(s.peers), "peers: each peer URL may appear only once")
    need(
        not (s.peers and s.signer_keystores),
        "peers and signer_keystores exclude each other: with peers each daemon signs with its "
        "own key only (signer_keystores is the single-organisation fallback)",
    )
    need(0 < s.cosign_wait_seconds <= 60, "cosign_wait_seconds must be in (0, 60]")
    need(0 < s.proposer_timeout_seconds <= 3600, "proposer_timeout_seconds must be in (0, 3600]")
    need(0 < s.report_interval <= 3600, "report_interval must be in (0, 3600] seconds")
    need(0 <= s.debounce_seconds <= 3600, "debounce_seconds must be 0..3600 (0 disables)")
    need(0 <= s.reconcile_seconds <= 3600, "reconcile_seconds must be 0..3600")
    need(0 <= s.camera_min_confidence_bps <= 10_000, "camera_min_confidence_bps must be 0..10000")
    need(0 < s.max_future_seconds <= 86400, "max_future_seconds must be in (0, 86400]")
    need(0 < s.max_past_seconds <= 30 * 86400, "max_past_seconds must be in (0, 30 days]")
    need(
        1 <= s.max_batch_events <= MAX_BATCH_EVENTS,
        f"max_batch_events must be 1..{MAX_BATCH_EVENTS} (citypass.protocol.sensor_events limit)",
    )
    need(
        1024 <= s.max_batch_bytes <= MAX_BATCH_BYTES,
        f"max_batch_bytes must be 1024..{MAX_BATCH_BYTES} (citypass.protocol.sensor_events limit)",
    )
    need(
        1 <= s.max_report_words <= MAX_REPORT_WORDS,
        f"max_report_words must be 1..{MAX_REPORT_WORDS} (the contract limit)",
    )
    need(1 <= s.incident_batch <= 500, "incident_batch must be 1..500")
    need(0 < s.device_refresh_seconds <= 600, "device_refresh_seconds must be in (0, 600]")
    need(
        0 < s.retention_sweep_seconds <= 86400,
        f"retention_sweep_seconds={s.retention_sweep_seconds} must be in (0, 86400]: the"
        " sweep must run at least daily",
    )
    need(s.clock in ("wall", "chain"), f"clock={s.clock!r} must be 'wall' or 'chain'")
    need(
        s.log_level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR"),
        "log_level must be DEBUG, INFO, WARNING or ERROR",
    )


def checksummed(address: str) -> str:
    return to_checksum_address(address)
