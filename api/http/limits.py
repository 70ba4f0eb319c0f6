"""Per-client rate limits as route dependencies: a token bucket per client address
(api/store/buckets.py), refused with 429 `rate_limited` and `Retry-After` when it is empty.

    router = APIRouter(dependencies=[Depends(rate_limited(lambda s: s.assess_limit, "assessments"))])
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from fastapi import Request

from ..errors import ApiError
from ..services import Services
from ..store.buckets import TokenBuckets, retry_after
from .deps import get_services


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
