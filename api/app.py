"""`create_app(settings)`: the citypass-api FastAPI application.

Everything residents use lives under /v1; /health, /metrics, /docs, /redoc and /openapi.json
at the root. Errors are domain exceptions (api.errors) mapped to one JSON shape here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.access_log import RequestMetrics
from api.docs_pages import install_docs
from api.errors import ApiError, RateLimited, error_body
from api.explorer import dashboard, landing, pages, sign_in
from api.explorer import routes as explorer
from api.i18n.web import LocaleMiddleware
from api.keystore import load_keystore, load_treasury_keystore
from api.ledger import Ledger
from api.metrics import Metrics
from api.payments.cashouts import CashOuts
from api.payments.tables import create_tables as create_payment_tables
from api.payments.topups import TopUps
from api.payments.treasury import Treasury
from api.ratelimit import TokenBucket
from api.relayer import Relayer
from api.replica import REPLICA_ROUTERS, not_on_replica
from api.resident_app import install_resident_app
from api.routers import (
    address_book,
    applications,
    auth,
    cashouts,
    city,
    clock,
    evidence,
    feeds_cds,
    feeds_gbfs,
    feeds_ngsi,
    inspector,
    kpis,
    members,
    mobility,
    network,
    operator,
    owners,
    prepare,
    quote,
    relay,
    retention,
    slots,
    spots,
    system,
    topups,
    typed_data,
    vehicles,
    witnesses,
)  # fmt: skip
from api.settings import Settings
from api.siwe.roles import RoleChecker
from api.siwe.service import SiweService
from api.siwe.store import NonceStore, SessionStore
from api.siwe.tables import create_tables
from api.state import AppState
from citypass.core.rpc_url import redacted
from indexer import Indexer
from indexer.search_index import SearchIndex

log = logging.getLogger("api")


def build_state(settings: Settings, *, with_relayer: bool = True) -> AppState:
    indexer = Indexer(
        settings.db, settings.rpc_url, settings.deployment, poll_interval=settings.poll_interval
    )
    ledger = Ledger(settings.rpc_url, indexer.deployment)
    metrics = Metrics()
    relayer = None
    if with_relayer:
        account = load_keystore(settings.keystore_path, settings.password)
        relayer = Relayer(ledger, account, metrics.relay_outcome, metrics.relay_batch)
    return AppState(
        settings=settings, ledger=ledger, indexer=indexer, relayer=relayer, metrics=metrics,
        signer_limit=TokenBucket(settings.signer_rate, settings.signer_burst),
        ip_limit=TokenBucket(settings.ip_rate, settings.ip_burst),
    )  # fmt: skip


def build_siwe(settings: Settings, state: AppState) -> SiweService:
    """Staff sessions (EIP-4361): nonces and sessions in the read-model database (they survive
    a restart), roles from CityAccess."""
    create_tables(state.engine)
    return SiweService(
        settings.siwe_expected_domain, state.ledger.chain_id,
        NonceStore(state.engine, settings.siwe_nonce_ttl_seconds), SessionStore(state.engine),
        RoleChecker(state.ledger.contracts["access"], settings.role_cache_seconds),
        settings.session_ttl_seconds,
    )  # fmt: skip


def build_payments(settings: Settings, state: AppState) -> tuple[TopUps | None, CashOuts | None]:
    """Cash-outs when this API holds the treasury key; top-ups when it also knows a payment
    provider (checkout URL and webhook secret). An API without them serves neither (their
    endpoints are not in its OpenAPI document) and logs why."""
    account = load_treasury_keystore(settings.treasury_keystore_path, settings.treasury_password)
    if account is None:
        log.info("no treasury keystore: top-ups and cash-outs are off",
                 extra={"keystore": str(settings.treasury_keystore_path)})  # fmt: skip
        return None, None
    create_payment_tables(state.engine)
    treasury = Treasury(state.ledger, account, state.engine)
    access = state.ledger.contracts["access"]
    cashouts_service = CashOuts(state.engine, settings, treasury, access)
    if not (settings.payments_webhook_secret and settings.payments_checkout_url):
        log.warning(
            "no payment provider: top-ups are off; set CITYPASS_API_PAYMENTS_CHECKOUT_URL and "
            "CITYPASS_API_PAYMENTS_WEBHOOK_SECRET"
        )
        return None, cashouts_service
    return TopUps(state.engine, settings, treasury, access), cashouts_service


def create_app(settings: Settings, state: AppState | None = None) -> FastAPI:
    # A read replica holds no key: no relayer, no treasury (api/replica.py).
    state = state or build_state(settings, with_relayer=not settings.replica)
    # Slot search answers from memory (indexer/search_index.py); built on the first search.
    search_index = SearchIndex(state.engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.follows_chain:
            state.start_follower()
        log.info(
            "serving",
            extra={
                "chain_id": state.ledger.chain_id, "rpc": redacted(settings.rpc_url),
                "relayer": state.relayer.address if state.relayer else None,
                "treasury": _app.state.cashouts.treasury_address if _app.state.cashouts else None,
                "follow": settings.follows_chain, "replica": settings.replica,
                "cors": settings.cors_allowed,
            },
        )  # fmt: skip
        try:
            yield
        finally:
            search_index.close()
            state.stop()
            log.info("stopped")

    app = FastAPI(
        title="citypass-api",
        version="1",
        summary="CityPass Ledger API for residents' wallet apps",
        # /docs and /redoc are served with local assets by api/docs_pages.py.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.citypass = state
    install_docs(app, "/openapi.json")
    app.state.search_index = search_index
    app.state.ledger_clock = slots.LedgerClock(state.ledger)
    # Each router carries its full /v1/... prefix (not an include prefix) so the matched route's
    # path is the full template the request metrics are labelled with.
    app.state.siwe = build_siwe(settings, state)
    if settings.replica:
        app.state.topups = app.state.cashouts = None
        for router in REPLICA_ROUTERS:
            app.include_router(router)
    else:
        _install_primary_routes(app, settings, state)
    _install_errors(app)
    # The explorer's, dashboard's and resident app's language (api/i18n), inside the metrics.
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(RequestMetrics, metrics=state.metrics)
    # Added last so it is outermost: preflights are answered before anything else runs.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_allowed,
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    return app


def _install_primary_routes(app: FastAPI, settings: Settings, state: AppState) -> None:
    """Every router, the payments' when this API holds the treasury key, and the resident app."""
    app.state.topups, app.state.cashouts = build_payments(settings, state)
    for router in (
        slots.router, typed_data.router, relay.router, members.router, owners.router,
        mobility.router, auth.router, operator.router, inspector.router, city.router,
        system.router, kpis.router, landing.router, explorer.router, dashboard.router,
        applications.router, clock.router, quote.router, prepare.router, network.router,
        address_book.router, sign_in.router, spots.router, retention.router, vehicles.router, evidence.router,
        witnesses.router,
    ):  # fmt: skip
        app.include_router(router)
    # Standard feeds: FIWARE NGSI-LD, Curb Data Specification, GBFS v3.0 (api/feeds).
    for router in (feeds_ngsi.router, feeds_cds.router, feeds_gbfs.router):
        app.include_router(router)
    if app.state.topups is not None:
        app.include_router(topups.router)
    if app.state.cashouts is not None:
        app.include_router(cashouts.router)
    install_resident_app(app)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def domain_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return JSONResponse(error_body(exc.code, exc.message), exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            where = ".".join(
                str(part) for part in error["loc"] if part not in ("query", "body", "path")
            )
            problems.append(f"{where or 'body'}: {error['msg']}")
        if pages.is_page(request.url.path):  # a browser reads it: HTML like the page's errors
            return pages.invalid_page_request(request, "; ".join(problems))
        return JSONResponse(error_body("validation", "; ".join(problems)), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        unrouted = exc.status_code == 404 and message == "Not Found"
        if unrouted and request.app.state.citypass.settings.replica:
            # Not one of the replica's routes, pages included: the primary's job (421).
            return await domain_error(request, not_on_replica(request.method, request.url.path))
        if pages.is_page(request.url.path):
            return pages.page_http_error(request, exc.status_code, message, exc.headers)
        if unrouted:
            message = "no such endpoint; see /docs for the API"
        return JSONResponse(error_body(code, message), exc.status_code, headers=exc.headers)
