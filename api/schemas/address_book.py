"""The address book's entries as staff write them and everyone reads them.

A name is 1–64 characters: letters of any script (Hangul included), digits, single spaces
inside, and the punctuation organisations' names use (`. , & ( ) ' - / ·`); no control
characters, no leading or trailing space. Names are of organisations only (the API refuses to
name a resident), so they are public."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, Field

from api.address_book.tables import KINDS, NAME_MAX

PUNCTUATION = ".,&()'-/·"
Kind = Literal["stakeholder", "mobility_operator", "lot_operator", "contract", "organisation"]
assert get_args(Kind) == KINDS  # one list, two spellings


def _name(value: str) -> str:
    for position, ch in enumerate(value, start=1):
        if ch.isalnum() or ch == " " or ch in PUNCTUATION:
            continue
        what = "a control or invisible character" if not ch.isprintable() else repr(ch)
        raise ValueError(
            f"has {what} (U+{ord(ch):04X}) at position {position}: use letters, digits, "
            f"spaces and {' '.join(PUNCTUATION)} only"
        )
    if value != value.strip():
        raise ValueError("starts or ends with a space: remove it")
    if not any(ch.isalpha() for ch in value):
        raise ValueError("has no letter: write the organisation's name")
    return value


Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(_name)]


class AddressBookEntryCreate(BaseModel):
    model_config = {"extra": "forbid"}

    name: Name = Field(description="the name in English, e.g. 'Sangsalmi village enterprise'")
    nameKo: Name | None = Field(
        default=None, description="the name in Korean, e.g. '상살미사람들' (optional)"
    )
    kind: Kind = Field(description=" | ".join(KINDS))


class AddressBookEntryPublic(BaseModel):
    address: str
    name: str
    nameKo: str | None
    kind: Kind
    updatedAt: int = Field(description="Unix seconds")
    updatedBy: str = Field(description="the staff address that wrote the entry")


class AddressBookPublic(BaseModel):
    entries: list[AddressBookEntryPublic]
