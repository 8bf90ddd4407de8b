"""The address book (names of organisations' addresses, kept by staff in the citypass-api) from
Python: the operator's script scripts/address_book.py and the demo, which fills the book the
way an operator would (signed in with the operator's key, over HTTP)."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import TypeAdapter, ValidationError

from api.schemas.address_book import Name

from .api_client import StaffApi

PATH = "/v1/staff/address-book"
_NAME = TypeAdapter(Name)


def name_text(text: str) -> str:
    """An argparse type: a name the API accepts (1-64 letters, digits, spaces, `.,&()'-/·`)."""
    try:
        return _NAME.validate_python(text)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise argparse.ArgumentTypeError(f"{text!r} {problem}") from None


def put_name(
    api: StaffApi, address: str, name: str, name_ko: str | None, kind: str
) -> dict[str, Any]:
    """Create or replace `address`'s entry; the API's answer (the entry)."""
    body = {"name": name, "nameKo": name_ko, "kind": kind}
    return api.call("PUT", f"{PATH}/{address}", json=body, what=f"name {address}")


def remove_name(api: StaffApi, address: str) -> dict[str, Any]:
    return api.call("DELETE", f"{PATH}/{address}", what=f"remove the name of {address}")


def entries(api: StaffApi) -> list[dict[str, Any]]:
    return api.call("GET", "/v1/address-book", what="read the address book")["entries"]
