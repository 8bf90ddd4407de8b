"""Checking one ingest request's events, in order, against the device cache and the inbox.

Per event: parse (`malformed`), the signature must recover the event's own device
(`bad_signature`), the device must be registered (`unknown_device`); then dedupe by event id
(same id and content → duplicate; same id, other content → `conflicting_event`) and the
device's sequence (≤ last → `replayed`; > last + 1 → `sequence_gap`, retried by the edge);
then the device must be active (`inactive_device`), watch the slot (`slot_not_watched`; slot 0
only for dumping, jaywalking and comms events) and the event time must be within bounds
(`time_in_future` / `time_too_old`). Refusals after the sequence check are permanent and
consume the sequence number, so a device's stream never stalls behind a refused event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from citypass.protocol.sensor_events import (
    ZERO_HASH,
    EventDomain,
    SensorEventError,
    SignedEvent,
    parse_event,
    recover_signer,
)
from oracles.devices import DeviceCache
from oracles.inbox import Inbox

INCIDENT_KINDS = {
    "illegal_parking": 0,
    "unauthorised_occupancy": 1,
    "illegal_dumping": 2,
    "jaywalking": 3,
}
SLOTLESS_TYPES = {"illegal_dumping", "jaywalking", "comms_lost", "comms_restored", "decommissioned"}
RETRIABLE = {"sequence_gap", "unavailable"}
# Camera incidents are anchored with their evidence's CID: the IncidentRegistry refuses them
# without one, so the daemon refuses them at the door (unauthorised occupancy is sensor-derived).
EVIDENCE_REQUIRED = {"illegal_parking", "illegal_dumping", "jaywalking"}


@dataclass
class Verdicts:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    accepted_events: list[SignedEvent] = field(default_factory=list)

    def reply(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def _id_of(wire: Any) -> str:
    if isinstance(wire, dict) and isinstance(wire.get("eventId"), str):
        return wire["eventId"][:66]
    return ""


def check_batch(
    wires: list[Any],
    domain: EventDomain,
    cache: DeviceCache,
    inbox: Inbox,
    now_ms: int,
    max_future_ms: int,
    max_past_ms: int,
    store_evidence: Callable[[bytes], bytes] | None,
) -> Verdicts:
    """Verify and durably record one request's events; returns the per-event verdicts."""
    out = Verdicts()
    parsed: list[tuple[SignedEvent, bytes, Any]] = []
    for wire in wires:
        try:
            signed = parse_event(wire)
            device = cache.get(signed.event.device)
            signer = recover_signer(signed, domain)
            if signer.lower() != signed.event.device:
                raise SensorEventError(
                    "bad_signature", "the signature is not the device's: sign with its own key"
                )
            if device is None:
                raise SensorEventError(
                    "unknown_device",
                    f"device {signer} is not in the DeviceRegistry: register it first",
                )
        except SensorEventError as exc:
            out.rejected.append(
                {"eventId": _id_of(wire), "reason": exc.reason, "message": str(exc)}
            )
            continue
        parsed.append((signed, signed.event.struct_hash(), device))

    # Checks against stored state and the commit happen under one lock, so two concurrent
    # requests for the same device cannot both pass the sequence check.
    with inbox.ingest_lock:
        _check_and_commit(out, parsed, domain, inbox, now_ms, max_future_ms, max_past_ms,
                          store_evidence)  # fmt: skip
    return out


def _check_and_commit(
    out: Verdicts,
    parsed: list[tuple[SignedEvent, bytes, Any]],
    domain: EventDomain,
    inbox: Inbox,
    now_ms: int,
    max_future_ms: int,
    max_past_ms: int,
    store_evidence: Callable[[bytes], bytes] | None,
) -> None:
    known = inbox.known([s.event.event_id for s, _, _ in parsed])
    last = inbox.last_sequences(s.event.device for s, _, _ in parsed)
    accepted_rows: list[tuple[Any, ...]] = []
    refused_rows: list[tuple[bytes, bytes, str, str]] = []
    incident_ids: list[bytes] = []
    plate_reads: list[tuple[bytes, bytes]] = []
    for signed, digest, device in parsed:
        event = signed.event
        event_hex = "0x" + event.event_id.hex()

        def reject(reason: str, message: str, event_hex: str = event_hex) -> None:
            out.rejected.append({"eventId": event_hex, "reason": reason, "message": message})

        seen = known.get(event.event_id)
        if seen is not None:
            if seen[0] != digest:
                reject(
                    "conflicting_event",
                    "another event with this id (device and sequence) was already received: "
                    "a device must never reuse a sequence number",
                )
            elif seen[1] is None:
                out.duplicates.append(event_hex)
            else:
                reject(seen[1], seen[2])
            continue
        previous = last.get(event.device, 0)
        if event.sequence <= previous:
            reject(
                "replayed",
                f"sequence {event.sequence} is at or below the device's last ({previous})",
            )
            continue
        if event.sequence > previous + 1:
            reject(
                "sequence_gap",
                f"sequence {event.sequence} skips ahead of {previous}: send {previous + 1} first",
            )
            continue
        last[event.device] = event.sequence
        refusal = _permanent_refusal(
            event, signed.evidence, device, now_ms, max_future_ms, max_past_ms
        )
        if refusal is not None:
            reject(*refusal)
            refused_rows.append((event.event_id, digest, *refusal))
            known[event.event_id] = (digest, refusal[0], refusal[1])
            continue
        cid = None
        if signed.evidence is not None and store_evidence is not None:
            cid = store_evidence(signed.evidence)
        accepted_rows.append(
            (
                event.event_id,
                digest,
                event.device,
                event.sequence,
                event.event_type,
                event.source_type,
                str(event.slot_id),
                event.event_time_ms,
                int(event.occupied),
                event.confidence_bps,
                event.lat_e6,
                event.lon_e6,
                event.vehicle_type,
                event.evidence_hash,
                cid,
            )
        )
        known[event.event_id] = (digest, None, "")
        if event.event_type in INCIDENT_KINDS:
            incident_ids.append(event.event_id)
        if event.event_type == "park_start" and event.plate_tag != ZERO_HASH:
            plate_reads.append((event.event_id, event.plate_tag))
        out.accepted.append(event_hex)
        out.accepted_events.append(signed)
    touched = {s.event.device: last[s.event.device] for s, _, _ in parsed if s.event.device in last}
    if accepted_rows or refused_rows:
        inbox.commit_batch(accepted_rows, refused_rows, touched, incident_ids, plate_reads)


def _permanent_refusal(
    event: Any,
    evidence: bytes | None,
    device: Any,
    now_ms: int,
    max_future_ms: int,
    max_past_ms: int,
) -> tuple[str, str] | None:
    if not device.active:
        return ("inactive_device", "the device is deactivated in the DeviceRegistry")
    if event.slot_id == 0:
        if event.event_type not in SLOTLESS_TYPES:
            return (
                "slot_not_watched",
                f"{event.event_type} needs a slot id; slot 0 is only for {sorted(SLOTLESS_TYPES)}",
            )
    elif event.slot_id not in device.slots:
        return (
            "slot_not_watched",
            f"the device does not watch slot {event.slot_id}: add it in the DeviceRegistry",
        )
    if event.event_type in EVIDENCE_REQUIRED and evidence is None:
        return (
            "missing_evidence",
            f"a {event.event_type} event must carry its image in 'evidence' (base64)",
        )
    if event.event_time_ms > now_ms + max_future_ms:
        return (
            "time_in_future",
            f"event time is {(event.event_time_ms - now_ms) / 1000:.0f} s ahead: fix the clock",
        )
    if event.event_time_ms < now_ms - max_past_ms:
        return (
            "time_too_old",
            f"event time is {(now_ms - event.event_time_ms) / 1000:.0f} s old, beyond the bound",
        )
    return None
