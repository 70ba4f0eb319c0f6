"""The gateway application: `create_app()` wires settings, chain, outbox, relayer and routers.

    uvicorn api.main:app --host 127.0.0.1 --port 8000     # settings from RT_* variables
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from requests.exceptions import RequestException

from . import errors
from .chain import Chain, ChainReader
from .db.index import SqliteIndex
from .db.outbox import OutboxNotDrained, SqliteOutbox
from .evidence import EvidenceStore
from .indexer import Indexer, indexer_for
from .intake import Intake
from .legacy import Legacy, legacy_deployments
from .relayer import Relayer
from .routes import audit, evidence, health, intake, resolver
from .settings import Settings
from .unit_view import make_unit_views

log = logging.getLogger("returntrace.gateway")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        chain = Chain.connect(settings.rpc_url, settings.manifest, settings.request_rpc)
        previous = legacy_deployments(settings)  # a wrong legacy manifest stops the start before anything is opened
        # The relayer and the indexer wait longer for the node, on web3 clients of their own: a
        # frozen node holds a worker's round, never a request (README, Configuration).
        worker_chain = Chain.connect(settings.rpc_url, settings.manifest, settings.worker_rpc)
        outbox = SqliteOutbox(settings.database)
        try:
            outbox.bind(chain.deployment)
        except OutboxNotDrained:
            outbox.close()
            raise
        reader = ChainReader(chain)
        app.state.settings, app.state.chain, app.state.reader, app.state.outbox = settings, chain, reader, outbox
        app.state.intake = Intake(reader, outbox, settings.min_deadline_margin)
        app.state.evidence = EvidenceStore(settings.evidence_dir, settings.ipfs_api, settings.max_upload_bytes)
        app.state.relayer = None
        if settings.relayer_key:
            app.state.relayer = Relayer(
                worker_chain, outbox, settings.relayer_key, settings.batch_max_events, settings.batch_interval, settings.pause_before_broadcast,
                ChainReader(worker_chain),
            )
            if settings.relay:
                app.state.relayer.start()
        index = SqliteIndex(settings.index_database)
        app.state.index = index
        app.state.intake.index = index  # names the parcel a unit is already packed in (409 already_packed)
        # This process's indexer reads (its block for /readyz) and indexes on demand (index_once);
        # the one that follows the chain runs in a process of its own (api.worker).
        app.state.indexer = Indexer(worker_chain, index, settings.index_interval, settings.index_block_range, settings.index_confirmations)
        app.state.unit_views = make_unit_views(index, chain, settings)
        app.state.legacy = [Legacy.open(d, settings, app.state.unit_views.chain_records.reads) for d in previous]
        app.state.unit_views.previous = tuple(legacy.views for legacy in app.state.legacy)
        if settings.index:
            app.state.indexer.start_in_process(partial(indexer_for, replace(settings, relayer_key=None)))
            for legacy in app.state.legacy:  # registries no longer written: little to follow
                legacy.indexer.start()
        try:
            yield
        finally:
            app.state.indexer.stop()
            for legacy in app.state.legacy:
                legacy.close()
            if app.state.relayer:
                app.state.relayer.stop()
            outbox.close()
            index.close()

    app = FastAPI(
        title="ReturnTrace gateway",
        version="0.1.0",
        summary="Signed lifecycle events in, verified histories out. The chain is the source of truth.",
        lifespan=lifespan,
    )
    errors.install(app)

    @app.exception_handler(RequestException)
    async def _chain_down(_: Request, exc: RequestException) -> JSONResponse:
        return JSONResponse({"error": "chain_unavailable", "detail": f"the chain node did not answer: {type(exc).__name__}"}, status_code=503)

    for module in (health, intake, evidence, resolver, audit):
        app.include_router(module.router)
    app.include_router(intake.orders_router)
    return app


def app() -> FastAPI:  # uvicorn --factory api.main:app
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app()
