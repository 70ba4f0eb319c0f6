"""Sessions opened by a verified sign-in, and the dependencies that read them.

A session is a random token (256 bits), sent back as an HttpOnly, SameSite=Strict cookie and in the
answer's body for clients that send it as `Authorization: Bearer <token>`. When the gateway's public URL
is https the cookie is `__Host-rt_session` (Secure, Path=/, no Domain): a browser takes that name only
from this host over https, so a sibling subdomain or a plain-http page cannot plant a session of its own
choosing in it (cookie tossing); on plain http (a local gateway, a warehouse's network) it is
`rt_session`. It ends at the earlier of RT_SESSION_HOURS and the signed
message's Expiration Time, or on `DELETE /v1/auth/session`. A request that would change something
and carries the session only as the cookie is refused (403 cross_origin) when the browser says a page
of another origin made it (Sec-Fetch-Site): SameSite keeps other sites out, not another origin of the
same site (another port of the host, a sibling subdomain).

    account: CurrentAccount       the signed-in account (401 not_signed_in otherwise)
    who: CurrentStanding          the same, with its roles and organisation at the head block
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from ...chain import parties
from ...chain.parties import Standing
from ...errors import ApiError
from ...store.sessions import Session
from ..deps import ServicesDep, public_url

COOKIE = "rt_session"  # on plain http, where browsers refuse the __Host- prefix
SECURE_COOKIE = "__Host-rt_session"  # on https
# Requests that change nothing: any page may make them with the cookie (SameSite=Strict: of this site).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class SignedIn:
    account: str
    session: Session


def _bearer(request: Request) -> bool:
    return request.headers.get("authorization", "")[:7].lower() == "bearer "


def token_of(request: Request) -> str | None:
    if _bearer(request):
        return request.headers["authorization"][7:].strip() or None
    return request.cookies.get(cookie_name(request))


def cookie_name(request: Request) -> str:
    """The session cookie's name on this gateway: only it is read, so on https a plain `rt_session` set by
    another host of the site or an http page is no session."""
    return SECURE_COOKIE if _https(request) else COOKIE


def _https(request: Request) -> bool:
    return public_url(request).startswith("https://")


def cookie_from_another_origin(request: Request) -> bool:
    """Whether the browser sent the session cookie with a change made by a page of another origin. A same-site
    page (127.0.0.1:8080 is the same site as 127.0.0.1:8000; so are sibling subdomains) gets the SameSite=Strict
    cookie sent with its forms; Sec-Fetch-Site tells it apart. Browsers send that header only to https and
    localhost origins, so a gateway on plain http in a warehouse's network gets none: there the Origin a
    browser puts on every POST decides, which must be this gateway's (its pages send their own: Referrer-Policy
    same-origin; "null" is refused). A request with neither header is no browser's."""
    if request.method in SAFE_METHODS or _bearer(request):  # no page can set another's Authorization header
        return False
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc.lower() not in _own_hosts(request)


def _own_hosts(request: Request) -> set[str]:
    """The host[:port] this gateway answers as: the request's Host, and the public URL's (behind a proxy)."""
    return {request.headers.get("host", "").lower(), urlsplit(public_url(request)).netloc.lower()} - {""}


def optional_account(request: Request, services: ServicesDep) -> SignedIn | None:
    """The signed-in account, None for an anonymous request; an unknown or expired token is anonymous."""
    token = token_of(request)
    if token is None:
        return None
    session = _session_once(request, services, token)
    if session is None:
        return None
    if cookie_from_another_origin(request):
        raise cross_origin()
    return SignedIn(session.account, session)


def _session_once(request: Request, services: ServicesDep, token: str) -> Session | None:
    """The token's session, read from the store once per request: a page asks who is signed in more than once
    (the unit page: whether the viewer is the order's party, then the bar)."""
    read: tuple[str, Session | None] | None = getattr(request.state, "session_read", None)
    if read is None or read[0] != token:
        read = (token, services.sessions.get(token))
        request.state.session_read = read
    return read[1]


def cross_origin() -> ApiError:
    return ApiError(
        403,
        "cross_origin",
        "a page of another origin may not act with this browser's session: use this gateway's own pages, "
        "or send the session as Authorization: Bearer",
    )


def current_account(account: Annotated[SignedIn | None, Depends(optional_account)]) -> SignedIn:
    if account is None:
        raise ApiError(401, "not_signed_in", "sign in with Ethereum first (GET /v1/auth/nonce, POST /v1/auth/siwe)")
    return account


def current_standing(account: Annotated[SignedIn, Depends(current_account)], services: ServicesDep) -> Standing:
    """The signed-in account's accreditation at the head block (stated in the answers as `block`)."""
    chain = services.chain
    return parties.standing(chain, account.account, parties.head(chain), services.settings.auditors)


def optional_standing(
    account: Annotated[SignedIn | None, Depends(optional_account)], services: ServicesDep
) -> Standing | None:
    if account is None:
        return None
    chain = services.chain
    return parties.standing(chain, account.account, parties.head(chain), services.settings.auditors)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def set_cookie(request: Request, response: Response, token: str, expires_at: float) -> None:
    response.set_cookie(
        cookie_name(request),
        token,
        max_age=max(0, int(expires_at - time.time())),
        httponly=True,
        secure=_https(request),
        samesite="strict",
        path="/",  # no domain: the __Host- prefix requires both
    )


def delete_cookies(request: Request, response: Response) -> None:
    """Deletes the session cookie, and on https a plain `rt_session` too (one an earlier release set, or one
    planted): a __Host- cookie is replaced only by a Set-Cookie with Secure and Path=/ and no Domain."""
    secure = _https(request)
    for name in {cookie_name(request), COOKIE}:
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")


OptionalAccount = Annotated[SignedIn | None, Depends(optional_account)]
CurrentAccount = Annotated[SignedIn, Depends(current_account)]
CurrentStanding = Annotated[Standing, Depends(current_standing)]
OptionalStanding = Annotated[Standing | None, Depends(optional_standing)]
