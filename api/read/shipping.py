"""The return desk's shipping: quotes for an order's return leg, the combined parcel a buyer's open
returns could share, and whether (and with which carrier) a door-to-door pickup may be booked.

Everything is stated at one block (the latest when asked, pinned by number and hash): the order,
its policy, the return centers, each carrier's accreditation. Quotes come from `QuoteSource`s; the
default is the carriers' signed rate cards (SignedCardSource). A real multi-carrier rating service
plugs in as another source beside it: it answers Quotes for a ReturnLeg, with its own `proof`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_utils import to_checksum_address

from returntrace import shipping
from returntrace.escrow import Order, OrderStatus
from returntrace.policies import DAY, MARKET_NAMES
from returntrace.refs import order_ref, rma_ref
from returntrace.shipping import CardError, Destination, Quote, RateCard, Service
from returntrace.vocab import Milestone, Role

from ..chain.blocks import BlockRef
from ..chain.guard import ChainUnavailable
from ..chain.proofs import BlockReads
from ..errors import ApiError
from ..store.documents import SqliteDocuments
from ..store.index import SqliteIndex

MIN_WINDOW, MAX_WINDOW, MAX_LEAD = 3600, DAY, 14 * DAY  # a pickup window: 1-24 hours, starting within 14 days
QUOTABLE = (OrderStatus.ACTIVE, OrderStatus.RETURN_REQUESTED)  # a return may still be sent


@dataclass(frozen=True)
class Pinned:
    """The block a statement is made at."""

    ref: BlockRef
    time: int

    def as_json(self) -> dict[str, Any]:
        return {"number": self.ref.number, "hash": self.ref.hash, "time": self.time}


@dataclass(frozen=True)
class ReturnLeg:
    """From the buyer's market to where the order's returns go, for a parcel of `grams`."""

    order_id: int
    origin_market: int
    destinations: tuple[Destination, ...]
    grams: int

    def to(self, destination: Destination, grams: int | None = None) -> ReturnLeg:
        return ReturnLeg(self.order_id, self.origin_market, (destination,), self.grams if grams is None else grams)


@dataclass
class Answer:
    """A source's quotes, and the offers it left out with why (a card expired, a carrier not accredited)."""

    quotes: list[Quote] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)


class QuoteSource(Protocol):
    """Where quotes come from. `name` is shown with each quote (`source`)."""

    name: str

    def quotes(self, leg: ReturnLeg, at: Pinned, service: Service | None = None) -> Answer: ...


@dataclass(frozen=True)
class SignedCard:
    """A rate card as the gateway stored it: the card, and what proves it (the stored document's
    reference: its signature, signer and the block the gateway checked it at)."""

    card: RateCard
    proof: Mapping[str, Any]


class CardBook(Protocol):
    """The rate cards in force (the latest issued per carrier and lane), whatever their validity."""

    def rate_cards(self) -> Iterable[SignedCard]: ...


class DocumentCards:
    """The rate cards in force in the gateway's signed-document store (the latest issued per carrier
    and lane, api/store/documents.py), each with the reference that proves it."""

    def __init__(self, store: SqliteDocuments) -> None:
        self.store = store

    def rate_cards(self) -> Iterable[SignedCard]:
        for doc in self.store.current_of_kind("RateCard"):
            try:
                card = RateCard.from_message(doc.message)
            except CardError:  # checked when accepted: only a rule tightened since refuses it
                continue
            yield SignedCard(
                card,
                {
                    "document": doc.id,
                    "url": f"/v1/documents/by-id/{doc.id}",
                    "signature": doc.signature,
                    "signer": doc.signer,
                    "issuedAt": doc.issued_at,
                    "checkedAtBlock": doc.block_number,
                },
            )


class SignedCardSource:
    """Quotes from the carriers' signed rate cards in force: those valid at the block's time, of
    carriers the accreditor had given the carrier role at that block."""

    name = shipping.SIGNED_RATE_CARD

    def __init__(self, book: CardBook, reads: BlockReads) -> None:
        self.book, self.reads = book, reads

    def quotes(self, leg: ReturnLeg, at: Pinned, service: Service | None = None) -> Answer:
        answer = Answer()
        for sc in self.book.rate_cards():
            if service is not None and sc.card.service != service:
                continue
            serves = [d for d in leg.destinations if sc.card.serves(leg.origin_market, d)]
            if not serves:
                continue
            if not sc.card.valid_at(at.time):
                answer.excluded.append(_excluded(sc, "not_yet_valid" if at.time < sc.card.valid_from else "expired"))
                continue
            if not int(self.reads.actor(sc.card.carrier, at.ref)[0]) & Role.CARRIER:
                answer.excluded.append(_excluded(sc, "carrier_not_accredited"))
                continue
            proof = {**sc.proof, "carrierAccreditedAtBlock": at.ref.number}
            for d in serves:
                q = shipping.quote(sc.card, leg.grams, d, proof)
                if q is None:
                    answer.excluded.append(_excluded(sc, "too_heavy"))
                else:
                    answer.quotes.append(q)
        return answer


def _excluded(sc: SignedCard, why: str) -> dict[str, Any]:
    return {"carrier": sc.card.carrier, "reason": why, "proof": dict(sc.proof)}


def parse_weight(grams: int, name: str = "weightGrams") -> int:
    if not 0 < grams <= shipping.MAX_PARCEL_GRAMS:
        raise ApiError(400, "invalid_weight", f"{name} must be 1 to {shipping.MAX_PARCEL_GRAMS} grams, got {grams}")
    return grams


class ShippingDesk:
    """Quotes, combined parcels and pickups, read at a pinned block."""

    def __init__(
        self, reads: BlockReads, chain_id: int, escrow: str, sources: Sequence[QuoteSource], index: SqliteIndex
    ) -> None:
        self.reads, self.chain_id, self.escrow = reads, chain_id, escrow
        self.sources = tuple(sources)
        self.index = index  # names a buyer's requested returns; the escrow, read at the block, decides

    # ------------------------------------------------------------------ reads

    def pin(self) -> Pinned:
        """The latest block, and its time: what the answer is stated at."""
        ref = self._read(self.reads.latest)
        return Pinned(ref, self._read(self.reads.block_time, ref))

    def _read(self, read: Any, *args: Any) -> Any:
        try:
            return read(*args)
        except ChainUnavailable as exc:
            raise ApiError(503, "chain_unavailable", f"the chain node could not be read: {exc}") from exc

    def order(self, order_id: int, at: Pinned) -> Order:
        if not 1 <= order_id <= self._read(self.reads.order_count, at.ref):
            raise ApiError(404, "unknown_order", f"the escrow has no order {order_id} at block {at.ref.number}")
        return self._read(self.reads.order, order_id, at.ref)

    def rma(self, order_id: int) -> bytes:
        """ReturnEscrow.rmaRef(orderId): what the carrier's pickup scan carries as its bizTransaction."""
        return rma_ref(order_ref(self.chain_id, self.escrow, order_id))

    def destinations(self, o: Order, at: Pinned) -> tuple[Destination, ...]:
        """Where the order's return goes: the return centers accredited for its market at the block,
        else the merchant's own organisation."""
        centers = self._read(self.reads.accredited_centers, at.ref)
        local = tuple(
            Destination(gln, markets, "return_center")
            for gln, (_, markets) in sorted(centers.items())
            if markets >> o.market & 1
        )
        if local:
            return local
        organization = self._read(self.reads.actor, o.merchant, at.ref)[1]
        return (Destination(organization, 0, "merchant"),) if organization else ()

    def leg(self, order_id: int, o: Order, grams: int, at: Pinned) -> ReturnLeg:
        return ReturnLeg(order_id, o.market, self.destinations(o, at), grams)

    def _ask(self, leg: ReturnLeg, at: Pinned, service: Service | None = None) -> Answer:
        answer = Answer()
        for source in self.sources:
            got = self._read(source.quotes, leg, at, service)
            answer.quotes += got.quotes
            answer.excluded += got.excluded
        return answer

    # ------------------------------------------------------------------ quotes

    def quotes(self, order_id: int, grams: int) -> dict[str, Any]:
        grams = parse_weight(grams)
        at = self.pin()
        o = self.order(order_id, at)
        if o.status not in QUOTABLE:
            raise ApiError(
                409,
                "order_not_active",
                f"order {order_id} is {o.status.key}: nothing is sent back any more",
                orderStatus=o.status.key,
            )
        leg = self.leg(order_id, o, grams, at)
        answer = self._ask(leg, at) if leg.destinations else Answer()
        by_price, by_speed = shipping.ranked(answer.quotes)
        reason = None
        if not leg.destinations:
            reason = "no return center is accredited for the order's market and the merchant has no organisation GLN"
        elif not by_price:
            reason = "no valid card of an accredited carrier serves this lane for this weight"
        return {
            "orderId": order_id,
            "block": at.as_json(),
            "leg": self._leg_json(leg),
            "weightGrams": leg.grams,
            "byPrice": [q.as_json() for q in by_price],
            "bySpeed": [q.as_json() for q in by_speed],
            "excluded": answer.excluded,
            "reason": reason,
            "sources": [s.name for s in self.sources],
        }

    @staticmethod
    def _leg_json(leg: ReturnLeg) -> dict[str, Any]:
        return {
            "originMarket": MARKET_NAMES.get(leg.origin_market, str(leg.origin_market)),
            "destinations": [{"gln": f"{d.gln:013d}", "kind": d.kind} for d in leg.destinations],
        }

    # ------------------------------------------------------------------ combined returns

    def open_returns(self, buyer: str, at: Pinned) -> list[tuple[int, Order]]:
        """The buyer's returns requested and not yet dispatched, at the block (the index names the
        candidates; the escrow decides)."""
        out = []
        with self.index.read() as index:
            candidates = index.requested_returns_of(buyer)
        for order_id in candidates:
            o = self._read(self.reads.order, order_id, at.ref)
            if o.buyer != buyer or o.status != OrderStatus.RETURN_REQUESTED:
                continue
            if self._read(self.reads.dispatched_at, order_id, at.ref):
                continue
            out.append((order_id, o))
        return out

    def combined(self, buyer: str, weights: Mapping[int, int]) -> dict[str, Any]:
        for order_id, grams in weights.items():
            parse_weight(grams, f"weight of order {order_id}")
        at = self.pin()
        buyer = to_checksum_address(buyer)
        excluded: list[dict[str, Any]] = []
        legs: dict[int, ReturnLeg] = {}
        units: dict[int, bytes] = {}
        for order_id, o in self.open_returns(buyer, at):
            units[order_id] = bytes(o.unit_id)
            if order_id not in weights:
                excluded.append({"orderId": order_id, "reason": "weight_unknown"})
                continue
            legs[order_id] = self.leg(order_id, o, weights[order_id], at)
        excluded += [
            {"orderId": o, "reason": "not_an_open_return_of_this_buyer"} for o in sorted(set(weights) - set(units))
        ]
        offers = []
        # Returns share a parcel when they start in the same market and may go to the same place.
        groups: dict[tuple[int, Destination], list[int]] = {}
        for order_id, leg in legs.items():
            for d in leg.destinations:
                groups.setdefault((leg.origin_market, d), []).append(order_id)
        for (_, d), members in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1].gln)):
            if len(members) < 2:
                continue
            singles = {m: self._ask(legs[m].to(d), at).quotes for m in members}
            total = sum(weights[m] for m in members)
            if total > shipping.MAX_PARCEL_GRAMS:
                continue
            together = self._ask(legs[members[0]].to(d, total), at).quotes
            member_weights = {m: weights[m] for m in members}
            offers += shipping.combined_offers(d.gln, member_weights, singles, together)
        offers.sort(key=lambda x: (-x.saving, x.currency, x.destination))
        return {
            "buyer": buyer,
            "block": at.as_json(),
            "openReturns": [{"orderId": o, "weightGrams": legs[o].grams} for o in sorted(legs)],
            "excluded": excluded,
            "offers": [self._offer_json(x, units) for x in offers],
            "reason": None if offers else "no two open returns to one destination are cheaper sent together",
        }

    @staticmethod
    def _offer_json(x: shipping.CombinedOffer, units: Mapping[int, bytes]) -> dict[str, Any]:
        return {
            "destination": f"{x.destination:013d}",
            "currency": x.currency,
            "orders": list(x.orders),
            "totalGrams": x.total_grams,
            "singles": {str(o): q.as_json() for o, q in x.singles.items()},
            "singlesTotal": x.singles_total,
            "combined": x.combined.as_json(),
            "saving": x.saving,
            # The registry's SSCC aggregation: the carrier packs the units into one parcel with
            # disposition `returned`, which proves each unit's dispatch (docs/protocol.md, Parcels).
            "parcel": {
                "post": "/v1/aggregations",
                "action": "ADD",
                "bizStep": "packing",
                "disposition": "returned",
                "unitIds": ["0x" + units[o].hex() for o in x.orders],
            },
        }

    # ------------------------------------------------------------------ pickups

    def pickup_offer(self, order_id: int, buyer: str, carrier: str, window: tuple[int, int]) -> dict[str, Any]:
        """What a pickup booking relies on, at the block: the order's buyer, its return requested and
        not yet dispatched, its policy collecting at the door (`freePickup`), a window that ends
        before the merchant could call the return unsent (`releaseUnreturned`: request + delivery
        timeout), and the carrier's valid pickup card for the lane. ApiError with the reason otherwise."""
        at = self.pin()
        o = self.order(order_id, at)
        if to_checksum_address(buyer) != o.buyer:
            raise ApiError(403, "not_buyer", f"{buyer} is not the buyer of order {order_id}")
        if o.status != OrderStatus.RETURN_REQUESTED:
            raise ApiError(
                409, "no_open_return", f"order {order_id} is {o.status.key}: a pickup is booked for a requested return"
            )
        if self._read(self.reads.dispatched_at, order_id, at.ref):
            raise ApiError(409, "already_dispatched", f"a carrier's scan already proves order {order_id}'s dispatch")
        policy = self._read(self.reads.policy, o.market, o.policy_version)
        market = MARKET_NAMES.get(o.market, str(o.market))
        if not policy.free_pickup:
            raise ApiError(
                409,
                "no_free_pickup",
                f"the policy of order {order_id} ({market}, version {o.policy_version}) does not collect returns at "
                "the door",
            )
        start, end = window
        latest = o.requested_at + policy.delivery_timeout
        if not at.time <= start < end or not MIN_WINDOW <= end - start <= MAX_WINDOW or start > at.time + MAX_LEAD:
            raise ApiError(
                400,
                "invalid_window",
                f"a pickup window starts now or later (block time {at.time}), within {MAX_LEAD // DAY} days, and lasts "
                f"{MIN_WINDOW // 3600} to {MAX_WINDOW // 3600} hours",
            )
        if end > latest:
            raise ApiError(
                409,
                "window_too_late",
                f"the window must end by {latest} (the return request plus the policy's delivery timeout): after it "
                "the merchant may call the return unsent",
                latest=latest,
            )
        leg = self.leg(order_id, o, 1, at)  # a booking prices nothing: any card of the lane will do
        answer = self._ask(leg, at, Service.PICKUP)
        mine = sorted(
            (q for q in answer.quotes if q.carrier == carrier), key=lambda q: (q.transit_days, q.currency, q.price)
        )
        if not mine:
            raise ApiError(
                409,
                "no_pickup_card",
                f"carrier {carrier} has no valid pickup card for {market} → this order's return destination at block "
                f"{at.ref.number}",
                excluded=[e for e in answer.excluded if e["carrier"] == carrier],
            )
        return {
            "orderId": order_id,
            "unitId": "0x" + bytes(o.unit_id).hex(),
            "buyer": o.buyer,
            "rmaRef": "0x" + self.rma(order_id).hex(),
            "destination": f"{mine[0].destination:013d}",
            "card": dict(mine[0].proof),
            "block": at.as_json(),
        }

    def pickup_status(self, booking: Mapping[str, Any]) -> dict[str, Any]:
        """Where a booked pickup stands on-chain at the latest block: the carrier's scan under the
        order's RMA (the registry's Dispatched milestone), the escrow's dispatch time (what
        claimDispatchedRefund counts) and from when the buyer may claim if the parcel never arrives."""
        at = self.pin()
        order_id = int(booking["order_id"])
        o = self.order(order_id, at)
        scan = self._read(self.reads.milestone, bytes(o.unit_id), self.rma(order_id), int(Milestone.DISPATCHED), at.ref)
        dispatched = self._read(self.reads.dispatched_at, order_id, at.ref)
        received = self._read(
            self.reads.milestone, bytes(o.unit_id), self.rma(order_id), int(Milestone.RETURN_RECEIVED), at.ref
        )
        policy = self._read(self.reads.policy, o.market, o.policy_version)
        carrier_org = self._read(self.reads.actor, booking["carrier"], at.ref)[1]
        # Collected: the escrow counts a dispatch (this scan, or the unit packed as returned into a parcel).
        status = "collected" if dispatched else "scanned_not_counted" if scan["at"] else "booked"
        claim_from = None
        if dispatched and not received["at"] and o.status == OrderStatus.RETURN_REQUESTED:
            claim_from = dispatched + policy.delivery_timeout + policy.max_relay_delay + 1
        return {
            "status": status,
            "block": at.as_json(),
            "orderStatus": o.status.key,
            "scan": None
            if not scan["at"]
            else {
                **{k: int(v) for k, v in scan.items()},
                "location": f"{int(scan['location']):013d}",
                "organization": f"{int(scan['organization']):013d}",
                "byBookedCarrier": int(scan["organization"]) == int(carrier_org),
                "onChain": True,
            },
            "dispatchedAt": dispatched or None,
            "dispatchedRefundClaimableFrom": claim_from,
        }
