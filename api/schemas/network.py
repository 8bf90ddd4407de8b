"""The ledger as a wallet adds it (EIP-3085 `wallet_addEthereumChain` parameters)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class NativeCurrencyPublic(BaseModel):
    name: str
    symbol: str
    decimals: int


class NetworkPublic(BaseModel):
    chainId: str = Field(description="0x-hex, as wallet_addEthereumChain and eth_chainId take it")
    chainIdDecimal: int
    chainName: str
    rpcUrls: list[str] = Field(description="the node's public JSON-RPC URL for wallets")
    nativeCurrency: NativeCurrencyPublic
