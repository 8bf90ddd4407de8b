"""A home space's exact spot and access instructions, as its owner sets them and as she and her
lessees read them (api/routers/spots.py).

Instructions are plain text, 1–500 characters: any letters (Hangul included), digits,
punctuation, spaces and line breaks; no markup (`<`, `>`) and no other control characters, so
no client can be made to render them as anything but text."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from api.private_spots.tables import INSTRUCTIONS_MAX


def _plain_text(value: str) -> str:
    for position, ch in enumerate(value, start=1):
        if ch == "\n" or (ch.isprintable() and ch not in "<>"):
            continue
        what = "markup" if ch in "<>" else "a control or invisible character"
        raise ValueError(
            f"has {what} ({ch!r}, U+{ord(ch):04X}) at position {position}: write plain text "
            "(letters, digits, punctuation, spaces and line breaks)"
        )
    if not value.strip():
        raise ValueError("is blank: say how a lessee finds and enters the space")
    return value.strip()


Instructions = Annotated[
    str, Field(min_length=1, max_length=INSTRUCTIONS_MAX), AfterValidator(_plain_text)
]


class SpotUpdate(BaseModel):
    model_config = {"extra": "forbid"}

    lat: float = Field(ge=-90, le=90, description="the space's exact WGS84 latitude, degrees")
    lon: float = Field(ge=-180, le=180, description="the space's exact WGS84 longitude, degrees")
    instructions: Instructions = Field(
        description="how a lessee finds and enters the space (plain text, at most "
        f"{INSTRUCTIONS_MAX} characters), e.g. 'Gate code 4821; the left space by the wall'"
    )


class SpotPublic(BaseModel):
    slotId: int
    lat: float = Field(description="exact latitude (never on chain)")
    lon: float = Field(description="exact longitude (never on chain)")
    cellLat: float = Field(description="the slot's coarse cell on chain: its centre's latitude")
    cellLon: float = Field(description="the cell centre's longitude")
    instructions: str
    updatedAt: int = Field(description="when the owner last set it (Unix seconds)")
    readAs: Literal["owner", "lessee"] = Field(description="why this session may read it")
    leaseId: int | None = Field(
        default=None, description="for a lessee: the lease that lets her read it"
    )
    until: int | None = Field(
        default=None,
        description="for a lessee: when the lease ends (Unix seconds); after that (or once it "
        "is cancelled, settled or a no-show) the spot is no longer hers to read",
    )
