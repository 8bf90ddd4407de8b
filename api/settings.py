"""The API's one settings class: every field comes from `CITYPASS_API_<FIELD>` (or the CLI).

A frozen pydantic model filled by citypass/core/settings.py (which says why not
pydantic-settings); the field names are the env names (upper-cased, prefixed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from api.errors import SettingsError
from citypass.core.ranges import check_range
from citypass.core.retention import RetentionDays
from citypass.core.rpc_url import without_token
from citypass.core.settings import CommaList, FrozenSettings, load_settings

ENV_PREFIX = "CITYPASS_API_"
PASSWORD_ENV = ENV_PREFIX + "PASSWORD"
TREASURY_PASSWORD_ENV = ENV_PREFIX + "TREASURY_PASSWORD"
FOLLOW_MODES = ("process", "thread")


class Settings(FrozenSettings):
    rpc_url: str = "http://127.0.0.1:8545"
    # The node's JSON-RPC URL as wallets reach it (GET /v1/network, wallet_addEthereumChain);
    # empty means rpc_url (right when the API and the wallets see the node at the same address).
    public_rpc_url: str = ""
    db: str = "sqlite:///.citypass/api/readmodel.db"
    deployment: Path = Path("deployments/development.json")
    # Git-ignored (.citypass/): the relayer keystore lives here.
    data_dir: Path = Path(".citypass/api")
    host: str = "127.0.0.1"
    port: int = 8080
    # Comma-separated in the env. Empty means the API's own origin only (see cors_allowed).
    cors_origins: CommaList = ()
    # Keep the read model following the chain from this API (False: another process does).
    follow: bool = True
    # A read replica (docs/api.md, "Read replicas"): serves only the public reads (slot search
    # and details, quotes, clock, network, feeds) from the primary's read model; holds no key
    # and never follows the chain. Everything else answers 421, naming the primary's job.
    replica: bool = False
    # A process that does not follow (a replica, --no-follow) answers /health 503 when the read
    # model is more than this many blocks behind the node: whoever follows has stopped, and a
    # proxy should stop sending it searches that would offer slots already booked.
    stale_after_blocks: int = 60
    # "process": the follower is a child `python -m indexer run` with its own interpreter,
    # so indexing never competes with request handling for the GIL; "thread": a thread here.
    follow_mode: str = "process"
    # Seconds between head polls; a newHeads subscription wakes the follower sooner.
    poll_interval: float = 1.0
    # Token buckets for the relay endpoints: `rate` tokens per second, up to `burst` at once.
    signer_rate: float = 0.2
    signer_burst: int = 10
    ip_rate: float = 2.0
    ip_burst: int = 60
    # A search window may start this long before the ledger's clock (the current half-hour).
    search_grace_seconds: int = 1800
    # Validity of a served forward request or permit.
    deadline_seconds: int = 600
    # Gas of the inner call when it cannot be estimated (the wallet signs this figure).
    default_forward_gas: int = 500_000
    # Sign-In with Ethereum (staff sessions). Empty domain means "<host>:<port>" (siwe_expected_domain).
    siwe_domain: str = ""
    siwe_nonce_ttl_seconds: int = 300
    session_ttl_seconds: int = 3600
    # How long an on-chain role check is trusted: a revoked role loses access within this.
    role_cache_seconds: float = 2.0
    # Standard feeds (NGSI-LD, CDS, GBFS): each document is rebuilt from the chain and read
    # model at most once per this many seconds; also the GBFS `ttl` clients are told.
    feeds_ttl_seconds: int = 10
    # Residents' membership applications: approve each at once, onboarding it on chain with
    # the onboarding key (keystore/onboarder.json, which must then exist). Off by default:
    # the village enterprise's staff review each application.
    auto_approve: bool = False
    # Never printed: the keystores' password (CITYPASS_API_PASSWORD).
    password: str = Field(default="", repr=False)
    # Top-ups and cash-outs (api/payments). The TREASURY key's own password, never printed;
    # empty (or no treasury keystore) means this API mints nothing and says so.
    treasury_password: str = Field(default="", repr=False)
    # The payment provider: its checkout page (the top-up's orderId and amount are added) and the
    # HMAC secret its webhooks are signed with (never printed). Empty secret: no webhooks.
    payments_checkout_url: str = ""
    payments_webhook_secret: str = Field(default="", repr=False)
    # Receipts are bound to the provider's name: keccak256("<provider>:<receiptId>").
    payments_provider: str = "demo-pay"
    # A webhook signed longer ago than this (or this far ahead) is refused as stale.
    payments_webhook_tolerance_seconds: int = 300
    # KRW per request (credits are whole won).
    topup_min_krw: int = 1_000
    topup_max_krw: int = 2_000_000
    cashout_min_krw: int = 1_000
    cashout_max_krw: int = 2_000_000
    # Retention of the personal records this API keeps (docs/privacy.md "How long each thing
    # is kept"), in days after the decision: a rejected application's personal fields, an
    # approved one's. The sweep runs every retention_sweep_seconds in this process.
    retain_rejected_application_days: RetentionDays = 30
    retain_approved_application_days: RetentionDays = 90
    # A registered vehicle: days after the last KST month its tags were made for has ended.
    retain_vehicle_days: RetentionDays = 1
    retention_sweep_seconds: float = 3600.0
    # The oracle daemon's data directory: its evidence key table holds the inspectors' holds
    # and the evidence deletion records this API serves (same host, a shared file).
    evidence_dir: Path = Path(".citypass/oracle")
    # Registered vehicles (api/vehicles): a registration stores its plate's tags for this many
    # KST months, this one included (docs/privacy.md, "Keyed-hash plates"); and how many
    # vehicles one wallet may register.
    plate_months: int = 3
    max_vehicles: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `CITYPASS_API_*`, then explicit overrides (CLI options, not None)."""
        return load_settings(
            cls, env_prefix=ENV_PREFIX, error=SettingsError, environ=environ, overrides=overrides
        )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if "*" in self.cors_origins:
            raise ValueError(
                f"{ENV_PREFIX}CORS_ORIGINS must list explicit origins, not '*': wallet apps "
                "send credentials"
            )
        if self.follow_mode not in FOLLOW_MODES:
            raise ValueError(
                f"{ENV_PREFIX}FOLLOW_MODE={self.follow_mode!r}: use one of {', '.join(FOLLOW_MODES)}"
            )
        if self.public_rpc_url and not re.match(r"^https?://[^\s/]+", self.public_rpc_url):
            raise ValueError(
                f"{ENV_PREFIX}PUBLIC_RPC_URL={self.public_rpc_url!r}: give the node's http(s) URL "
                "as wallets reach it, e.g. https://rpc.village.example"
            )
        if not 0 < self.retention_sweep_seconds <= 86400:
            raise ValueError(
                f"{ENV_PREFIX}RETENTION_SWEEP_SECONDS={self.retention_sweep_seconds} must be in "
                "(0, 86400]: the sweep must run at least daily"
            )
        if self.replica and self.follow and "follow" in self.model_fields_set:
            raise ValueError(
                f"--replica ({ENV_PREFIX}REPLICA) with --follow ({ENV_PREFIX}FOLLOW=true): a read "
                "replica never follows the chain (the primary API or `python -m indexer run` "
                "does); drop the follow setting"
            )
        if self.poll_interval <= 0:
            raise ValueError(f"{ENV_PREFIX}POLL_INTERVAL must be positive (seconds)")
        for name in (
            "signer_rate", "ip_rate", "signer_burst", "ip_burst", "siwe_nonce_ttl_seconds",
            "session_ttl_seconds", "payments_webhook_tolerance_seconds", "topup_min_krw",
            "cashout_min_krw",
        ):  # fmt: skip
            if getattr(self, name) <= 0:
                raise ValueError(f"{ENV_PREFIX}{name.upper()} must be positive")
        check_range(f"{ENV_PREFIX}STALE_AFTER_BLOCKS", self.stale_after_blocks, 1, 1_000_000)
        check_range(f"{ENV_PREFIX}PLATE_MONTHS", self.plate_months, 1, 12)
        check_range(f"{ENV_PREFIX}MAX_VEHICLES", self.max_vehicles, 1, 20)
        for kind in ("topup", "cashout"):
            if getattr(self, f"{kind}_max_krw") < getattr(self, f"{kind}_min_krw"):
                raise ValueError(
                    f"{ENV_PREFIX}{kind.upper()}_MAX_KRW must be at least {kind.upper()}_MIN_KRW"
                )
        return self

    @property
    def cors_allowed(self) -> list[str]:
        if self.cors_origins:
            return list(self.cors_origins)
        own = {f"http://{self.host}:{self.port}"}
        if self.host in ("127.0.0.1", "0.0.0.0"):
            own.add(f"http://localhost:{self.port}")
        return sorted(own)

    @property
    def follows_chain(self) -> bool:
        """Whether this process keeps the read model following the chain (never a replica)."""
        return self.follow and not self.replica

    @property
    def wallet_rpc_url(self) -> str:
        # Never the API's own token: wallets get the node's keyless address.
        return self.public_rpc_url or without_token(self.rpc_url)

    @property
    def siwe_expected_domain(self) -> str:
        return self.siwe_domain or f"{self.host}:{self.port}"

    @property
    def record_keys_path(self) -> Path:
        """The data keys of the personal records (never in long-lived backups)."""
        return Path(self.data_dir) / "keys.sqlite"

    @property
    def keystore_path(self) -> Path:
        return Path(self.data_dir) / "keystore" / "relayer.json"

    @property
    def onboarder_keystore_path(self) -> Path:
        """The key that onboards approved applicants (it must hold OPERATOR on CityAccess)."""
        return Path(self.data_dir) / "keystore" / "onboarder.json"

    @property
    def treasury_keystore_path(self) -> Path:
        return Path(self.data_dir) / "keystore" / "treasury.json"
