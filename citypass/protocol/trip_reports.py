"""The operator's EIP-712 end report of a trip (TripSettlement), as operators' back ends sign it.

Used by tests, the gas benchmark and the demo; a vehicle's back end signs the same typed data."""

from __future__ import annotations

from citypass.protocol.signing import Signature, domain, sign_typed, typed_struct

TRIP_END_TYPES = typed_struct("TripEnd(uint256 tripId,uint64 endedAt,int64 distanceMeters)")


def sign_trip_end(
    private_key: bytes | str,
    *,
    settlement_address: str,
    chain_id: int,
    trip_id: int,
    ended_at: int,
    distance_meters: int,
) -> Signature:
    """The operator's signature over (tripId, endedAt, distanceMeters) for `endTrip`."""
    return sign_typed(
        private_key,
        domain("CityPassTripSettlement", "1", chain_id, settlement_address),
        TRIP_END_TYPES,
        {"tripId": trip_id, "endedAt": ended_at, "distanceMeters": distance_meters},
    )
