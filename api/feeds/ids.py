"""Stable public identifiers of what the feeds publish.

NGSI-LD wants URNs (urn:ngsi-ld:<Type>:<chain>:<id>), CDS wants UUIDs: name-based UUIDs (v5)
under one CityPass namespace make the same slot or lot the same UUID on every request and every
API instance, without storing a mapping.
"""

from __future__ import annotations

import uuid

# uuid5(NAMESPACE_URL, "https://citypass.example/ledger"): fixed forever, ids depend on it.
CITYPASS_NAMESPACE = uuid.UUID("cbe0f517-fbf5-5d24-96a9-910a4df4314d")


def urn(entity_type: str, chain_id: int, local_id: int | str) -> str:
    return f"urn:ngsi-ld:{entity_type}:{chain_id}:{local_id}"


def parse_urn(value: str) -> tuple[str, int, str] | None:
    """(type, chain id, local id) of one of our URNs, or None when it is not one."""
    parts = value.split(":")
    if len(parts) != 5 or parts[0] != "urn" or parts[1] != "ngsi-ld":
        return None
    try:
        return parts[2], int(parts[3]), parts[4]
    except ValueError:
        return None


def stable_uuid(chain_id: int, kind: str, local_id: int | str) -> str:
    return str(uuid.uuid5(CITYPASS_NAMESPACE, f"{chain_id}:{kind}:{local_id}"))


def curb_space_id(chain_id: int, slot_id: int) -> str:
    return stable_uuid(chain_id, "slot", slot_id)


def curb_zone_id(chain_id: int, site_kind: str, lot_id: int) -> str:
    return stable_uuid(chain_id, f"zone:{site_kind}", lot_id)


def device_uuid(chain_id: int, address: str) -> str:
    return stable_uuid(chain_id, "device", address.lower())


def operator_uuid(chain_id: int, address: str) -> str:
    return stable_uuid(chain_id, "operator", address.lower())
