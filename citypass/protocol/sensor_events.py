"""Signed sensor events: the one format edge devices sign and the oracle daemon verifies.

An event is EIP-712 typed data (`SensorEvent`) signed with the device's own key, under a domain
bound to the chain and to the DeviceRegistry contract, so an event signed for one deployment
never verifies on another. The event vocabulary is the Curb Data Specification's event types
plus our incident types (DESIGN §4). Nothing personal is in an event (DESIGN §6): the object is
a vehicle type, never a plate, and an image travels beside the event, bound to it by its
SHA-256 (`evidenceHash`), never inside the signed fields. A camera that read a plate sends
only its keyed-hash tag (`plateTag`, citypass/protocol/plate_tags.py), never the plate.

The tag extends the format compatibly: an event without one is signed, hashed and sent exactly
as before (the 13-field `SensorEvent` type); an event with one is signed under the same type
name with `bytes32 plateTag` appended (so the signature covers the tag), and its wire object
carries `plateTag`. A zero tag is never sent: no tag means the field is absent.

The event's struct hash and the recovery are done here with keccak and libsecp256k1 (coincurve)
directly, because the oracle daemon must verify thousands of events per second; the domain
separator is eth-account's (citypass/protocol/signing.py), hashed once per domain. Tests
cross-check the digests against eth-account's generic `encode_typed_data`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import coincurve
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from citypass.protocol.signing import ContractDomain, typed_struct

# Curb Data Specification event types, then our incident types.
CDS_EVENT_TYPES = (
    "park_start",
    "park_end",
    "scheduled_report",
    "comms_lost",
    "comms_restored",
    "decommissioned",
)
INCIDENT_TYPES = ("illegal_parking", "unauthorised_occupancy", "illegal_dumping", "jaywalking")
EVENT_TYPES = CDS_EVENT_TYPES + INCIDENT_TYPES
# Device kind (DeviceRegistry) → CDS event source type.
SOURCE_TYPES = {"magnetometer": "in_ground", "ultrasonic": "ultrasonic", "camera": "camera"}
# Object classes a camera may name; "" when the event has no object (a magnetometer, a heartbeat).
VEHICLE_TYPES = (
    "",
    "car",
    "van",
    "truck",
    "bus",
    "motorcycle",
    "bicycle",
    "kick_scooter",
    "person",
    "other",
)

# Wire limits shared by the edge (which never builds a larger batch) and the daemon (which
# rejects one). The daemon may be configured lower, never higher.
MAX_BATCH_EVENTS = 500
MAX_EVIDENCE_BYTES = 4 * 1024 * 1024
MAX_BATCH_BYTES = 16 * 1024 * 1024

DOMAIN_NAME = "CityPass Sensor Events"
DOMAIN_VERSION = "1"

SENSOR_EVENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("eventId", "bytes32"),
    ("device", "address"),
    ("sequence", "uint64"),
    ("eventType", "string"),
    ("sourceType", "string"),
    ("slotId", "uint256"),
    ("eventTimeMs", "uint64"),
    ("occupied", "bool"),
    ("confidenceBps", "uint16"),
    ("latE6", "int32"),
    ("lonE6", "int32"),
    ("vehicleType", "string"),
    ("evidenceHash", "bytes32"),
)
TAGGED_EVENT_FIELDS = (*SENSOR_EVENT_FIELDS, ("plateTag", "bytes32"))
_TYPE_STRING = "SensorEvent(" + ",".join(f"{t} {n}" for n, t in SENSOR_EVENT_FIELDS) + ")"
_TAGGED_TYPE_STRING = "SensorEvent(" + ",".join(f"{t} {n}" for n, t in TAGGED_EVENT_FIELDS) + ")"
SENSOR_EVENT_TYPES = typed_struct(_TYPE_STRING)
TAGGED_EVENT_TYPES = typed_struct(_TAGGED_TYPE_STRING)
SENSOR_EVENT_TYPEHASH = keccak(_TYPE_STRING.encode())
TAGGED_EVENT_TYPEHASH = keccak(_TAGGED_TYPE_STRING.encode())
_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
ZERO_HASH = b"\x00" * 32


class SensorEventError(ValueError):
    """An event or batch that cannot be accepted. `reason` is a short counter label (for
    metrics and the daemon's reply); the message says what is wrong and how to fix it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class EventDomain(ContractDomain):
    """The EIP-712 domain: which chain and which DeviceRegistry the events are for."""

    NAME = DOMAIN_NAME
    VERSION = DOMAIN_VERSION

    @property
    def registry(self) -> str:
        return self.verifying_contract


@dataclass(frozen=True, kw_only=True)
class CameraFields:
    """What a camera adds to an event (a slot sensor leaves the defaults): its confidence, the
    position in micro-degrees, the vehicle type, the evidence's hash and the keyed-hash tag of
    the plate it read (zero: none). Shared by the signed event and the edge's draft of one;
    keyword-only, after each one's own fields."""

    confidence_bps: int = 10_000
    lat_e6: int = 0
    lon_e6: int = 0
    vehicle_type: str = ""
    evidence_hash: bytes = ZERO_HASH
    plate_tag: bytes = ZERO_HASH


@dataclass(frozen=True)
class SensorEvent(CameraFields):
    """One normalised event, as signed. Times are Unix milliseconds; positions micro-degrees."""

    device: str
    sequence: int
    event_type: str
    source_type: str
    slot_id: int = 0
    event_time_ms: int = 0
    occupied: bool = False
    event_id: bytes = field(default=b"")

    def __post_init__(self) -> None:
        # One canonical spelling of the device, so equal events compare equal.
        object.__setattr__(self, "device", _hex_address(self.device))
        if not self.event_id:
            object.__setattr__(self, "event_id", derive_event_id(self.device, self.sequence))

    @property
    def tagged(self) -> bool:
        return self.plate_tag != ZERO_HASH

    @property
    def types(self) -> dict[str, Any]:
        """The EIP-712 types this event is signed under (with plateTag only when tagged)."""
        return TAGGED_EVENT_TYPES if self.tagged else SENSOR_EVENT_TYPES

    def struct_hash(self) -> bytes:
        tagged = self.tagged
        return keccak(
            (TAGGED_EVENT_TYPEHASH if tagged else SENSOR_EVENT_TYPEHASH)
            + self.event_id
            + bytes(12)
            + bytes.fromhex(self.device[2:])
            + self.sequence.to_bytes(32, "big")
            + keccak(self.event_type.encode())
            + keccak(self.source_type.encode())
            + self.slot_id.to_bytes(32, "big")
            + self.event_time_ms.to_bytes(32, "big")
            + (b"\x00" * 31 + (b"\x01" if self.occupied else b"\x00"))
            + self.confidence_bps.to_bytes(32, "big")
            + self.lat_e6.to_bytes(32, "big", signed=True)
            + self.lon_e6.to_bytes(32, "big", signed=True)
            + keccak(self.vehicle_type.encode())
            + self.evidence_hash
            + (self.plate_tag if tagged else b"")
        )

    def digest(self, domain: EventDomain) -> bytes:
        return keccak(b"\x19\x01" + domain.separator + self.struct_hash())

    def message(self) -> dict[str, Any]:
        """The typed-data message, as a wallet or eth-account expects it (with `types`)."""
        message: dict[str, Any] = {
            "eventId": self.event_id,
            "device": to_checksum_address(self.device),
            "sequence": self.sequence,
            "eventType": self.event_type,
            "sourceType": self.source_type,
            "slotId": self.slot_id,
            "eventTimeMs": self.event_time_ms,
            "occupied": self.occupied,
            "confidenceBps": self.confidence_bps,
            "latE6": self.lat_e6,
            "lonE6": self.lon_e6,
            "vehicleType": self.vehicle_type,
            "evidenceHash": self.evidence_hash,
        }
        if self.tagged:
            message["plateTag"] = self.plate_tag
        return message


@dataclass(frozen=True)
class SignedEvent:
    event: SensorEvent
    signature: bytes
    evidence: bytes | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON object the edge sends (one element of a batch's "events" list)."""
        e = self.event
        wire: dict[str, Any] = {
            "eventId": "0x" + e.event_id.hex(),
            "device": to_checksum_address(e.device),
            "sequence": e.sequence,
            "eventType": e.event_type,
            "sourceType": e.source_type,
            "slotId": e.slot_id,
            "eventTimeMs": e.event_time_ms,
            "occupied": e.occupied,
            "confidenceBps": e.confidence_bps,
            "latE6": e.lat_e6,
            "lonE6": e.lon_e6,
            "vehicleType": e.vehicle_type,
            "evidenceHash": "0x" + e.evidence_hash.hex(),
            "signature": "0x" + self.signature.hex(),
        }
        if e.tagged:
            wire["plateTag"] = "0x" + e.plate_tag.hex()
        if self.evidence is not None:
            wire["evidence"] = base64.b64encode(self.evidence).decode()
        return wire


def derive_event_id(device: str, sequence: int) -> bytes:
    """keccak256(device ‖ uint64 sequence): unique per device and sequence number, so the same
    event re-sent after a crash has the same id and is recognised as a duplicate."""
    return keccak(bytes.fromhex(_hex_address(device)[2:]) + sequence.to_bytes(8, "big"))


def evidence_hash(content: bytes) -> bytes:
    return hashlib.sha256(content).digest()


def sign_event(
    event: SensorEvent, private_key: bytes, domain: EventDomain, evidence: bytes | None = None
) -> SignedEvent:
    """Sign with the device key. If `evidence` is given, the event must carry its SHA-256."""
    if evidence is not None and evidence_hash(evidence) != event.evidence_hash:
        event = replace(event, evidence_hash=evidence_hash(evidence))
    raw = coincurve.PrivateKey(private_key).sign_recoverable(event.digest(domain), hasher=None)
    return SignedEvent(event, raw[:64] + bytes([raw[64] + 27]), evidence)


def recover_signer(signed: SignedEvent, domain: EventDomain) -> str:
    """The checksummed address that signed the event; SensorEventError("bad_signature") if the
    signature is malformed or malleable (high s)."""
    sig = signed.signature
    if len(sig) != 65 or sig[64] not in (27, 28):
        raise SensorEventError("bad_signature", "signature must be 65 bytes r‖s‖v with v 27 or 28")
    if int.from_bytes(sig[32:64], "big") > _SECP256K1_HALF_N:
        raise SensorEventError(
            "bad_signature", "signature s is in the upper half (malleable): re-sign"
        )
    try:
        public = coincurve.PublicKey.from_signature_and_message(
            sig[:64] + bytes([sig[64] - 27]), signed.event.digest(domain), hasher=None
        )
    except Exception as exc:  # libsecp256k1 raises plain Exception on an unrecoverable signature
        raise SensorEventError(
            "bad_signature", f"signature does not recover a key ({exc})"
        ) from exc
    return to_checksum_address(keccak(public.format(compressed=False)[1:])[-20:])


def parse_event(wire: Any) -> SignedEvent:
    """Validate one wire object into a SignedEvent; SensorEventError("malformed") naming the
    field otherwise. Checks shapes and ranges only: signatures, devices and times are the
    daemon's checks."""
    if not isinstance(wire, dict):
        raise SensorEventError("malformed", "each event must be a JSON object")
    device = _hex_address(_field(wire, "device", str))
    sequence = _uint(wire, "sequence", 64)
    if sequence == 0:
        raise SensorEventError("malformed", "sequence starts at 1")
    event_type = _field(wire, "eventType", str)
    if event_type not in EVENT_TYPES:
        raise SensorEventError(
            "malformed", f"eventType {event_type!r} is not one of {', '.join(EVENT_TYPES)}"
        )
    source_type = _field(wire, "sourceType", str)
    if source_type not in SOURCE_TYPES.values():
        raise SensorEventError(
            "malformed",
            f"sourceType {source_type!r} is not one of {', '.join(SOURCE_TYPES.values())}",
        )
    vehicle_type = wire.get("vehicleType", "")
    if vehicle_type not in VEHICLE_TYPES:
        raise SensorEventError(
            "malformed", f"vehicleType {vehicle_type!r} is not one of {VEHICLE_TYPES}"
        )
    confidence = _uint(wire, "confidenceBps", 16)
    if confidence > 10_000:
        raise SensorEventError("malformed", "confidenceBps must be 0..10000")
    lat, lon = _int(wire, "latE6", 32), _int(wire, "lonE6", 32)
    if not (-90_000_000 <= lat <= 90_000_000 and -180_000_000 <= lon <= 180_000_000):
        raise SensorEventError("malformed", "latE6/lonE6 must be a position in micro-degrees")
    occupied = _field(wire, "occupied", bool)
    plate_tag = ZERO_HASH
    if "plateTag" in wire:
        plate_tag = _bytes(wire, "plateTag", 32)
        if plate_tag == ZERO_HASH:
            raise SensorEventError("malformed", "plateTag must not be zero: omit it instead")
    event = SensorEvent(
        device=device,
        sequence=sequence,
        event_type=event_type,
        source_type=source_type,
        slot_id=_uint(wire, "slotId", 256),
        event_time_ms=_uint(wire, "eventTimeMs", 64),
        occupied=occupied,
        confidence_bps=confidence,
        lat_e6=lat,
        lon_e6=lon,
        vehicle_type=vehicle_type,
        evidence_hash=_bytes(wire, "evidenceHash", 32),
        plate_tag=plate_tag,
        event_id=_bytes(wire, "eventId", 32),
    )
    if event.event_id != derive_event_id(device, sequence):
        raise SensorEventError("malformed", "eventId must be keccak256(device ‖ uint64 sequence)")
    evidence = None
    if wire.get("evidence") is not None:
        text = _field(wire, "evidence", str)
        if len(text) > (MAX_EVIDENCE_BYTES * 4) // 3 + 4:
            raise SensorEventError(
                "oversized", f"evidence is larger than {MAX_EVIDENCE_BYTES} bytes"
            )
        try:
            evidence = base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise SensorEventError("malformed", f"evidence must be base64 ({exc})") from exc
        if evidence_hash(evidence) != event.evidence_hash:
            raise SensorEventError(
                "malformed", "evidenceHash is not the SHA-256 of the evidence bytes"
            )
    return SignedEvent(event, _bytes(wire, "signature", 65), evidence)


def _field(wire: dict[str, Any], name: str, kind: type) -> Any:
    if name not in wire:
        raise SensorEventError("malformed", f"field {name!r} is missing")
    value = wire[name]
    # bool is a subclass of int: never accept true/false where a number is wanted, or vice versa.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SensorEventError("malformed", f"field {name!r} must be a {kind.__name__}")
    return value


def _uint(wire: dict[str, Any], name: str, bits: int) -> int:
    value = _field(wire, name, int)
    if not 0 <= value < 1 << bits:
        raise SensorEventError("malformed", f"field {name!r} must be a uint{bits}")
    return value


def _int(wire: dict[str, Any], name: str, bits: int) -> int:
    value = _field(wire, name, int)
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise SensorEventError("malformed", f"field {name!r} must be an int{bits}")
    return value


def _bytes(wire: dict[str, Any], name: str, length: int) -> bytes:
    text = _field(wire, name, str)
    if not text.startswith("0x") or len(text) != 2 + 2 * length:
        raise SensorEventError("malformed", f"field {name!r} must be 0x and {length} hex bytes")
    try:
        return bytes.fromhex(text[2:])
    except ValueError as exc:
        raise SensorEventError("malformed", f"field {name!r} is not hex") from exc


def _hex_address(text: str) -> str:
    if not isinstance(text, str) or not text.startswith("0x") or len(text) != 42:
        raise SensorEventError("malformed", "device must be a 0x-prefixed 20-byte address")
    try:
        bytes.fromhex(text[2:])
    except ValueError as exc:
        raise SensorEventError("malformed", "device is not hex") from exc
    return text.lower()
