"""Operational endpoints at the root: /health and Prometheus /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import StateDep
from api.errors import ApiError

router = APIRouter(tags=["system"])


@router.get("/health", summary="Ledger reachable and indexer lag in blocks")
def health(state: StateDep) -> JSONResponse:
    body: dict[str, Any] = {"chainId": state.ledger.chain_id}
    indexed = state.indexer.cursor()[0]
    body["indexedBlock"] = indexed
    try:
        head = state.ledger.head()
        body.update(ledger="ok", head=head, indexerLag=max(0, head - indexed))
    except ApiError as exc:
        body.update(ledger="unreachable", error=exc.message)
    follows = state.settings.follows_chain
    body["follower"] = (
        "stopped: " + state.follower_error if state.follower_error else
        ("running" if follows else "external")
    )  # fmt: skip
    # thread (inside this process), process (a child `python -m indexer run`) or external.
    body["followMode"] = state.settings.follow_mode if follows else "external"
    # A read replica serves public reads only (api/replica.py).
    body["role"] = "replica" if state.settings.replica else "primary"
    body["relayer"] = state.relayer.address if state.relayer else None
    ok = body["ledger"] == "ok" and state.follower_error is None
    if ok and not follows and body["indexerLag"] > state.settings.stale_after_blocks:
        ok = False
        body["error"] = (
            f"the read model is {body['indexerLag']} blocks behind the node (more than "
            f"CITYPASS_API_STALE_AFTER_BLOCKS={state.settings.stale_after_blocks}): the process "
            "that follows the chain for it (the primary API or `python -m indexer run`) is not "
            "keeping up; check it"
        )
    body["ok"] = ok
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    # Documented as what it is (the Prometheus text format), so clients and fuzzers know.
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}, "description": "OK"}},
)
def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
