"""Checks a signed message before the outbox accepts it: everything the contract will check that
the gateway can know now — schema, GS1 keys, signature, the signer's role on-chain, the unit, the
nonce and the deadline — so that an accepted message is one the chain will take.

Each failed check raises ApiError with its own code; nothing is stored unless all pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from eth_utils import to_checksum_address

from returntrace import eip712, gs1, hashchain
from returntrace.escrow import Facts, Grade, Order, OrderStatus, Policy, Remedy, ReturnReason
from returntrace.vocab import PARTNER_DISPOSITIONS, STEP_ROLES, AggregationAction, BizStep, Disposition, Role, closes

from ..chain.reader import ChainReader
from ..errors import ApiError, storable
from ..store.cases import CaseStore
from ..store.evidence import EvidenceStore
from ..store.index import SqliteIndex
from ..store.outbox import Message, NonceConflict, Outbox, UnitConflict
from . import refund_on_receipt
from .signatures import check_signature

if TYPE_CHECKING:  # kinds.py names this module's checks: imported here for the type only
    from .kinds import MessageKind

MAX_CLOCK_SKEW = 300  # TraceRegistry.MAX_CLOCK_SKEW
# The step each aggregation action must carry (TraceRegistry.aggregate: TraceRegistryInvalidStep).
ACTION_STEP = {AggregationAction.ADD: BizStep.PACKING, AggregationAction.DELETE: BizStep.UNPACKING}
# A check's marks: (unit id, "create" | one of outbox.MARKS) — what the message does to units once mined.
Marks = list[tuple[bytes, str]]


class SignedBody(Protocol):
    """A request body (api/write/schemas.py, a pydantic model): the signed message and its signature."""

    signature: str

    def model_dump(self) -> dict[str, Any]: ...


def _gln(value: int | str, where: str) -> int:
    try:
        return gs1.validate_gln(value)
    except gs1.GS1Error as exc:
        raise ApiError(400, "invalid_gln", f"{where}: {exc}") from exc


def _check_time(event_time: int, now: int, where: str) -> None:
    if event_time == 0 or event_time > now + MAX_CLOCK_SKEW:
        raise ApiError(
            400, "invalid_event_time", f"{where}: eventTime {event_time} is zero or ahead of chain time {now}"
        )


def normalize(kind: str, body: SignedBody) -> dict[str, Any]:
    """The EIP-712 message as signed (GTINs as 14-digit integers, GLNs as integers), JSON-safe."""
    data = body.model_dump()
    data.pop("signature")
    signer_field = eip712.SIGNER_FIELD[kind]
    data[signer_field] = to_checksum_address(data[signer_field])
    if "orderId" in data:  # an order the index cannot key cannot exist (the escrow counts from 1)
        storable(data["orderId"], "orderId")
    if kind == "EventBatch":
        for i, e in enumerate(data["events"]):
            e["location"] = _gln(e["location"], f"events[{i}].location")
    elif kind == "AggregationBatch":
        for i, a in enumerate(data["aggregations"]):
            try:
                a["sscc"] = gs1.validate_sscc(a["sscc"])
            except gs1.GS1Error as exc:
                raise ApiError(400, "invalid_sscc", f"aggregations[{i}]: {exc}") from exc
            a["location"] = _gln(a["location"], f"aggregations[{i}].location")
    elif kind in ("CommissionBatch", "DecommissionBatch"):
        for i, u in enumerate(data["units"]):
            try:
                u["gtin"] = int(gs1.normalize_gtin(u["gtin"]))
                gs1.validate_serial(u["serial"])
            except gs1.GS1Error as exc:
                code = "invalid_serial" if "serial" in str(exc) else "invalid_gtin"
                raise ApiError(400, code, f"units[{i}]: {exc}") from exc
            u["location"] = _gln(u["location"], f"units[{i}].location")
    return data


def _hex(ids: Iterable[bytes]) -> list[str]:
    """Ids as the outbox keeps them; a list, not a generator, so that no code of this room runs in the store's."""
    return ["0x" + i.hex() for i in ids]


class Intake:
    def __init__(
        self,
        reader: ChainReader,
        outbox: Outbox,
        min_deadline_margin: int,
        *,
        evidence: EvidenceStore,
        private: CaseStore,
        index: SqliteIndex | None = None,
    ) -> None:
        self.reader, self.outbox, self.margin = reader, outbox, min_deadline_margin
        # A defect claim's photo must be private to its order (409 evidence_not_private): the files held, and
        # which of them are private to which orders (the cases' file).
        self.evidence, self.private = evidence, private
        self.index = index  # names the parcel a unit is already packed in (409 already_packed); None: not named

    def accept(self, entry: MessageKind, body: SignedBody) -> tuple[Message, bool]:
        """Checks a signed message of the kind `entry` (api/write/kinds.py) and stores it in the outbox:
        (the stored message, True) if it is new, (the one stored before, False) if it was sent before."""
        kind = entry.name
        message = normalize(kind, body)
        signature = bytes.fromhex(body.signature[2:])
        domain = self.reader.chain.domain_for(kind)
        digest = domain.digest(kind, message)
        message_id = "0x" + digest.hex()
        existing = self.outbox.get(message_id)
        if existing is not None:
            return existing, False

        signer = message[entry.kind.signer]
        now = self.reader.block_time()
        if message["deadline"] < now + self.margin:
            raise ApiError(
                410, "expired", f"deadline {message['deadline']} is past or within {self.margin} s of chain time {now}"
            )
        check_signature(self.reader, signer, digest, signature)
        # A check returns what the message does to units (created, closed, packed); the outbox records it.
        marks: Marks = entry.check(self, signer, message, now) or []
        created = [u for u, mark in marks if mark == "create"]

        chain_nonce = self.reader.nonce(entry.contract, signer)
        if message["nonce"] < chain_nonce:
            raise ApiError(
                409,
                "nonce_used",
                f"nonce {message['nonce']} was used or cancelled; the signer's next nonce on-chain is {chain_nonce}",
                expected=chain_nonce,
            )
        candidate = Message.candidate(
            id=message_id,
            kind=kind,
            signer=signer,
            nonce=message["nonce"],
            deadline=message["deadline"],
            item_count=len(entry.kind.items_of(message)),
            body={**message, "signature": body.signature},
        )
        try:
            return self.outbox.accept(
                candidate,
                chain_nonce,
                ["0x" + u.hex() for u in created],
                [("0x" + u.hex(), mark) for u, mark in marks if mark != "create"],
            )
        except NonceConflict as exc:
            raise ApiError(409, "nonce_conflict", str(exc), expected=exc.expected) from exc
        except UnitConflict as exc:
            raise ApiError(409, "unit_exists", str(exc)) from exc

    @staticmethod
    def _check_step(signer: str, roles: int, item: dict[str, Any], now: int, where: str) -> None:
        """What TraceRegistry._checkStep checks of an event or aggregation: step, disposition, the
        signer's role for the step, the partner role a donated/recycled disposition needs, the time."""
        step, disposition = item["bizStep"], item["disposition"]
        if step not in BizStep._value2member_map_ or step in (BizStep.COMMISSIONING, BizStep.DECOMMISSIONING):
            raise ApiError(
                400,
                "invalid_step",
                f"{where}: bizStep {step} is not a step recorded here (commissioning has /v1/commissions, a "
                "brand's decommissioning /v1/decommissions; see /v1/eip712)",
            )
        if disposition not in Disposition._value2member_map_:
            raise ApiError(
                400, "invalid_disposition", f"{where}: disposition {disposition} is unknown (see /v1/eip712)"
            )
        allowed = STEP_ROLES[BizStep(step)]
        if not roles & allowed:
            raise ApiError(
                403,
                "role_not_allowed",
                f"{where}: {signer} holds roles {Role(roles)!r} on-chain; {BizStep(step).name.lower()} needs one "
                f"of {allowed!r}",
            )
        partner = PARTNER_DISPOSITIONS.get(Disposition(disposition))
        if partner is not None and not roles & partner:
            raise ApiError(
                403,
                "disposition_not_allowed",
                f"{where}: only an accredited {str(partner.name).lower()} may sign disposition "
                f"{Disposition(disposition).name.lower()}; {signer} holds {Role(roles)!r}",
            )
        _check_time(item["eventTime"], now, where)

    def _open_units(self, ids: list[bytes], where: str) -> dict[bytes, int]:
        """Every id is a unit or parcel on-chain, or one an accepted commissioning or first packing
        creates (404 unknown_unit); none is closed on-chain or by a queued event (409 unit_closed),
        as the registry will refuse. One batched read of their records; returns them (0: not mined)."""
        records = self.reader.unit_states(ids)
        for i, unit in enumerate(ids):
            if not records.get(unit) and not self.outbox.is_pending_unit("0x" + unit.hex()):
                raise ApiError(
                    404,
                    "unknown_unit",
                    f"{where}[{i}]: unit 0x{unit.hex()} is not commissioned in this deployment's registry (nor "
                    "packed, for a parcel)",
                )
        closing = self.outbox.marked(_hex(ids), "close")
        for i, unit in enumerate(ids):
            if hashchain.is_closed(records.get(unit, 0)):
                raise ApiError(
                    409,
                    "unit_closed",
                    f"{where}[{i}]: 0x{unit.hex()} was donated, recycled, destroyed or decommissioned: its "
                    "lifecycle is closed",
                )
            if "0x" + unit.hex() in closing:
                raise ApiError(
                    409, "unit_closed", f"{where}[{i}]: a queued event closes 0x{unit.hex()}: it takes no later event"
                )
        return records

    def _check_EventBatch(self, signer: str, message: dict[str, Any], now: int) -> Marks:
        roles = self.reader.actor_roles(signer)
        for i, e in enumerate(message["events"]):
            self._check_step(signer, roles, e, now, f"events[{i}]")
        # A parcel's id is a unit id: an event on it is one scan of the whole parcel.
        units = [bytes.fromhex(e["unitId"][2:]) for e in message["events"]]
        self._open_units(units, "events")
        closed: set[bytes] = set()
        for i, (e, unit) in enumerate(zip(message["events"], units, strict=True)):
            if unit in closed:
                raise ApiError(
                    409, "unit_closed", f"events[{i}]: an earlier event of this message closes unit 0x{unit.hex()}"
                )
            if closes(e["bizStep"], e["disposition"]):
                closed.add(unit)
        self._check_parcels_empty(closed)
        units_closed = closed - self.reader.parcels_among(list(closed)) if closed else set()
        self._check_may_close(
            signer, roles, {u: e for e, u in zip(message["events"], units, strict=True) if u in units_closed}, "events"
        )
        return [(u, "close") for u in closed]

    def _check_may_close(self, signer: str, roles: int, closing: dict[bytes, dict[str, Any]], where: str) -> None:
        """What TraceRegistry._checkClosing asks of each unit (not parcel) an event closes: unpacked
        (on-chain or by a queued packing), and the escrow's close guard allows this signer's closing
        now: a partner's donation, recycling or destruction only after a settlement whose grade terms
        send the unit there; a brand's decommissioning only of its stock."""
        if not closing:
            return
        parents = self.reader.parents(list(closing))
        packing = self.outbox.marked(_hex(closing), "pack")
        for unit, item in closing.items():
            parent = parents.get(unit, bytes(32))
            if int.from_bytes(parent, "big") or "0x" + unit.hex() in packing:
                raise ApiError(
                    409,
                    "already_packed",
                    f"{where}: unit 0x{unit.hex()} is in a parcel; unpack it before an event closes it",
                    parcel="0x" + parent.hex(),
                )
            if not self.reader.may_close(unit, signer, roles, item["bizStep"], item["disposition"]):
                raise ApiError(
                    403,
                    "closing_not_allowed",
                    f"{where}: the escrow does not let {signer} close unit 0x{unit.hex()} with disposition "
                    f"{Disposition(item['disposition']).name.lower()} now: "
                    "a brand decommissions only unlisted stock without an open order (/v1/decommissions); a "
                    "partner closes only a returned unit "
                    "whose settlement's grade terms send it there",
                )

    def _check_parcels_empty(self, closing: set[bytes]) -> None:
        """A closing event on a parcel that still holds units, on-chain or by a queued packing, is
        refused as the registry will (TraceRegistryParcelNotEmpty)."""
        if not closing:
            return
        sizes = self.reader.parcel_sizes(list(closing))
        filling = self.outbox.marked(_hex(closing), "fill")
        for unit in closing:
            if sizes.get(unit) or "0x" + unit.hex() in filling:
                raise ApiError(
                    409,
                    "parcel_not_empty",
                    f"parcel 0x{unit.hex()} still holds {sizes.get(unit) or 'queued'} units: unpack them before "
                    "an event closes it",
                )

    def _check_AggregationBatch(self, signer: str, message: dict[str, Any], now: int) -> Marks:
        """What TraceRegistry.aggregate checks, against parentOf read now and applied in order through
        the message. Marks the parcels its first ADD creates (so that scans of a parcel whose packing
        is still queued are accepted like events of a unit whose commissioning is), the units it packs
        and the parcels it fills (so that a second packing or a closing scan is refused meanwhile)."""
        roles = self.reader.actor_roles(signer)
        aggregations = message["aggregations"]
        children: list[bytes] = []
        for i, a in enumerate(aggregations):
            where = f"aggregations[{i}]"
            if a["action"] not in AggregationAction._value2member_map_:
                raise ApiError(400, "invalid_action", f"{where}: action {a['action']} is not 1 (ADD) or 2 (DELETE)")
            self._check_step(signer, roles, a, now, where)
            expected = ACTION_STEP[AggregationAction(a["action"])]
            if a["bizStep"] != expected:
                raise ApiError(
                    400,
                    "invalid_step",
                    f"{where}: an {AggregationAction(a['action']).name} is bizStep {int(expected)} "
                    f"({expected.name.lower()}), not {a['bizStep']}",
                )
            if closes(a["bizStep"], a["disposition"]):
                raise ApiError(
                    400,
                    "invalid_disposition",
                    f"{where}: an aggregation may not close its units (disposition "
                    f"{Disposition(a['disposition']).name.lower()})",
                )
            if not a["childIds"]:
                raise ApiError(400, "empty_aggregation", f"{where}: an aggregation names at least one unit (childIds)")
            children += [bytes.fromhex(c[2:]) for c in a["childIds"]]
        parcels = list(dict.fromkeys(gs1.parcel_id(a["sscc"]) for a in aggregations))
        self._open_units(children, "childIds")
        records = self.reader.unit_states(parcels)  # closed ones are remembered: no read
        closing = self.outbox.marked(_hex(parcels), "close")
        for p in parcels:
            if hashchain.is_closed(records.get(p, 0)) or "0x" + p.hex() in closing:
                raise ApiError(
                    409, "unit_closed", f"parcel 0x{p.hex()}'s lifecycle is closed (or a queued event closes it)"
                )
        parent = self.reader.parents(children)
        queued_packs = self.outbox.marked(_hex(children), "pack")
        marks: Marks = []
        for i, a in enumerate(aggregations):
            where = f"aggregations[{i}]"
            parcel = gs1.parcel_id(a["sscc"])
            for c in (bytes.fromhex(x[2:]) for x in a["childIds"]):
                if a["action"] == AggregationAction.ADD:
                    if c == parcel:
                        raise ApiError(409, "parcel_in_parcel", f"{where}: 0x{c.hex()} is the parcel itself")
                    if int.from_bytes(parent.get(c, bytes(32)), "big"):
                        packed = parent[c]
                        raise ApiError(
                            409,
                            "already_packed",
                            f"{where}: unit 0x{c.hex()} is in parcel 0x{packed.hex()} already; unpack it first",
                            parcel="0x" + packed.hex(),
                            sscc=self._sscc_of(packed),
                        )
                    if "0x" + c.hex() in queued_packs:
                        raise ApiError(
                            409,
                            "already_packed",
                            f"{where}: a queued packing puts unit 0x{c.hex()} in a parcel already",
                        )
                    parent[c] = parcel
                    marks += [(c, "pack"), (parcel, "fill")]
                else:
                    if parent.get(c) != parcel:
                        raise ApiError(
                            409, "not_in_parcel", f"{where}: unit 0x{c.hex()} is not in parcel {a['sscc']:018d}"
                        )
                    parent[c] = bytes(32)
            created = any(u == parcel and mark == "create" for u, mark in marks)
            if (
                a["action"] == AggregationAction.ADD
                and not records.get(parcel)
                and not created
                and not self.outbox.is_pending_unit("0x" + parcel.hex())
            ):
                marks.append((parcel, "create"))
        return list(dict.fromkeys(marks))

    def _sscc_of(self, parcel_id: bytes) -> str | None:
        """The SSCC of a parcel the index knows (the chain keeps only its id)."""
        if self.index is None:
            return None
        with self.index.read() as r:
            found = r.parcel("0x" + parcel_id.hex())
        return f"{found['sscc']:018d}" if found else None

    def _check_brand_of(self, signer: str, gtin: int, where: str) -> None:
        """The product is registered, to the signing brand (TraceRegistry: only a product's brand
        commissions or decommissions its units)."""
        product = self.reader.product(gtin)
        if product is None:
            raise ApiError(404, "unknown_product", f"{where}: GTIN {gtin:014d} is not registered")
        if product[0] != signer:
            raise ApiError(403, "not_brand_of_product", f"{where}: GTIN {gtin:014d} belongs to {product[0]}")

    def _check_CommissionBatch(self, signer: str, message: dict[str, Any], now: int) -> Marks:
        if not self.reader.actor_roles(signer) & Role.BRAND:
            raise ApiError(403, "role_not_allowed", f"{signer} is not an accredited brand on-chain")
        units: list[bytes] = []
        for i, u in enumerate(message["units"]):
            where = f"units[{i}]"
            self._check_brand_of(signer, u["gtin"], where)
            _check_time(u["eventTime"], now, where)
            units.append(gs1.unit_id(u["gtin"], u["serial"]))
        existing = self.reader.existing_units(units)  # one batched read for the whole message
        seen: set[bytes] = set()
        for i, (u, unit) in enumerate(zip(message["units"], units, strict=True)):
            if unit in seen or unit in existing or self.outbox.is_pending_unit("0x" + unit.hex()):
                raise ApiError(
                    409, "unit_exists", f"units[{i}]: unit {u['gtin']:014d}/{u['serial']} is already commissioned"
                )
            seen.add(unit)
        return [(u, "create") for u in units]

    def _check_DecommissionBatch(self, signer: str, message: dict[str, Any], now: int) -> Marks:
        """What TraceRegistry._decommissionBatch checks: an accredited brand, its own products, a
        disposition the brand may give (not a partner's donated or recycled), units that exist, are
        open, unpacked, and that the escrow's guard lets the brand close (its stock only)."""
        roles = self.reader.actor_roles(signer)
        if not roles & Role.BRAND:
            raise ApiError(403, "role_not_allowed", f"{signer} is not an accredited brand on-chain")
        units: list[bytes] = []
        for i, u in enumerate(message["units"]):
            where = f"units[{i}]"
            self._check_brand_of(signer, u["gtin"], where)
            disposition = u["disposition"]
            if disposition not in Disposition._value2member_map_ or Disposition(disposition) in PARTNER_DISPOSITIONS:
                raise ApiError(
                    400,
                    "invalid_disposition",
                    f"{where}: disposition {disposition} is not one a brand decommissions with (donated and "
                    "recycled are its partners' receipts)",
                )
            _check_time(u["eventTime"], now, where)
            units.append(gs1.unit_id(u["gtin"], u["serial"]))
        if len(set(units)) != len(units):
            raise ApiError(409, "unit_closed", "a unit appears twice: the first decommissioning closes it")
        self._open_units(units, "units")
        self._check_may_close(
            signer,
            roles,
            {
                unit: {"bizStep": BizStep.DECOMMISSIONING, "disposition": u["disposition"]}
                for unit, u in zip(units, message["units"], strict=True)
            },
            "units",
        )
        return [(u, "close") for u in units]

    def _check_Inspection(self, signer: str, message: dict[str, Any], now: int) -> None:
        """What ReturnInspection.check checks: the grade and facts, an order awaiting inspection, an
        inspector independent of both parties, the receiving scan and the SLA."""
        roles, organization = self.reader.actor(signer)
        if not roles & Role.INSPECTOR:
            raise ApiError(403, "role_not_allowed", f"{signer} is not an accredited inspector on-chain")
        if message["grade"] not in (Grade.A, Grade.B, Grade.C):
            raise ApiError(400, "invalid_grade", f"grade {message['grade']} is not 1 (A), 2 (B) or 3 (C)")
        if message["facts"] > Facts.ALL:
            raise ApiError(
                400,
                "invalid_facts",
                f"facts {message['facts']} has bits beyond SEAL_INTACT|PACKAGING_INTACT|USED|DEFECTIVE",
            )
        order_id = message["orderId"]
        order = self._existing_order(order_id)
        status = order.status
        refunded = status == OrderStatus.REFUNDED and order.grade == Grade.NONE  # paid before any inspection
        if not order.awaits_inspection:
            raise ApiError(
                409, "order_not_returned", f"order {order_id} is not awaiting inspection (status {status:d})"
            )
        if status in (
            OrderStatus.SECOND_INSPECTION,
            OrderStatus.DISPUTED,
        ) and organization == self.reader.first_inspection_organization(order_id):
            raise ApiError(
                403,
                "inspector_not_independent",
                f"{signer} belongs to the organisation (GLN {organization}) whose inspector gave order "
                f"{order_id}'s first opinion: the second comes from another house",
            )
        for party, whose in ((order.merchant, "merchant"), (order.buyer, "buyer")):
            if signer == party or organization == self.reader.actor(party)[1]:
                raise ApiError(
                    403,
                    "inspector_not_independent",
                    f"{signer} is the {whose} or belongs to the {whose}'s organisation (GLN {organization}) and "
                    "may not grade this return",
                )
        if not refunded:  # the SLA protects a refund; a refunded order's fate may be decided late
            received = self.reader.return_received_at(order_id)
            if received == 0:
                raise ApiError(
                    409,
                    "not_returned",
                    f"order {order_id}'s unit has no receiving scan under its RMA since the return request",
                )
            sla_end = received + self.reader.policy(order.market, order.policy_version).inspection_sla
            if now > sla_end:
                raise ApiError(
                    409,
                    "sla_elapsed",
                    f"order {order_id}'s inspection SLA ended at {sla_end}; the buyer may claim the uninspected refund",
                )
        # After a refund on receipt (or when the escrow releases it first, in the same transaction)
        # the inspection only decides the unit's fate, and its grade must be the one the facts give.
        disposition_only = refunded or (
            status == OrderStatus.RETURN_REQUESTED and refund_on_receipt.releasable(self.reader, order_id, order)[0]
        )
        # So must an attestation for the arbiter of a dispute opened before any inspection.
        if disposition_only or status == OrderStatus.DISPUTED:
            derived = self.reader.derive_grade(order.market, order.policy_version, message["facts"])
            if message["grade"] != derived:
                why = "is in a dispute" if status == OrderStatus.DISPUTED else "was refunded before its inspection"
                raise ApiError(
                    409,
                    "grade_mismatch",
                    f"order {order_id} {why}: the inspection must claim grade {Grade(derived).name}, the grade "
                    "its facts give",
                )

    def _check_ReturnRequest(self, signer: str, message: dict[str, Any], now: int) -> None:
        if message["reason"] > max(ReturnReason):
            raise ApiError(
                400, "invalid_reason", f"reason {message['reason']} is not a ReturnReason (0-{max(ReturnReason):d})"
            )
        if message["remedy"] not in tuple(Remedy):
            raise ApiError(
                400, "invalid_remedy", f"remedy {message['remedy']} is not 0 (refund) or 1 (exchange voucher)"
            )
        order, policy = self._check_returnable(signer, message["orderId"], now)
        if message["remedy"] == Remedy.EXCHANGE and not policy.exchange_offered:
            raise ApiError(
                403,
                "exchange_not_offered",
                f"order {message['orderId']}'s market policy does not offer an exchange voucher; request a refund "
                "(remedy 0)",
            )

    def _check_DefectClaim(self, signer: str, message: dict[str, Any], now: int) -> None:
        if int(message["evidence"], 16) == 0:
            raise ApiError(
                400,
                "evidence_required",
                "a defect claim needs evidence: the digest of a photo or video uploaded private to the order "
                f"(POST /v1/evidence?order={message['orderId']}, signed in as the buyer)",
            )
        order, _ = self._check_returnable(signer, message["orderId"], now)
        if order.claim_rejected:  # ReissueDesk: one claim per order
            raise ApiError(
                409,
                "claim_rejected",
                f"order {message['orderId']}'s defect claim was rejected: it may be returned instead",
            )
        self._check_photo_private(message["orderId"], message["evidence"])

    def _check_photo_private(self, order_id: int, evidence: str) -> None:
        """The claim puts the photo's digest on-chain, and the digest names the photo's CID: a file this gateway
        holds under it must be private to the claim's order, or anyone reading the chain downloads the buyer's
        photo. A digest of no file held here passes: there is nothing here to expose (the photo may be kept
        elsewhere, or uploaded after the claim, privately: a public upload of a claimed photo is refused)."""
        for cid in self.evidence.cids_for_digest(evidence):
            private_to = self.private.private_orders(cid)
            if order_id in private_to:
                continue
            upload = f"upload the photo with POST /v1/evidence?order={order_id}, signed in as the buyer"
            if private_to:  # the buyer's own bytes, uploaded for this order too, are private to it as well
                fix = f"{upload}, and send the claim again"
            else:
                fix = (
                    f"{upload} (bytes already public stay public: upload a new copy, e.g. re-encoded without its "
                    "metadata), and sign the claim with that digest"
                )
            raise ApiError(
                409,
                "evidence_not_private",
                f"the claim's evidence {cid} is {'private to another order' if private_to else 'public evidence'} "
                f"here, not private to order {order_id}: the claim puts its digest on-chain, for anyone to download "
                f"the photo. {fix[0].upper()}{fix[1:]}",
                cid=cid,
            )

    def _check_returnable(self, buyer: str, order_id: int, now: int) -> tuple[Order, Policy]:
        """What BuyerClaims checks of a return request or defect claim: an Active, delivered order of
        the buyer inside its return period (the escrow's returnWindowCloses). Returns the order and its policy."""
        order = self._existing_order(order_id)
        if order.buyer != buyer:
            raise ApiError(403, "not_buyer", f"order {order_id} was bought by another account")
        if order.status != OrderStatus.ACTIVE:
            raise ApiError(
                409, "order_not_active", f"order {order_id} cannot be returned or claimed in status {order.status:d}"
            )
        closes_at = self.reader.return_window_closes(order_id)
        if closes_at == 0:
            raise ApiError(409, "not_delivered", f"order {order_id} has no delivery scan yet")
        if now > closes_at:
            raise ApiError(409, "return_window_closed", f"order {order_id}'s return period ended at {closes_at}")
        return order, self.reader.policy(order.market, order.policy_version)

    def _existing_order(self, order_id: int) -> Order:
        order = self.reader.order(order_id)
        if order is None:
            raise ApiError(404, "unknown_order", f"order {order_id} does not exist")
        return order
