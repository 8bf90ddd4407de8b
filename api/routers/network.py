"""`GET /v1/network`: the ledger's chain as a wallet adds it (EIP-3085), so an app can call
`wallet_addEthereumChain` without hard-coding the chain id or the node's public URL."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import LedgerDep, StateDep
from api.schemas.network import NativeCurrencyPublic, NetworkPublic

router = APIRouter(tags=["network"])

CHAIN_NAME = "CityPass Ledger"
# Members never pay gas (the relayer does); wallets still require a native currency to show.
NATIVE_CURRENCY = NativeCurrencyPublic(name="CityPass Gas", symbol="CPG", decimals=18)


@router.get(
    "/v1/network",
    response_model=NetworkPublic,
    summary="The chain's parameters for wallet_addEthereumChain (chain id, name, public RPC URL)",
)
async def network(ledger: LedgerDep, state: StateDep) -> NetworkPublic:
    chain_id = ledger.chain_id
    return NetworkPublic(
        chainId=hex(chain_id), chainIdDecimal=chain_id, chainName=CHAIN_NAME,
        rpcUrls=[state.settings.wallet_rpc_url], nativeCurrency=NATIVE_CURRENCY,
    )  # fmt: skip
