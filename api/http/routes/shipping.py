"""Shipping for returns: quotes from the carriers' signed rate cards, combined parcels, door-to-door pickup.

    GET  /v1/orders/{id}/shipping-quotes?weightGrams=…    the return leg's quotes, by price and by speed
    GET  /v1/buyers/{address}/combined-returns?weight=<orderId>:<grams>&…   one parcel for open returns
    POST /v1/orders/{id}/pickups                          book a pickup where the order's policy collects
    GET  /v1/pickups/{id}                                 the booking and whether the carrier's scan is on-chain
    GET  /v1/carriers/{address}/pickups                   a carrier's bookings, with the RMA to scan

Quotes are public (they show no amount or reason of the order). The rest needs a Sign-In with
Ethereum session (api/http/auth): the buyer's own combined returns and bookings, the booked carrier's
while the registry accredits it as a carrier at the head block (a revoked one sees no booking).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from returntrace.vocab import Role

from ...chain.parties import Standing
from ...errors import ApiError, storable
from ...store.pickups import AlreadyBooked
from ..auth.session import CurrentAccount, CurrentStanding
from ..deps import PickupsDep, ShippingDeskDep
from ..responses import CarrierPickupsOut, CombinedReturnsOut, PickupOut, ShippingQuotesOut

router = APIRouter(tags=["shipping"])

_WEIGHT = re.compile(r"^([0-9]{1,19}):([0-9]{1,9})$")
_ADDRESS_REF = r"^[A-Za-z0-9._:/-]{1,128}$"


def _address(value: str, name: str) -> str:
    if not is_address(value):
        raise ApiError(400, "invalid_address", f"{name} {value!r} is not an address")
    return to_checksum_address(value)


def _is(account: CurrentAccount | Standing, address: str) -> bool:
    return account.account.lower() == address.lower()


def _is_carrier(who: Standing, address: str) -> bool:
    """`address`, signed in, while the registry accredits it as a carrier: a session outlives a revocation,
    the bookings' address references must not."""
    return _is(who, address) and bool(who.roles & Role.CARRIER)


@router.get(
    "/v1/orders/{order_id}/shipping-quotes",
    response_model=ShippingQuotesOut,
    summary="Quotes for an order's return leg from the accredited carriers' signed rate cards",
)
def get_shipping_quotes(
    order_id: int, desk: ShippingDeskDep, weightGrams: Annotated[int, Query(description="the parcel's weight, grams")]
) -> dict[str, Any]:
    return desk.quotes(storable(order_id, "order id"), weightGrams)


def _weights(values: list[str]) -> dict[int, int]:
    weights: dict[int, int] = {}
    for value in values:
        m = _WEIGHT.match(value.strip())
        if m is None:
            raise ApiError(400, "invalid_weight", f"weight must be <orderId>:<grams>, got {value!r}")
        order_id, grams = storable(int(m.group(1)), "order id"), int(m.group(2))
        if order_id in weights:
            raise ApiError(400, "invalid_weight", f"order {order_id} is weighed twice")
        weights[order_id] = grams
    return weights


@router.get(
    "/v1/buyers/{address}/combined-returns",
    response_model=CombinedReturnsOut,
    summary="One parcel for a buyer's open returns to one destination, and what it saves",
)
def get_combined_returns(
    address: str,
    account: CurrentAccount,
    desk: ShippingDeskDep,
    weight: Annotated[list[str], Query(description="<orderId>:<grams>, once per open return", max_length=50)] = [],  # noqa: B006
) -> dict[str, Any]:
    buyer = _address(address, "buyer")
    if not _is(account, buyer):
        raise ApiError(
            403, "not_buyer", f"a buyer's open returns are shown to the buyer signed in, not {account.account}"
        )
    return desk.combined(buyer, _weights(weight))


class PickupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: str = Field(description="the carrier whose pickup card serves the lane")
    addressRef: str = Field(
        pattern=_ADDRESS_REF, description="an opaque reference to the pickup address, never the address itself"
    )
    windowFrom: int = Field(ge=0, lt=2**40, description="unix seconds")
    windowUntil: int = Field(ge=0, lt=2**40, description="unix seconds")


def _booking_out(row: dict[str, Any], on_chain: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "orderId": row["order_id"],
        "unitId": row["unit_id"],
        "rmaRef": row["rma_ref"],
        "buyer": row["buyer"],
        "carrier": row["carrier"],
        "addressRef": row["address_ref"],
        "windowFrom": row["window_from"],
        "windowUntil": row["window_until"],
        "destination": row["destination"],
        "card": json.loads(row["card"]),
        "bookedAt": row["booked_at"],
        "bookedBlock": row["booked_block"],
        "onChain": on_chain,
    }


@router.post(
    "/v1/orders/{order_id}/pickups",
    status_code=201,
    response_model=PickupOut,
    summary="Book a door-to-door pickup of a requested return where the order's policy collects at the door",
)
def post_pickup(
    order_id: int,
    body: PickupIn,
    account: CurrentAccount,
    desk: ShippingDeskDep,
    pickups: PickupsDep,
    response: Response,
) -> dict[str, Any]:
    """Booked by the order's buyer, signed in."""
    storable(order_id, "order id")
    carrier = _address(body.carrier, "carrier")
    offer = desk.pickup_offer(order_id, account.account, carrier, (body.windowFrom, body.windowUntil))
    try:
        row = pickups.book(
            {
                "order_id": order_id,
                "unit_id": offer["unitId"],
                "rma_ref": offer["rmaRef"],
                "buyer": offer["buyer"],
                "carrier": carrier,
                "address_ref": body.addressRef,
                "window_from": body.windowFrom,
                "window_until": body.windowUntil,
                "destination": offer["destination"],
                "card": json.dumps(offer["card"], sort_keys=True),
                "booked_at": offer["block"]["time"],
                "booked_block": offer["block"]["number"],
            }
        )
    except AlreadyBooked as exc:
        raise ApiError(
            409, "already_booked", f"order {order_id} already has pickup {exc.booking['id']}", pickup=exc.booking["id"]
        ) from None
    response.headers["Location"] = f"/v1/pickups/{row['id']}"
    return _booking_out(row, None)


@router.get("/v1/pickups/{pickup_id}", response_model=PickupOut, summary="A pickup booking and its carrier's scan")
def get_pickup(pickup_id: str, who: CurrentStanding, desk: ShippingDeskDep, pickups: PickupsDep) -> dict[str, Any]:
    """Shown to the booking's buyer and carrier (while accredited), signed in."""
    row = pickups.get(pickup_id)
    if row is None or not (_is(who, row["buyer"]) or _is_carrier(who, row["carrier"])):
        raise ApiError(404, "unknown_pickup", f"no pickup {pickup_id} of {who.account}")
    return _booking_out(row, desk.pickup_status(row))


@router.get(
    "/v1/carriers/{address}/pickups",
    response_model=CarrierPickupsOut,
    summary="A carrier's pickup bookings, each with the RMA reference its scan carries",
)
def get_carrier_pickups(address: str, who: CurrentStanding, pickups: PickupsDep) -> dict[str, Any]:
    carrier = _address(address, "carrier")
    if not _is_carrier(who, carrier):
        raise ApiError(
            403,
            "not_carrier",
            f"a carrier's bookings are shown to the carrier signed in and accredited as one at block {who.block}, "
            f"not {who.account}",
            block=who.block,
        )
    return {"carrier": carrier, "pickups": [_booking_out(row, None) for row in pickups.of_carrier(carrier)]}
