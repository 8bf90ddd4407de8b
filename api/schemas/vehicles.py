"""Registered vehicles: what a resident sends (a plate, hashed at once and never stored) and
what she and the oracle read back (keyed-hash tags per KST month, never the plate)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from citypass.protocol.plate_tags import GRAMMAR, PlateFormatError, normalise_plate

PLATE_MAX = 32


def _plate(value: str) -> str:
    try:
        return normalise_plate(value)
    except PlateFormatError:
        # The message names what is wanted and never repeats the value (it is a plate).
        raise ValueError(f"must be {GRAMMAR}") from None


class VehicleCreate(BaseModel):
    model_config = {"extra": "forbid"}

    plate: Annotated[str, Field(min_length=1, max_length=PLATE_MAX), AfterValidator(_plate)] = (
        Field(
            description="the vehicle's Korean plate (like 12가3456, 123가 4567 or 서울12가3456); "
            "hashed with this month's and the next months' keys, then forgotten"
        )
    )


class MonthTag(BaseModel):
    month: str = Field(description="the KST month YYYY-MM the tag is valid in")
    tag: str = Field(description="HMAC-SHA256(month key, normalised plate), 0x hex")


class VehiclePublic(BaseModel):
    vehicleId: int
    registeredAt: int = Field(description="unix seconds")
    tags: list[MonthTag] = Field(
        description="one tag per month, from this month; register again before the last one ends"
    )


class VehiclesPublic(BaseModel):
    vehicles: list[VehiclePublic]


class VehicleTagsPublic(BaseModel):
    address: str
    month: str
    tags: list[str] = Field(description="the address's vehicles' tags in that month, 0x hex")
