"""Per-client rate limits as route dependencies: a token bucket per client address
(api/store/buckets.py), refused with 429 `rate_limited` and `Retry-After` when it is empty.

    router = APIRouter(dependencies=[Depends(rate_limited(lambda s: s.assess_limit, "assessments"))])
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from ..errors import ApiError
from ..services import Services
from ..store.buckets import TokenBuckets, retry_after
from .deps import get_services


def rate_limited(bucket: Callable[[Services], TokenBuckets], what: str) -> Callable[[Request], None]:
    """A dependency taking one token of the client's bucket in `bucket(services)`; when there is none,
    429 `rate_limited` naming `what` (plural: "assessments") and the bucket's limits."""

    def take_token(request: Request) -> None:
        limit = bucket(get_services(request))
        client = request.client.host if request.client else "unknown"
        wait = limit.take(client)
        if wait:
            raise ApiError(
                429,
                "rate_limited",
                f"too many {what} from {client}: at most {limit.burst} at once and {limit.rate} per second on average",
                headers={"Retry-After": retry_after(wait)},
            )

    return take_token
