"""Reconcile a slot watched by two sources (an in-ground/ultrasonic sensor and a camera).

Rule: the sensor decides. A camera (confidence at or above the threshold) whose debounced state
disagrees with the sensor overrides it only when the camera's observation is the NEWER one and
the disagreement has lasted for the reconcile window (counted from the camera's first
observation of its state, so the window includes the debounce); each override counts as a
`disagreement`. A slot with only one source follows that source."""

from __future__ import annotations

from oracles.aggregate.debounce import Debouncer


def reconcile(
    sensor: Debouncer, camera: Debouncer, now_ms: int, window_ms: int
) -> tuple[bool | None, bool]:
    """(the slot's state, whether the camera overrode the sensor)."""
    if sensor.stable is None:
        return camera.stable, False
    if camera.stable is None or camera.stable == sensor.stable:
        return sensor.stable, False
    if camera.stable_since_ms <= sensor.stable_since_ms:
        return sensor.stable, False  # the sensor saw something after the camera did
    if now_ms - camera.stable_since_ms >= window_ms:
        return camera.stable, True
    return sensor.stable, False
