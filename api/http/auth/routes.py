"""Sign-In with Ethereum's routes.

GET    /v1/auth/nonce     a single-use nonce (10 minutes) and what the message must say;
                          429 rate_limited past RT_SIGNIN_BURST / RT_SIGNIN_RATE per client,
                          503 sign_in_busy past RT_SIGNIN_MAX_NONCES for all
POST   /v1/auth/siwe      {"message": <EIP-4361 text>, "signature": <0x personal_sign>}
                          200 {"account", "expiresAt", "token"} + the session cookie
                          400 siwe_malformed   401 siwe_wrong_domain | siwe_wrong_uri | siwe_wrong_chain |
                          siwe_expired | siwe_not_yet_valid | siwe_bad_signature | siwe_nonce_unknown
GET    /v1/auth/session   the signed-in account, its roles and organisation at a stated block
DELETE /v1/auth/session   ends the session (the bearer's and the cookie's, when a request sends both)
POST   /v1/auth/sign-out  the pages' sign-out form: ends the session as DELETE does, then 303 to the form's
                          `next` (a path of this gateway; without one: 200 {"signedOut"}); 403 cross_origin
                          from a page of another origin (the session stays)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from siwe import generate_nonce

from ...errors import ApiError
from ...store.buckets import retry_after
from ...store.sessions import NoncesExhausted, Session
from ..deps import ServicesDep
from ..limits import rate_limited
from ..responses import SessionOut, SignedOutOut, SignInOut, SiweNonceOut
from . import siwe
from .session import (
    COOKIE,
    CurrentAccount,
    CurrentStanding,
    cookie_from_another_origin,
    cookie_name,
    cross_origin,
    delete_cookies,
    new_token,
    set_cookie,
    token_of,
)

router = APIRouter(tags=["sign-in"])

STATEMENT = "Sign in to the ReturnTrace return desk."


class SignIn(BaseModel):
    message: str = Field(max_length=4096)
    signature: str = Field(max_length=1024)


@router.get(
    "/v1/auth/nonce",
    response_model=SiweNonceOut,
    summary="A single-use nonce for a Sign-In with Ethereum message",
    # Each nonce is a stored row until used or expired: a client may not ask for them without bound.
    dependencies=[Depends(rate_limited(lambda s: s.signin_limit, "sign-in nonces"))],
)
def nonce(
    services: ServicesDep,
    response: Response,
    address: str | None = Query(None, pattern=r"^0x[0-9a-fA-F]{40}$", description="also write the message for it"),
) -> dict[str, Any]:
    value = generate_nonce() + generate_nonce()  # 22 alphanumerics, ~130 bits
    try:
        expires_at = services.sessions.add_nonce(
            value, siwe.MAX_AGE.total_seconds(), services.settings.signin_max_nonces
        )
    except NoncesExhausted as exc:
        # Each client is within its bucket and still the nonces pile up: many addresses at once.
        raise ApiError(
            503, "sign_in_busy", f"{exc}: try again when some expire", headers={"Retry-After": retry_after(exc.wait)}
        ) from None
    expected = siwe.Expected.of(services.settings.public_url, services.chain.chain_id)
    response.headers["Cache-Control"] = "no-store"
    # A convenience for wallets and pages without a keccak of their own (EIP-55): the canonical text to sign.
    # The gateway trusts none of it back: POST /v1/auth/siwe checks every field.
    message = None
    if address is not None:
        message = siwe.message_for(expected, to_checksum_address(address), value, STATEMENT)
    return {
        "message": message,
        "nonce": value,
        "expiresAt": expires_at,
        "domain": expected.domain,
        "uri": expected.origin,
        "chainId": expected.chain_id,
        "version": "1",
        "statement": STATEMENT,
    }


@router.post("/v1/auth/siwe", response_model=SignInOut, summary="Open a session with a signed EIP-4361 message")
def sign_in(body: SignIn, request: Request, services: ServicesDep, response: Response) -> dict[str, Any]:
    # A page of another origin of the site would sign the browser in as its own account (whose session then
    # receives what the person uploads and says): the same rule as a change made with the cookie.
    if cookie_from_another_origin(request):
        raise cross_origin()
    settings = services.settings
    expected = siwe.Expected.of(settings.public_url, services.chain.chain_id)
    try:
        verified = siwe.verify(body.message, body.signature, expected, services.sessions.use_nonce)
    except siwe.SiweError as exc:
        raise ApiError(400 if exc.code == "siwe_malformed" else 401, exc.code, exc.detail) from None
    now = time.time()
    expires_at = now + settings.session_hours * 3600
    if verified.expires_at is not None:
        expires_at = min(expires_at, verified.expires_at.timestamp())
    token = new_token()
    services.sessions.open(token, Session(verified.address, verified.chain_id, verified.digest, now, expires_at))
    set_cookie(request, response, token, expires_at)
    response.headers["Cache-Control"] = "no-store"
    return {"account": verified.address, "expiresAt": expires_at, "token": token}


@router.get(
    "/v1/auth/session",
    response_model=SessionOut,
    summary="Who is signed in, and their standing on the chain at a stated block",
)
def session(account: CurrentAccount, who: CurrentStanding) -> dict[str, Any]:
    return {
        "account": account.account,
        "expiresAt": account.session.expires_at,
        "issuedAt": datetime.fromtimestamp(account.session.issued_at, UTC).isoformat(),
        "block": who.block,
        "roles": who.roles,
        "organization": who.organization or None,
        "staff": who.is_staff,
        "auditor": who.auditor,
    }


def _end_sessions(request: Request, services: ServicesDep) -> bool:
    # The cookie is deleted too (_forget), so its session ends when a bearer token is the one that asks:
    # else it stays live for whoever copied the cookie.
    cookies = (request.cookies.get(name) for name in (cookie_name(request), COOKIE))  # COOKIE: see delete_cookies
    tokens = {t for t in (token_of(request), *cookies) if t}
    for token in tokens:
        services.sessions.end(token)
    return bool(tokens)


def _forget(request: Request, response: Response) -> Response:
    delete_cookies(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.delete("/v1/auth/session", response_model=SignedOutOut, summary="Sign out")
def sign_out(request: Request, services: ServicesDep, response: Response) -> dict[str, Any]:
    signed_out = _end_sessions(request, services)
    _forget(request, response)
    return {"signedOut": signed_out}


def _own_path(path: str | None) -> str | None:
    """`path` if it is a path of this gateway (`/…`, not `//host` nor `/\\host`, which browsers read as
    another origin), else None: the sign-out form sends the page back nowhere else."""
    if not path or not path.startswith("/") or path[1:2] in ("/", "\\"):
        return None
    if any(c.isspace() or ord(c) < 0x20 or c == "\\" for c in path):
        return None
    return path


@router.post(
    "/v1/auth/sign-out",
    response_model=SignedOutOut,
    summary="Sign out from a page (a form's POST; 303 back to the page)",
    responses={303: {"description": "signed out: back to the form's `next`"}},
)
def sign_out_form(
    request: Request,
    services: ServicesDep,
    next: str | None = Form(None, max_length=2048, description="the page to show next: a path of this gateway"),  # noqa: A002
) -> Response:
    """The sign-out control of the gateway's pages (the desk, the station, the return flow, the unit page): a
    plain form, no script. A page of another origin may not end the session (403 cross_origin, as for
    every change made with the cookie): the form is this gateway's own."""
    if cookie_from_another_origin(request):
        raise cross_origin()
    signed_out = _end_sessions(request, services)
    target = _own_path(next)
    if target is None:
        return _forget(request, JSONResponse({"signedOut": signed_out}))
    return _forget(request, RedirectResponse(target, status_code=303))
