"""The buyer's confirmed reason code, recorded when they sign a return request (the return flow page
posts it beside the signed message; returntrace/reasons.py holds the nine codes).

    PUT /v1/orders/{orderId}/reason-code   {"code": "size_fit"}   signed in as the order's buyer

Only the code is kept, never the text (docs/people.md); the return analytics use it
(docs/analytics.md), and fall back to the escrow's coarse reason without it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from returntrace.reasons import COARSE_REASON

from ...chain import parties
from ...errors import SQL_INT_MAX, ApiError
from ..auth.session import CurrentAccount
from ..deps import ServicesDep
from ..responses import ReasonCodeOut

router = APIRouter(tags=["return flow"])


class ReasonCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str


@router.put(
    "/v1/orders/{order_id}/reason-code",
    response_model=ReasonCodeOut,
    summary="Record the reason code the buyer confirmed when signing",
)
def put_reason_code(
    order_id: int, body: ReasonCodeIn, account: CurrentAccount, services: ServicesDep
) -> dict[str, Any]:
    if body.code not in COARSE_REASON:
        raise ApiError(400, "invalid_reason_code", f"code must be one of {', '.join(COARSE_REASON)}, got {body.code!r}")
    # The escrow says who bought it (the index may not have caught up with a fresh order yet).
    block = parties.head(services.chain)
    order = parties.parties(services.chain, order_id, block) if 0 < order_id <= SQL_INT_MAX else None
    if order is None:
        raise ApiError(404, "unknown_order", f"order {order_id} does not exist at block {block}")
    if order.buyer != account.account:
        raise ApiError(403, "not_buyer", f"order {order_id} was bought by another account")
    services.reason_codes.record(order_id, body.code, account.account)
    return {"orderId": order_id, "code": body.code}
