"""Per-client rate limits as route dependencies: a token bucket per client address
(api/store/buckets.py), refused with 429 `rate_limited` and `Retry-After` when it is empty.

    router = APIRouter(dependencies=[Depends(rate_limited(lambda s: s.assess_limit, "assessments"))])

And the request body's size (`BodyLimit`, installed by the app factory with RT_MAX_BODY_BYTES): a body past
it is 413 `too_large`, refused on its declared Content-Length or as soon as the streamed bytes pass it; the
evidence upload streams its files under its own limit (RT_MAX_UPLOAD_BYTES) and is left to it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ApiError
from ..services import Services
from ..store.buckets import TokenBuckets, retry_after
from .deps import get_services
from .errors import error_response

STREAMED = frozenset({"/v1/evidence"})  # routes that read their body as a stream, under their own limit


def client_of(request: Request) -> str:
    """The client a bucket belongs to: its IPv4 address, or its IPv6 /64 (one subscriber's network
    holds 2^64 addresses, one bucket each would be no limit)."""
    host = request.client.host if request.client else "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an address (a test client, a Unix socket's peer)
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def rate_limited(bucket: Callable[[Services], TokenBuckets], what: str) -> Callable[[Request], None]:
    """A dependency taking one token of the client's bucket in `bucket(services)`; when there is none,
    429 `rate_limited` naming `what` (plural: "assessments") and the bucket's limits."""

    def take_token(request: Request) -> None:
        limit = bucket(get_services(request))
        client = client_of(request)
        wait = limit.take(client)
        if wait:
            raise ApiError(
                429,
                "rate_limited",
                f"too many {what} from {client}: at most {limit.burst} at once and {limit.rate} per second on average",
                headers={"Retry-After": retry_after(wait)},
            )

    return take_token


class BodyLimit:
    """ASGI middleware: reads a request's body up to `most` bytes (RT_MAX_BODY_BYTES; 413 `too_large` past it,
    on its Content-Length before any of it is read) and hands it to the app; STREAMED routes get theirs as sent.
    Without it, one anonymous request held and parsed a body of any size in memory."""

    def __init__(self, app: ASGIApp, most: int) -> None:
        self.app, self.most = app, most

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in STREAMED:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > self.most:
            await self._refuse(scope, receive, send, declared.decode())
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: nothing to answer
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.most:
                await self._refuse(scope, receive, send, f"more than {self.most}")
                return
        whole: Message | None = {"type": "http.request", "body": bytes(body), "more_body": False}

        async def replay() -> Message:
            nonlocal whole
            if whole is None:
                return await receive()
            message, whole = whole, None
            return message

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        answer: Any = error_response(
            413, "too_large", f"the request body is {size} bytes; the limit is {self.most}", maxBytes=self.most
        )
        await answer(scope, receive, send)
