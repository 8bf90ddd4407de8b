"""The device cache: every registered device's kind, active flag and watched slots, loaded
from the DeviceRegistry at start and kept current by polling its events (DeviceRegistered,
DeviceSlotAdded/Removed, DeviceActiveSet): any event naming a device reloads that device, so a
deactivation is honoured within one refresh period."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from web3 import Web3

from oracles.ledger import Ledger

log = logging.getLogger("oracles.devices")
KINDS = ("magnetometer", "ultrasonic", "camera")
LOG_WINDOW = 5_000  # blocks per eth_getLogs request


@dataclass(frozen=True)
class DeviceInfo:
    address: str  # lower-case hex
    kind: str
    active: bool
    slots: frozenset[int]


class DeviceCache:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.devices: dict[str, DeviceInfo] = {}
        self.scanned_to = -1
        self.refreshed_at = 0.0
        registry = ledger.devices
        self.topics = [
            Web3.keccak(text=sig).hex()
            for sig in (
                "DeviceRegistered(address,uint8,address)",
                "DeviceSlotAdded(address,uint256)",
                "DeviceSlotRemoved(address,uint256)",
                "DeviceActiveSet(address,bool,address)",
            )
        ]
        self.topics = [t if t.startswith("0x") else "0x" + t for t in self.topics]
        self.address = registry.address

    def get(self, address: str) -> DeviceInfo | None:
        return self.devices.get(address)

    @property
    def age_seconds(self) -> float:
        return time.time() - self.refreshed_at if self.refreshed_at else float("inf")

    def load_all(self) -> None:
        """Read every device (deviceCount/deviceAt/deviceOf/slotsOf) as of the head."""
        ledger = self.ledger
        head = ledger.refresh_head()
        registry = ledger.devices.functions
        count = ledger.guard(lambda: registry.deviceCount().call(block_identifier=head))
        loaded: dict[str, DeviceInfo] = {}
        for index in range(count):
            address = ledger.guard(lambda i=index: registry.deviceAt(i).call(block_identifier=head))
            loaded[address.lower()] = self._read(address, head)
        self.devices = loaded
        self.scanned_to = head
        self.refreshed_at = time.time()
        log.info("device cache loaded", extra={"devices": len(loaded), "block": head})

    def refresh(self) -> int:
        """Apply the registry's events since the last scan; returns the devices reloaded."""
        if self.scanned_to < 0:
            self.load_all()
            return len(self.devices)
        ledger = self.ledger
        head = ledger.refresh_head()
        touched: set[str] = set()
        start = self.scanned_to + 1
        while start <= head:
            end = min(head, start + LOG_WINDOW - 1)
            logs = ledger.guard(
                lambda s=start, e=end: ledger.w3.eth.get_logs(
                    {"address": self.address, "fromBlock": s, "toBlock": e, "topics": [self.topics]}
                )
            )
            for entry in logs:
                topic = entry["topics"][1]
                touched.add("0x" + bytes(topic)[-20:].hex())
            start = end + 1
        for address in touched:
            self.devices[address] = self._read(Web3.to_checksum_address(address), head)
        self.scanned_to = head
        self.refreshed_at = time.time()
        if touched:
            log.info("device cache refreshed", extra={"reloaded": len(touched), "block": head})
        return len(touched)

    def _read(self, address: str, block: int) -> DeviceInfo:
        registry = self.ledger.devices.functions
        device = self.ledger.guard(lambda: registry.deviceOf(address).call(block_identifier=block))
        slots = self.ledger.guard(lambda: registry.slotsOf(address).call(block_identifier=block))
        kind, active = int(device[0]), bool(device[1])
        return DeviceInfo(address.lower(), KINDS[kind], active, frozenset(int(s) for s in slots))
