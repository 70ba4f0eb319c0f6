"""Access rules on orders, for the routes that serve an order's private data (its evidence), and on the
restricted signed documents (a unit's customs declaration, a buyer's satisfaction rating)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...chain import parties
from ...chain.client import Chain
from ...chain.parties import Parties, Standing
from ...errors import ApiError, parse_storable


def order_party(
    chain: Chain, order_id: int, who: Standing | None, *, adding: bool = False, judging: bool = False
) -> Parties:
    """The order's parties, if `who` is one of them or (reading, not `adding` to the order's data) an
    auditor, or (`judging`: its evidence) the arbiter of the decision it waits for: 401 anonymous, 404
    unknown order, 403 anyone else (the chain read at the block `who` states)."""
    if who is None:
        raise ApiError(401, "not_signed_in", f"order {order_id}'s data is for its parties: sign in with Ethereum")
    order = parties.parties(chain, order_id, who.block)
    if order is None:
        raise ApiError(404, "unknown_order", f"order {order_id} does not exist at block {who.block}")
    if adding:
        allowed = who.account == order.buyer or order.is_merchant_side(who)
    else:
        allowed = order.may_read(who) or (judging and parties.judges(chain, order, who))
    if not allowed:
        raise ApiError(
            403,
            "not_a_party",
            f"{who.account} is not order {order_id}'s buyer, merchant side, an auditor or its arbiter at block "
            f"{who.block}",
            block=who.block,
        )
    return order


def may_read_declaration(chain: Chain, gtin: int, declarant: str, who: Standing | None) -> bool:
    """A unit's customs declaration is the brand's and its declarant's: the GTIN's brand, a key of the
    brand's organisation holding BRAND or MERCHANT_STAFF, or the declarant it names (at `who`'s block)."""
    if who is None:
        return False
    if who.account.lower() == declarant.lower():
        return True
    brand, _, _ = chain.registry.functions.product(gtin).call(block_identifier=who.block)
    if who.account.lower() == brand.lower():
        return True
    return who.is_staff and who.organization == parties.brand_organization(chain, gtin, who.block)


def document_reader(chain: Chain, kind: str, message: dict[str, Any], who: Standing | None) -> None:
    """Whether `who` may read a restricted document (returntrace/documents.py): 401 anonymous, 403
    anyone but its readers. A customs declaration: the brand's side and its declarant; a satisfaction
    rating: its order's buyer, merchant side and auditors (order_party)."""
    if who is None:
        raise ApiError(401, "not_signed_in", f"a {kind} is served only to its readers: sign in with Ethereum")
    if kind == "SatisfactionRating":
        order_party(chain, int(message["orderId"]), who)
        return
    if kind == "CustomsDeclaration" and may_read_declaration(chain, int(message["gtin"]), message["declarant"], who):
        return
    raise ApiError(403, "not_a_reader", f"{who.account} may not read this {kind} at block {who.block}", block=who.block)


def document_asker(chain: Chain, kind: str, subject: Mapping[str, str], who: Standing | None) -> None:
    """Whether `who` may learn if a restricted document exists for `subject`, before it is looked up: 401
    anonymous. A satisfaction rating's readers follow from its order (order_party): anyone else is 403 whether
    the buyer rated or not (a 404 for an unrated order told any account, signing in with a fresh key, which
    orders were rated). A customs declaration's readers include the declarant it names, known once found;
    whether a unit's declaration is recorded is public anyway (its customs evidence says so)."""
    if who is None:
        raise ApiError(401, "not_signed_in", f"a {kind} is served only to its readers: sign in with Ethereum")
    if kind == "SatisfactionRating":
        order_id = parse_storable(subject["orderId"], "orderId")
        if order_id is not None:  # a subject that is no order id names no rating: 404 tells nothing
            order_party(chain, order_id, who)
