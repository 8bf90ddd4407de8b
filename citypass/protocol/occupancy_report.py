"""OccupancyOracle reports: build the bit-packed report from observed slot states, hash and sign it.

A report lists, for each 256-slot word it touches (slot `s` is word `s >> 8`, bit `s & 255`), a
mask of the slots observed and their values (1 = occupied). The oracle daemon builds one per
block period and the registered oracle signers sign its EIP-712 digest; the contract
(contracts/sensors/OccupancyOracle.sol) recomputes the same digest in `reportDigest`.

The report's struct hash and the signing use keccak and libsecp256k1 (coincurve) directly, as
citypass/protocol/sensor_events.py does, because the daemon signs on its hot path; the domain
separator is eth-account's (citypass/protocol/signing.py). Tests cross-check against eth-account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import coincurve
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from citypass.protocol.signing import ContractDomain, typed_struct

# Slot ids are 1..MAX_SLOT_ID, so the bitmap has 256 words (bit 0 of word 0 is never used).
MAX_SLOT_ID = 65_535
WORD_COUNT = (MAX_SLOT_ID >> 8) + 1
# Words per report: bounds a report's gas (~25k per fresh word) well under a block's limit.
MAX_REPORT_WORDS = 64

DOMAIN_NAME = "CityPass OccupancyOracle"
DOMAIN_VERSION = "1"
REPORT_TYPE_STRING = (
    "OccupancyReport(uint64 sequence,uint64 observedAt,uint256[] wordIndexes,"
    "uint256[] masks,uint256[] values)"
)
REPORT_TYPEHASH = keccak(REPORT_TYPE_STRING.encode())
REPORT_TYPES = typed_struct(REPORT_TYPE_STRING)
_UINT64_MAX = (1 << 64) - 1


class OccupancyReportError(ValueError):
    """A report that cannot be built or signed; the message says what to fix."""


@dataclass(frozen=True)
class OccupancyReport:
    """One report, exactly as the contract's `OccupancyReport` struct."""

    sequence: int
    observed_at: int
    word_indexes: tuple[int, ...]
    masks: tuple[int, ...]
    values: tuple[int, ...]

    def struct_hash(self) -> bytes:
        return keccak(
            REPORT_TYPEHASH
            + self.sequence.to_bytes(32, "big")
            + self.observed_at.to_bytes(32, "big")
            + _array_hash(self.word_indexes)
            + _array_hash(self.masks)
            + _array_hash(self.values)
        )

    def message(self) -> dict[str, Any]:
        """The typed-data message, as eth-account's `encode_typed_data` expects it."""
        return {
            "sequence": self.sequence,
            "observedAt": self.observed_at,
            "wordIndexes": list(self.word_indexes),
            "masks": list(self.masks),
            "values": list(self.values),
        }

    def slot_states(self) -> dict[int, bool]:
        """Slot id → occupied for every observed slot (the inverse of `build_report`)."""
        states: dict[int, bool] = {}
        for word, mask, value in zip(self.word_indexes, self.masks, self.values, strict=True):
            bits = mask
            while bits:
                low = bits & -bits
                bit = low.bit_length() - 1
                states[(word << 8) | bit] = bool(value & low)
                bits ^= low
        return states


class ReportDomain(ContractDomain):
    """The EIP-712 domain: which chain and which OccupancyOracle the report is for."""

    NAME = DOMAIN_NAME
    VERSION = DOMAIN_VERSION


def build_report(sequence: int, observed_at: int, observed: Mapping[int, bool]) -> OccupancyReport:
    """Pack slot id → occupied into a report: words ascending, mask = observed, value = occupied.

    Raises OccupancyReportError for a slot outside 1..MAX_SLOT_ID, no slots, more than
    MAX_REPORT_WORDS words (split the observations over several reports), or a sequence or
    time that does not fit a uint64."""
    if not 0 < sequence <= _UINT64_MAX:
        raise OccupancyReportError(f"sequence {sequence} must be 1..2**64-1 (reports count from 1)")
    if not 0 < observed_at <= _UINT64_MAX:
        raise OccupancyReportError(f"observed_at {observed_at} must be a Unix time in seconds")
    if not observed:
        raise OccupancyReportError("a report needs at least one observed slot")
    masks: dict[int, int] = {}
    values: dict[int, int] = {}
    for slot, occupied in observed.items():
        if isinstance(slot, bool) or not isinstance(slot, int) or not 0 < slot <= MAX_SLOT_ID:
            raise OccupancyReportError(f"slot id {slot!r} is outside 1..{MAX_SLOT_ID}")
        word, bit = slot >> 8, 1 << (slot & 255)
        masks[word] = masks.get(word, 0) | bit
        if occupied:
            values[word] = values.get(word, 0) | bit
    if len(masks) > MAX_REPORT_WORDS:
        raise OccupancyReportError(
            f"the slots span {len(masks)} words; a report carries at most {MAX_REPORT_WORDS}: "
            "split them over several reports"
        )
    words = tuple(sorted(masks))
    return OccupancyReport(
        sequence=sequence,
        observed_at=observed_at,
        word_indexes=words,
        masks=tuple(masks[w] for w in words),
        values=tuple(values.get(w, 0) for w in words),
    )


def report_digest(report: OccupancyReport, domain: ReportDomain) -> bytes:
    """The EIP-712 digest the signers sign and the contract's `reportDigest` returns."""
    return keccak(b"\x19\x01" + domain.separator + report.struct_hash())


def sign_report(report: OccupancyReport, private_key: bytes, domain: ReportDomain) -> bytes:
    """65-byte r‖s‖v signature (v 27/28, low s) of the report's digest."""
    if len(private_key) != 32:
        raise OccupancyReportError("private key must be 32 bytes")
    raw = coincurve.PrivateKey(private_key).sign_recoverable(
        report_digest(report, domain), hasher=None
    )
    return raw[:64] + bytes([raw[64] + 27])


def signer_address(private_key: bytes) -> str:
    """The checksummed address of a signing key (to sort co-signatures by signer)."""
    public = coincurve.PrivateKey(private_key).public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak(public)[-20:])


def sign_report_quorum(
    report: OccupancyReport, private_keys: list[bytes], domain: ReportDomain
) -> list[bytes]:
    """Signatures by several signers, ordered by signer address ascending as the contract needs."""
    ordered = sorted(private_keys, key=lambda key: int(signer_address(key), 16))
    return [sign_report(report, key, domain) for key in ordered]


def report_args(report: OccupancyReport) -> tuple:
    """The struct tuple for brownie/web3 calls: (sequence, observedAt, words, masks, values)."""
    return (
        report.sequence,
        report.observed_at,
        list(report.word_indexes),
        list(report.masks),
        list(report.values),
    )


def _array_hash(items: tuple[int, ...]) -> bytes:
    return keccak(b"".join(item.to_bytes(32, "big") for item in items))


def report_from_message(message: Mapping[str, Any]) -> OccupancyReport:
    """The inverse of `OccupancyReport.message()` (a stored or received report's fields)."""
    return OccupancyReport(
        sequence=message["sequence"],
        observed_at=message["observedAt"],
        word_indexes=tuple(message["wordIndexes"]),
        masks=tuple(message["masks"]),
        values=tuple(message["values"]),
    )


def check_report(report: OccupancyReport) -> None:
    """The contract's shape rules (`_checkReport`, without the chain's sequence and clock):
    OccupancyReportError names the first one broken, so a peer can refuse before signing."""
    if not 0 < report.sequence <= _UINT64_MAX:
        raise OccupancyReportError(f"sequence {report.sequence} must be 1..2**64-1")
    if not 0 < report.observed_at <= _UINT64_MAX:
        raise OccupancyReportError(f"observedAt {report.observed_at} must be a Unix time (s)")
    words = len(report.word_indexes)
    if not 0 < words <= MAX_REPORT_WORDS or not len(report.masks) == len(report.values) == words:
        raise OccupancyReportError(
            f"wordIndexes, masks and values must have the same length, 1..{MAX_REPORT_WORDS}"
        )
    previous = -1
    for word, mask, value in zip(report.word_indexes, report.masks, report.values, strict=True):
        if not previous < word < WORD_COUNT:
            raise OccupancyReportError(
                f"word index {word} must be ascending, unique and below {WORD_COUNT}"
            )
        if not 0 <= mask < 1 << 256 or not 0 <= value < 1 << 256:
            raise OccupancyReportError(f"word {word}: mask and value must be uint256")
        if value & ~mask:
            raise OccupancyReportError(f"word {word}: value sets bits outside the mask")
        previous = word
    if report.word_indexes[0] == 0 and report.masks[0] & 1:
        raise OccupancyReportError("slot 0 does not exist (slot ids start at 1)")


def recover_signer(report: OccupancyReport, signature: bytes, domain: ReportDomain) -> str:
    """The checksummed address whose key made `signature` (65 bytes r‖s‖v, v 27/28) over the
    report's digest, as the contract's ECDSA.tryRecover finds it."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise OccupancyReportError("a signature is 65 bytes r‖s‖v with v 27 or 28")
    try:
        public = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([signature[64] - 27]), report_digest(report, domain), hasher=None
        )
    except ValueError as exc:
        raise OccupancyReportError(f"the signature recovers no key ({exc})") from exc
    return to_checksum_address(keccak(public.format(compressed=False)[1:])[-20:])


def order_signatures(by_signer: Mapping[str, bytes]) -> list[bytes]:
    """Signatures keyed by signer address, ordered by address ascending as the contract needs."""
    return [by_signer[a] for a in sorted(by_signer, key=lambda address: int(address, 16))]
