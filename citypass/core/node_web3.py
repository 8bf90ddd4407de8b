"""The web3.py client every service opens on a ledger node (the API, the indexer, the oracle
daemon, the Besu export).

web3.py's validation middleware asks the node for its chain id before every `eth_call`,
`eth_estimateGas` and `eth_sendTransaction`: one more round trip through the node's permission
gateway per read. A node's chain id is fixed by its genesis, so the client keeps the first
answer (web3.py's own request cache, allowed for `eth_chainId` and nothing else: block and
state reads are never cached). web3.py keys that cache by thread, so each of a service's
worker threads asks once."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint


def cache_the_chain_id_only(provider: Any) -> None:
    """Let `provider` keep its first `eth_chainId` answer and cache nothing else. No block-depth
    threshold: it is for block reads (never cached here), and finding it would cost a chain id
    request of its own."""
    provider.cacheable_requests = {RPCEndpoint("eth_chainId")}
    provider.request_cache_validation_threshold = None
    provider.cache_allowed_requests = True


def node_web3(rpc_url: str, timeout: float) -> Web3:
    """web3.py over HTTP to `rpc_url` (which may carry an access token), `timeout` seconds per
    request, asking the node's chain id once."""
    provider = Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout})
    cache_the_chain_id_only(provider)
    return Web3(provider)
