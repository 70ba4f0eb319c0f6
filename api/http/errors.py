"""The gateway's one error shape, and the handlers that answer every error with it.

Every refusal is `{"error": <code>, "detail": <what was wrong>, ...extra}` with its HTTP status:

    ApiError                 its status, code and extra fields (api/errors.py: intake checks, queries)
    EvidenceError            its status and code, `Cache-Control: no-store` (api/store/evidence/store.py)
    PageError                the resolver's: the same JSON when the client asked for JSON (`Vary: Accept`,
                             `Cache-Control: no-cache`), else the error page (templates/error.html) in the
                             page's language (heading, message and advice are catalogue entries)
    RequestException         503 `chain_unavailable`: the chain node did not answer
    RequestValidationError   422 `invalid_request` (detail: the fields), or 400 `out_of_range` for an
                             integer the store cannot hold
    HTTP errors              404 `not_found`, 405 `method_not_allowed`, else `http_error`

`install(app)` registers them all; routes raise, they never build an error response themselves.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from requests.exceptions import RequestException
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ApiError, beyond_store, out_of_range
from ..store.evidence.store import EvidenceError
from .pages import i18n, page_language, render

# A page route's error depends on the Accept header and must not be cached as the answer.
PAGE_ERROR_HEADERS = {"Vary": "Accept", "Cache-Control": "no-cache"}


def error_response(
    status: int, code: str, detail: Any, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The one error shape."""
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status, headers=headers)


class PageError(Exception):
    """An error of a route that serves pages to people (the resolver): for a client that asked for
    JSON (`as_json`) the one shape with the non-empty `shown` fields; else the error page, with a
    heading, a message (default: the detail), advice, and the GTIN and serial it was about."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        heading: str,
        *,
        as_json: bool,
        advice: str | None = None,
        message: str | None = None,
        **shown: str | None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.heading = status, code, detail, heading
        self.as_json, self.advice, self.message, self.shown = as_json, advice, message, shown


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Pydantic's own entries can hold the offending input, which may not be JSON-serialisable.
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]


def _api_error(exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _refused(_: Request, exc: ApiError) -> JSONResponse:
        return _api_error(exc)

    @app.exception_handler(EvidenceError)
    async def _evidence(_: Request, exc: EvidenceError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.detail, headers={"Cache-Control": "no-store"}, **exc.extra)

    @app.exception_handler(PageError)
    async def _page(request: Request, exc: PageError) -> Response:
        if exc.as_json:
            return error_response(
                exc.status,
                exc.code,
                exc.detail,
                headers=PAGE_ERROR_HEADERS,
                **{k: v for k, v in exc.shown.items() if v},
            )
        with i18n.use(page_language(request)):  # heading, message and advice are catalogue entries (N_)
            context = {
                "heading": i18n._(exc.heading),
                "message": i18n._(exc.message) if exc.message else None,
                "detail": exc.detail,
                "advice": i18n._(exc.advice) if exc.advice else None,
                "gtin": exc.shown.get("gtin"),
                "serial": exc.shown.get("serial"),
            }
            return render(request, "error.html", context, status_code=exc.status, headers=PAGE_ERROR_HEADERS)

    @app.exception_handler(RequestException)
    async def _chain_down(_: Request, exc: RequestException) -> JSONResponse:
        return error_response(503, "chain_unavailable", f"the chain node did not answer: {type(exc).__name__}")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        beyond = list(dict.fromkeys(str(e["loc"][-1]) for e in exc.errors() if beyond_store(e)))
        if beyond:
            return _api_error(out_of_range(", ".join(beyond)))
        return error_response(422, "invalid_request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))
