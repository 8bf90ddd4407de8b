"""What a node's keyless reads may cost (`ledger-node start --rpc-*`): the settings the read
limiter (ledger_node/read_limits.py) enforces, each checked against its range."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from citypass.core.ranges import check_range

DEFAULT_RATE_EXEMPT = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class ReadLimits:
    gas_cap: int = 50_000_000
    trace_gas_cap: int = 1_000_000
    evm_timeout: float = 5.0
    concurrency: int = 4
    per_client: int = 2
    per_client_queue: int = 64
    rate: float = 200.0  # tokens per second and client; 0 = no rate limit
    burst: int = 1000
    rate_exempt: tuple[str, ...] = DEFAULT_RATE_EXEMPT

    def validate(self) -> None:
        """Raises ValueError naming the option that is out of range."""
        check_range("--rpc-gas-cap", self.gas_cap, 1_000_000, 2_000_000_000)
        check_range(
            "--rpc-trace-gas-cap", self.trace_gas_cap, 100_000, self.gas_cap,
            high_text=f"the gas cap ({self.gas_cap})",
        )  # fmt: skip
        check_range("--rpc-evm-timeout", self.evm_timeout, 0.05, 300, unit="s")
        check_range("--rpc-read-concurrency", self.concurrency, 1, 64)
        check_range(
            "--rpc-read-per-client", self.per_client, 1, self.concurrency,
            high_text=f"--rpc-read-concurrency ({self.concurrency})",
        )  # fmt: skip
        check_range("--rpc-read-queue", self.per_client_queue, 1, 100_000)
        check_range("--rpc-rate-limit", self.rate, 0, 1_000_000, low_text="0 (off)")
        check_range("--rpc-rate-burst", self.burst, 1, 10_000_000)
        parse_networks(self.rate_exempt)


def parse_networks(
    entries: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in entries:
        for part in entry.replace(",", " ").split():
            if part.lower() == "none":
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ValueError(
                    f"--rpc-rate-exempt {part!r} is not an IP address or network (like 10.0.0.0/8)"
                ) from exc
    return tuple(networks)
