"""EIP-712 typed data as wallets take it (eth_signTypedData_v4)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class TypedDataPublic(BaseModel):
    domain: dict[str, Any]
    types: dict[str, list[dict[str, str]]]
    primaryType: str
    message: dict[str, Any]
