"""The ledger's clock beside the wall clock."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ClockPublic(BaseModel):
    ledgerTime: int = Field(description="the latest block's timestamp, Unix seconds")
    ledgerTimeIso: str = Field(description="the same in ISO 8601, KST")
    blockNumber: int = Field(description="the latest block")
    wallTime: int = Field(description="this server's clock, Unix seconds")
    wallTimeIso: str
    ledgerAheadSeconds: int = Field(
        description="ledgerTime − wallTime: positive when the ledger's clock runs ahead"
    )
    note: str
