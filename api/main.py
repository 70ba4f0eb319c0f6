"""The gateway application: `create_app()` builds the services (api/services.py) once, and
registers the routers and the error handlers.

    uvicorn --factory api.main:app --host 127.0.0.1 --port 8000     # settings from RT_* variables
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from .http import errors
from .http.auth import routes as auth
from .http.limits import BodyLimit
from .http.pages import analytics_page, desk
from .http.routes import (
    analytics,
    assistant,
    audit,
    cases,
    customs,
    documents,
    evidence,
    health,
    insurance,
    messages,
    reason_codes,
    resolver,
    return_flow,
    shipping,
    station,
)
from .services import Services
from .settings import Settings, SettingsError

log = logging.getLogger("returntrace.gateway")

# The gateway's routers, in the order a request is matched against them.
ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    messages.router,
    documents.router,
    evidence.router,
    customs.router,  # before the resolver, whose /01/ path takes every path under it
    resolver.router,
    audit.router,
    assistant.router,
    return_flow.router,
    auth.router,
    cases.router,
    desk.router,
    shipping.router,
    insurance.router,
    station.router,
    analytics.router,
    analytics_page.router,
    reason_codes.router,
    messages.orders_router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.open(settings)
        app.state.services = services  # the only thing on app.state: routes reach it through api.http.deps
        services.start()
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="ReturnTrace gateway",
        version="0.1.0",
        summary="Signed lifecycle events in, verified histories out. The chain is the source of truth.",
        lifespan=lifespan,
    )
    errors.install(app)  # every error in the one shape (api/http/errors.py)
    app.add_middleware(BodyLimit, most=settings.max_body_bytes)  # no body past it is read (api/http/limits.py)
    for router in ROUTERS:
        app.include_router(router)
    return app


def app() -> FastAPI:  # uvicorn --factory api.main:app
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:  # a bad RT_* value stops the start, naming the variable
        raise SystemExit(str(exc)) from None
    return create_app(settings)
