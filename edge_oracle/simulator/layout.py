"""Where the simulated sensors are: one magnetometer per shared slot, and AI cameras that each
cover a run of bays (the shared slots and, optionally, non-shared street bays)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Sangsalmi village, Samjeong-dong, Bucheon (approximate centre), in micro-degrees.
CENTRE_E6 = (37_503_000, 126_787_000)
STREET_BAY_BASE = 10_000  # street bay ids start here, apart from the shared slots' ids


@dataclass(frozen=True)
class Layout:
    shared_slots: tuple[int, ...]
    street_bays: tuple[int, ...]
    magnetometers: dict[str, int]  # sensor id → slot id
    cameras: dict[str, tuple[int, ...]]  # sensor id → bays it covers

    def position_e6(self, bay: int) -> tuple[int, int]:
        """A stable position for a bay: a grid of ~11 m steps around the village centre."""
        index = bay if bay < STREET_BAY_BASE else bay - STREET_BAY_BASE + 400
        return CENTRE_E6[0] + (index % 20) * 100, CENTRE_E6[1] + (index // 20) * 120

    def camera_for(self, bay: int) -> str:
        for sensor, bays in self.cameras.items():
            if bay in bays:
                return sensor
        return next(iter(self.cameras))

    def devices(self) -> list[dict[str, Any]]:
        """[{sensor, kind, slots}] for a devices file / the DeviceRegistry."""
        items = [
            {"sensor": s, "kind": "magnetometer", "slots": [slot]}
            for s, slot in self.magnetometers.items()
        ]
        items += [
            {"sensor": s, "kind": "camera", "slots": list(bays)} for s, bays in self.cameras.items()
        ]
        return items


def village_layout(
    slots: int = 280, street_bays: int = 0, bays_per_camera: int = 20, first_slot: int = 1
) -> Layout:
    shared = tuple(range(first_slot, first_slot + slots))
    street = tuple(range(STREET_BAY_BASE, STREET_BAY_BASE + street_bays))
    magnetometers = {f"mag-{slot:04d}": slot for slot in shared}
    bays = shared + street
    cameras = {
        f"cam-{n + 1:02d}": bays[i : i + bays_per_camera]
        for n, i in enumerate(range(0, len(bays), bays_per_camera))
    }
    return Layout(shared, street, magnetometers, cameras)
