"""One builder for orders, events and signed messages on a deployment, as its actors make them.

The contract tests (`Shop` and the fixtures of tests/conftest.py), the state machine (`Ops`), the
gateway tests (`Gateway`), the demo (`Scenario`) and the benches all build through `Builder`:

- **signed messages** of every kind: `sign(kind, domain, who, **fields)` signs under the domain the
  caller names (`domain(kind)`: the one returntrace/kinds.py gives the kind in this deployment), and
  the nonce comes from that domain's verifying contract (`getNonce`: each contract is its own nonce
  space), so a kind signed under another domain is the caller's visible choice;
- **items and batches**: commissions, scans (`event`), parcels (`aggregation`), decommissions, at
  the actor's GLN and the chain's time unless a field says otherwise; a batch signed and relayed
  (`commission`, `record`, `aggregate`, `decommission`); any signed message relayed (`relay`, to
  the function the gateway's relayer calls for its kind);
- **order references**: `order_ref`, `rma_ref`, `listing_terms`, `unit`;
- **order lifecycles**: list and purchase (`list_unit`, `list_for_sale` under an `Offer`,
  `purchase`), the order's scans (`order_scan`: `deliver`, `receive`), `request_return` (or signed
  and relayed), `inspect`, `claim_defect`, `returned`.

It lives in scripts/ beside deploy.py because it drives contracts through brownie (accounts, the
chain's clock, contract objects), which returntrace/ (the library the gateway imports) must not
depend on; the pure half (message shapes and signatures, no node) is returntrace/messages.py.
Test keys only: local chains.

In the tests, the `builder` fixture (tests/conftest.py) is one Builder per test, shared by `Shop`
and the fixtures, so nonces signed and not yet sent are counted across them; `Ops` builds with
`count_pending=False`, `Gateway` passes the nonce the gateway counts. The pure half and the other
pure code are tested without a chain in tests/unit, the fast tier: `make test-fast` (plain pytest,
no brownie plugin, a few seconds); `make test` runs it too, inside the whole suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec

from brownie import ZERO_ADDRESS, chain, web3
from eth_abi import encode
from eth_utils import keccak

from api.write import kinds as gateway_kinds
from returntrace import eip712, gs1, kinds, messages, refs
from returntrace.escrow import Listing
from returntrace.messages import Signed
from returntrace.vocab import AggregationAction, BizStep, Disposition
from scripts.deploy import DEMO_GTIN, Deployment, Signer

_GET_NONCE = keccak(text="getNonce(address)")[:4]  # IDelegatedSignatures: every signing contract's nonces
BATCH_FIELDS = ("nonce", "deadline")  # what a one-item helper passes to the batch, not the item
DEADLINE = 3600  # seconds a signature stays valid unless the caller says otherwise
P = ParamSpec("P")


@dataclass(frozen=True)
class Offer:
    """What a brand lists a unit under: ReturnEscrow.list's arguments but the serial."""

    market: int
    currency: str
    price: int
    delivery_fee: int
    return_fee: int  # the return shipping the buyer pays if it sends the unit back
    gtin: int = DEMO_GTIN


def order_ref(escrow: Any, order_id: int) -> bytes:
    """ReturnEscrow.orderRef(orderId): what delivery scans carry (computed as the contract does)."""
    return refs.order_ref(chain.id, escrow.address, order_id)


def rma_ref(escrow: Any, order_id: int) -> bytes:
    """ReturnEscrow.rmaRef(orderId): what the return's scans carry."""
    return refs.rma_ref(order_ref(escrow, order_id))


def listing_terms(escrow: Any, unit_id: bytes) -> tuple:
    """What a buyer commits to when buying the listed unit (IReturnEscrow.ListingTerms): the listing as it stands."""
    return Listing.decode(escrow.listing(unit_id), escrow.abi).terms().as_tuple()


def relayed(sign: Callable[Concatenate[Builder, P], Signed]) -> Callable[Concatenate[Builder, P], Any]:
    """A Builder method that signs as `sign` does and relays the message (`Builder.relay`): its
    parameters are `sign`'s, declared once."""

    def sign_and_relay(self: Builder, *args: P.args, **kwargs: P.kwargs) -> Any:
        return self.relay(sign(self, *args, **kwargs))

    sign_and_relay.__doc__ = f"`{sign.__name__}`, relayed: {sign.__doc__ or ''}"
    return sign_and_relay


def chain_nonce(domain: eip712.Domain, signer: str) -> int:
    """`signer`'s next nonce at the domain's verifying contract, as the chain has it now."""
    data = _GET_NONCE + encode(["address"], [signer])
    return int.from_bytes(web3.eth.call({"to": domain.verifying_contract, "data": "0x" + data.hex()}), "big")


class Builder:
    """Builds and sends what the deployment's actors sign and do. `relayer` sends the signed
    messages; `count_pending` makes a signature taken without an explicit nonce follow the ones
    signed before and not sent yet (off where the chain is reverted under the builder, as
    hypothesis does between examples: the chain's nonce alone then); `silent` quiets brownie."""

    def __init__(
        self,
        d: Deployment,
        relayer: Any = None,
        *,
        actors: dict[str, Signer] | None = None,
        count_pending: bool = True,
        silent: bool = False,
    ) -> None:
        self.d, self.relayer = d, relayer
        self.actors = d.actors if actors is None else actors
        self.count_pending, self.silent = count_pending, silent
        self._pending: dict[tuple[str, str], int] = {}
        self._serial = 0

    # -- who, when, which order

    def document(self, kind: str, who: str | Signer, issued_at: int | None = None, **fields: Any) -> dict[str, Any]:
        """The POST body of a `kind` document signed by `who` (an actor's name or a Signer), issued now
        unless `issued_at` says otherwise."""
        signer = self.signer(who)
        issued = self.now() if issued_at is None else issued_at
        return messages.sign_document(self.d.documents_domain, kind, signer.key, signer.address, issued, **fields)

    def signer(self, who: str | Signer) -> Signer:
        return self.actors[who] if isinstance(who, str) else who

    def now(self) -> int:
        return chain.time()

    def next_serial(self, prefix: str, width: int = 6) -> str:
        """A serial no other call of this builder gave: `prefix` and a running number."""
        self._serial += 1
        return f"{prefix}{self._serial:0{width}d}"

    def unit(self, order_id: int) -> bytes:
        return bytes(self.d.escrow.order(order_id)["unitId"])

    def order_ref(self, order_id: int) -> bytes:
        return order_ref(self.d.escrow, order_id)

    def rma_ref(self, order_id: int) -> bytes:
        return rma_ref(self.d.escrow, order_id)

    @staticmethod
    def unit_of(commission: dict[str, Any]) -> bytes:
        return gs1.unit_id(commission["gtin"], commission["serial"])

    # -- signing

    def nonce(self, domain: eip712.Domain, who: str | Signer) -> int:
        """The next nonce of `who` in `domain`'s nonce space: the chain's, or (count_pending) one past
        the last this builder gave, so that messages signed and not sent yet keep their order."""
        address = self.signer(who).address
        on_chain = chain_nonce(domain, address)
        if not self.count_pending:
            return on_chain
        key = (domain.verifying_contract, address)
        nonce = max(on_chain, self._pending.get(key, -1) + 1)
        self._pending[key] = nonce
        return nonce

    def domain(self, kind: str) -> eip712.Domain:
        """The domain a `kind` message is signed under: its contract's in this deployment (returntrace/kinds.py)."""
        return self.d.domain_of(kinds.KINDS[kind].contract)

    def sign(self, kind: str, domain: eip712.Domain, who: str | Signer, **fields: Any) -> Signed:
        """A `kind` message signed by `who` under `domain`: `fields` as given, the signer field
        filled, the next nonce (`nonce=` to choose one) and a deadline an hour ahead (`deadline=`)."""
        signer = self.signer(who)
        nonce = fields.pop("nonce", None)
        if nonce is None:
            nonce = self.nonce(domain, signer)
        deadline = fields.pop("deadline", None)
        if deadline is None:
            deadline = self.now() + DEADLINE
        return messages.sign(domain, kind, signer.key, signer.address, nonce, deadline, **fields)

    # -- items: at the actor's GLN and the chain's time unless `fields` say otherwise

    def commission_item(self, serial: str, gtin: int = DEMO_GTIN, **fields: Any) -> dict[str, Any]:
        """A unit commissioned at the brand's site, now."""
        return {**messages.commission_item(gtin, serial, self.actors["brand"].gln, self.now()), **fields}

    def event(
        self,
        unit_id: bytes,
        step: BizStep,
        actor: str | Signer,
        disposition: Disposition = Disposition.IN_PROGRESS,
        **fields: Any,
    ) -> dict[str, Any]:
        """An unsigned scan by `actor`."""
        return {**messages.event_item(unit_id, step, disposition, self.signer(actor).gln, self.now()), **fields}

    def aggregation(
        self,
        sscc: int,
        children: list[bytes],
        action: AggregationAction = AggregationAction.ADD,
        actor: str | Signer = "carrier",
        step: BizStep | None = None,
        disposition: Disposition = Disposition.IN_PROGRESS,
        **fields: Any,
    ) -> dict[str, Any]:
        """An unsigned packing (ADD) or unpacking (DELETE) of `children` in the parcel `sscc` by `actor`."""
        return {
            **messages.aggregation_item(sscc, children, self.signer(actor).gln, self.now(), action, step, disposition),
            **fields,
        }

    def decommission_item(
        self,
        serial: str,
        gtin: int = DEMO_GTIN,
        disposition: Disposition = Disposition.INACTIVE,
        actor: str | Signer = "brand",
        **fields: Any,
    ) -> dict[str, Any]:
        """An unsigned closing of a unit of the brand's own stock by `actor`."""
        return {**messages.decommission_item(gtin, serial, disposition, self.signer(actor).gln, self.now()), **fields}

    # -- registry batches

    def batch(
        self,
        kind: str,
        who: str | Signer,
        items: Iterable[dict[str, Any]],
        *,
        domain: eip712.Domain | None = None,
        **fields: Any,
    ) -> Signed:
        """A CommissionBatch, EventBatch, AggregationBatch or DecommissionBatch of `items`, signed
        by `who` under the registry's domain (or `domain`: another registry's); `fields`: nonce, deadline."""
        return self.sign(kind, domain or self.domain(kind), who, **{messages.items_field(kind): list(items)}, **fields)

    def relay(self, s: Signed) -> Any:
        """`s` sent by the relayer to the contract function that takes its kind, the one the gateway's
        relayer calls (api/write/kinds.py): a batch alone in the call's list, a request as its struct
        and signature."""
        kind = gateway_kinds.KINDS[s.kind]
        call = getattr(getattr(self.d, kind.contract), kind.call)
        args = ([s.args],) if kind.batches else (s.struct, s.signature)
        return call(*args, {"from": self.relayer}, silent=self.silent)

    def commission(self, who: str | Signer, units: Iterable[dict[str, Any]], **fields: Any) -> Any:
        return self.relay(self.batch("CommissionBatch", who, units, **fields))

    def record(self, who: str | Signer, events: Iterable[dict[str, Any]], **fields: Any) -> Any:
        return self.relay(self.batch("EventBatch", who, events, **fields))

    def aggregate(self, who: str | Signer, aggregations: Iterable[dict[str, Any]], **fields: Any) -> Any:
        return self.relay(self.batch("AggregationBatch", who, aggregations, **fields))

    def decommission(self, who: str | Signer, units: Iterable[dict[str, Any]], **fields: Any) -> Any:
        return self.relay(self.batch("DecommissionBatch", who, units, **fields))

    def scan(
        self,
        unit_id: bytes,
        step: BizStep,
        actor: str | Signer,
        disposition: Disposition = Disposition.IN_PROGRESS,
        **fields: Any,
    ) -> Any:
        """One event signed by `actor` in a batch of one, relayed. `nonce` and `deadline` go to the
        batch, other keywords to the event."""
        batch = {k: fields.pop(k) for k in BATCH_FIELDS if k in fields}
        return self.record(actor, [self.event(unit_id, step, actor, disposition, **fields)], **batch)

    # -- orders

    def list_unit(self, serial: str, offer: Offer, brand: str = "brand") -> tuple[bytes, Any]:
        """The brand commissions `serial` and lists it: (unit id, the listing's transaction)."""
        item = self.commission_item(serial, offer.gtin)
        self.commission(brand, [item])
        return self.unit_of(item), self.list_for_sale(serial, offer, brand)

    def list_for_sale(self, serial: str, offer: Offer, brand: str = "brand") -> Any:
        """The brand lists a commissioned unit for sale."""
        return self.d.escrow.list(
            offer.gtin,
            serial,
            offer.market,
            offer.currency,
            offer.price,
            offer.delivery_fee,
            offer.return_fee,
            {"from": self.actors[brand].account},
            silent=self.silent,
        )

    def purchase(self, unit_id: bytes, buyer: str = "buyer", confirms: bool = False, token: Any = None) -> Any:
        """The buyer pays price and delivery into escrow, committing to the listing as it stands
        (`confirms`: the statutory exceptions confirmed at purchase); an ERC-20 listing is paid in
        `token`, approved here."""
        terms = listing_terms(self.d.escrow, unit_id)
        currency, total = terms[2], terms[3] + terms[4]
        account = self.actors[buyer].account
        if currency == ZERO_ADDRESS:
            return self.d.escrow.purchase(
                unit_id, terms, confirms, {"from": account, "value": total}, silent=self.silent
            )
        token.approve(self.d.escrow, total, {"from": account}, silent=self.silent)
        return self.d.escrow.purchase(unit_id, terms, confirms, {"from": account}, silent=self.silent)

    def order_scan(
        self,
        order_id: int,
        step: BizStep,
        actor: str | Signer,
        disposition: Disposition,
        *,
        rma: bool = False,
        **fields: Any,
    ) -> Any:
        """A scan of the order's unit by `actor`, relayed as `scan` does, under the order's reference
        (`rma`: the return's, which the return's scans carry)."""
        ref = self.rma_ref(order_id) if rma else self.order_ref(order_id)
        return self.scan(self.unit(order_id), step, actor, disposition, bizTransaction=ref, **fields)

    def deliver(self, order_id: int, carrier: str = "carrier", **fields: Any) -> Any:
        """The carrier's delivery scan under the order's reference."""
        return self.order_scan(order_id, BizStep.DELIVERING, carrier, Disposition.DELIVERED, **fields)

    def request_return(self, order_id: int, reason: int = 0, remedy: int = 0, buyer: str = "buyer") -> Any:
        """The buyer asks for the return itself (pays the gas)."""
        return self.d.escrow.requestReturn(
            order_id, reason, remedy, {"from": self.actors[buyer].account}, silent=self.silent
        )

    def sign_return_request(
        self, order_id: int, reason: int = 0, remedy: int = 0, buyer: str = "buyer", **fields: Any
    ) -> Signed:
        """A buyer's return request, signed for the escrow."""
        return self.sign(
            "ReturnRequest",
            self.domain("ReturnRequest"),
            buyer,
            orderId=order_id,
            reason=reason,
            remedy=remedy,
            **fields,
        )

    relay_return_request = relayed(sign_return_request)  # no gas for the buyer

    def receive(self, order_id: int, warehouse: str = "warehouse", **fields: Any) -> Any:
        """The return center's receiving scan under the order's RMA."""
        return self.order_scan(order_id, BizStep.RECEIVING, warehouse, Disposition.RETURNED, rma=True, **fields)

    def sign_inspection(
        self,
        order_id: int,
        facts: int,
        grade: int,
        inspector: str = "inspector",
        *,
        evidence: bytes | str,
        **fields: Any,
    ) -> Signed:
        """An inspector's attestation of the facts and grade (no diminished value unless given)."""
        fields.setdefault("diminishedValue", 0)
        return self.sign(
            "Inspection",
            self.domain("Inspection"),
            inspector,
            orderId=order_id,
            facts=int(facts),
            grade=int(grade),
            evidence=evidence,
            **fields,
        )

    inspect = relayed(sign_inspection)

    def sign_defect_claim(self, order_id: int, evidence: bytes | str, buyer: str = "buyer", **fields: Any) -> Signed:
        """A buyer's defect claim, signed for the ReissueDesk (its domain and nonces, not the escrow's)."""
        return self.sign(
            "DefectClaim", self.domain("DefectClaim"), buyer, orderId=order_id, evidence=evidence, **fields
        )

    claim_defect = relayed(sign_defect_claim)

    def returned(self, order_id: int, reason: int = 0) -> int:
        """Delivered, return requested by the buyer and received by the warehouse."""
        self.deliver(order_id)
        self.request_return(order_id, reason)
        self.receive(order_id)
        return order_id
