"""Access rules on orders, for the routes that serve an order's private data (its evidence)."""

from __future__ import annotations

from ...chain import parties
from ...chain.client import Chain
from ...chain.parties import Parties, Standing
from ...errors import ApiError


def order_party(chain: Chain, order_id: int, who: Standing | None, *, adding: bool = False) -> Parties:
    """The order's parties, if `who` is one of them or (reading, not `adding` to the order's data) an
    auditor: 401 anonymous, 404 unknown order, 403 anyone else (the chain read at the block `who` states)."""
    if who is None:
        raise ApiError(401, "not_signed_in", f"order {order_id}'s data is for its parties: sign in with Ethereum")
    order = parties.parties(chain, order_id, who.block)
    if order is None:
        raise ApiError(404, "unknown_order", f"order {order_id} does not exist at block {who.block}")
    allowed = who.account == order.buyer or order.is_merchant_side(who) if adding else order.may_read(who)
    if not allowed:
        raise ApiError(
            403,
            "not_a_party",
            f"{who.account} is not order {order_id}'s buyer, merchant side or an auditor at block {who.block}",
            block=who.block,
        )
    return order
