"""Checks a signed message before the outbox accepts it: everything the contract will check that
the gateway can know now — schema, GS1 keys, signature, the signer's role on-chain, the unit, the
nonce and the deadline — so that an accepted message is one the chain will take.

Each failed check raises ApiError with its own code; nothing is stored unless all pass.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address
from pydantic import BaseModel

from returntrace import eip712, gs1
from returntrace.policies import Grade
from returntrace.vocab import STEP_ROLES, BizStep, Disposition, Role

from .chain import (
    ORDER_BUYER, ORDER_MARKET, ORDER_MERCHANT, ORDER_POLICY_VERSION, ORDER_STATUS, POLICY_EXCHANGE_OFFERED, POLICY_RETURN_WINDOW,
    POLICY_WITHDRAWAL, ChainReader, ManifestError,
)
from .db.outbox import CONTRACT_OF_KIND, Message, NonceConflict, Outbox, UnitConflict
from .errors import ApiError
from .schemas import items_of

MAX_CLOCK_SKEW = 300  # TraceRegistry.MAX_CLOCK_SKEW
MAX_FACTS = 15
ORDER_RETURN_REQUESTED, ORDER_ACTIVE = 2, 1
# Statuses in which ReturnEscrow takes an inspection: ReturnRequested, SecondInspection, Refunded.
INSPECTABLE = (ORDER_RETURN_REQUESTED, 8, 9)
MAX_REASON = 6
REMEDY_REFUND, REMEDY_EXCHANGE = 0, 1


def _gln(value: int | str, where: str) -> int:
    try:
        return gs1.validate_gln(value)
    except gs1.GS1Error as exc:
        raise ApiError(400, "invalid_gln", f"{where}: {exc}") from exc


def _check_time(event_time: int, now: int, where: str) -> None:
    if event_time == 0 or event_time > now + MAX_CLOCK_SKEW:
        raise ApiError(400, "invalid_event_time", f"{where}: eventTime {event_time} is zero or ahead of chain time {now}")


def normalize(kind: str, body: BaseModel) -> dict[str, Any]:
    """The EIP-712 message as signed (GTINs as 14-digit integers, GLNs as integers), JSON-safe."""
    data = body.model_dump()
    data.pop("signature")
    signer_field = eip712.SIGNER_FIELD[kind]
    data[signer_field] = to_checksum_address(data[signer_field])
    if kind == "EventBatch":
        for i, e in enumerate(data["events"]):
            e["location"] = _gln(e["location"], f"events[{i}].location")
    elif kind == "CommissionBatch":
        for i, u in enumerate(data["units"]):
            try:
                u["gtin"] = int(gs1.normalize_gtin(u["gtin"]))
                gs1.validate_serial(u["serial"])
            except gs1.GS1Error as exc:
                code = "invalid_serial" if "serial" in str(exc) else "invalid_gtin"
                raise ApiError(400, code, f"units[{i}]: {exc}") from exc
            u["location"] = _gln(u["location"], f"units[{i}].location")
    return data


class Intake:
    def __init__(self, reader: ChainReader, outbox: Outbox, min_deadline_margin: int) -> None:
        self.reader, self.outbox, self.margin = reader, outbox, min_deadline_margin

    def accept(self, kind: str, body: BaseModel) -> tuple[Message, bool]:
        message = normalize(kind, body)
        signature = bytes.fromhex(body.signature[2:])
        try:
            domain = self.reader.chain.domain_for(kind)
        except ManifestError as exc:
            raise ApiError(503, "not_deployed", str(exc)) from exc
        digest = domain.digest(kind, message)
        message_id = "0x" + digest.hex()
        existing = self.outbox.get(message_id)
        if existing is not None:
            return existing, False

        signer = message[eip712.SIGNER_FIELD[kind]]
        now = self.reader.block_time()
        if message["deadline"] < now + self.margin:
            raise ApiError(410, "expired", f"deadline {message['deadline']} is past or within {self.margin} s of chain time {now}")
        self._check_signature(signer, digest, signature)
        # A commissioning's check returns the unit ids it creates; the outbox records them.
        created = getattr(self, f"_check_{kind}")(signer, message, now) or []

        contract = CONTRACT_OF_KIND[kind]
        chain_nonce = self.reader.nonce(contract, signer)
        if message["nonce"] < chain_nonce:
            raise ApiError(409, "nonce_used", f"nonce {message['nonce']} was used or cancelled; the signer's next nonce on-chain is {chain_nonce}", expected=chain_nonce)
        candidate = Message(
            id=message_id, kind=kind, signer=signer, nonce=message["nonce"], deadline=message["deadline"],
            item_count=len(items_of(kind, message)), body={**message, "signature": body.signature},
            status="accepted", tx_hash=None, block=None, error=None, accepted_at=0.0, updated_at=0.0,
        )
        try:
            return self.outbox.accept(candidate, chain_nonce, ["0x" + u.hex() for u in created])
        except NonceConflict as exc:
            raise ApiError(409, "nonce_conflict", str(exc), expected=exc.expected) from exc
        except UnitConflict as exc:
            raise ApiError(409, "unit_exists", str(exc)) from exc

    def _check_signature(self, signer: str, digest: bytes, signature: bytes) -> None:
        if self.reader.is_contract(signer):
            if not self.reader.erc1271_accepts(signer, digest, signature):
                raise ApiError(401, "invalid_signature", f"the contract wallet {signer} does not accept this signature (ERC-1271)")
            return
        try:
            recovered = Account._recover_hash(digest, signature=signature)
        except Exception as exc:  # malformed r, s or v
            raise ApiError(401, "invalid_signature", f"signature does not recover: {exc}") from exc
        if recovered != signer:
            raise ApiError(401, "invalid_signature", f"signature is by {recovered}, not by the signer {signer}")

    def _check_EventBatch(self, signer: str, message: dict[str, Any], now: int) -> None:
        roles = self.reader.actor_roles(signer)
        for i, e in enumerate(message["events"]):
            where = f"events[{i}]"
            step, disposition = e["bizStep"], e["disposition"]
            if step not in BizStep._value2member_map_ or step == BizStep.COMMISSIONING:
                raise ApiError(400, "invalid_step", f"{where}: bizStep {step} is not a step recorded by /v1/events (see /v1/eip712)")
            if disposition not in Disposition._value2member_map_:
                raise ApiError(400, "invalid_disposition", f"{where}: disposition {disposition} is unknown (see /v1/eip712)")
            allowed = STEP_ROLES[BizStep(step)]
            if not roles & allowed:
                raise ApiError(403, "role_not_allowed", f"{where}: {signer} holds roles {Role(roles)!r} on-chain; {BizStep(step).name.lower()} needs one of {allowed!r}")
            _check_time(e["eventTime"], now, where)
        units = [bytes.fromhex(e["unitId"][2:]) for e in message["events"]]
        known = self.reader.existing_units(units)
        for i, unit in enumerate(units):
            if unit not in known and not self.outbox.is_pending_unit("0x" + unit.hex()):
                raise ApiError(404, "unknown_unit", f"events[{i}]: unit 0x{unit.hex()} has not been commissioned")

    def _check_CommissionBatch(self, signer: str, message: dict[str, Any], now: int) -> list[bytes]:
        if not self.reader.actor_roles(signer) & Role.BRAND:
            raise ApiError(403, "role_not_allowed", f"{signer} is not an accredited brand on-chain")
        units: list[bytes] = []
        for i, u in enumerate(message["units"]):
            where = f"units[{i}]"
            product = self.reader.product(u["gtin"])
            if product is None:
                raise ApiError(404, "unknown_product", f"{where}: GTIN {u['gtin']:014d} is not registered")
            if product[0] != signer:
                raise ApiError(403, "not_brand_of_product", f"{where}: GTIN {u['gtin']:014d} belongs to {product[0]}")
            _check_time(u["eventTime"], now, where)
            units.append(gs1.unit_id(u["gtin"], u["serial"]))
        existing = self.reader.existing_units(units)  # one batched read for the whole message
        seen: set[bytes] = set()
        for i, (u, unit) in enumerate(zip(message["units"], units)):
            if unit in seen or unit in existing or self.outbox.is_pending_unit("0x" + unit.hex()):
                raise ApiError(409, "unit_exists", f"units[{i}]: unit {u['gtin']:014d}/{u['serial']} is already commissioned")
            seen.add(unit)
        return units

    def _check_Inspection(self, signer: str, message: dict[str, Any], now: int) -> None:
        roles, organization = self.reader.actor(signer)
        if not roles & Role.INSPECTOR:
            raise ApiError(403, "role_not_allowed", f"{signer} is not an accredited inspector on-chain")
        if message["grade"] not in (Grade.A, Grade.B, Grade.C):
            raise ApiError(400, "invalid_grade", f"grade {message['grade']} is not 1 (A), 2 (B) or 3 (C)")
        if message["facts"] > MAX_FACTS:
            raise ApiError(400, "invalid_facts", f"facts {message['facts']} has bits beyond SEAL_INTACT|PACKAGING_INTACT|USED|DEFECTIVE")
        status = self._order_status(message["orderId"])
        if status not in INSPECTABLE:
            raise ApiError(409, "order_not_returned", f"order {message['orderId']} is not awaiting inspection (status {status})")
        merchant = self.reader.order(message["orderId"])[ORDER_MERCHANT]
        if organization == self.reader.actor(merchant)[1]:
            raise ApiError(
                403, "inspector_not_independent",
                f"{signer} belongs to the merchant's organisation (GLN {organization}) and may not grade its returns",
            )

    def _check_ReturnRequest(self, signer: str, message: dict[str, Any], now: int) -> None:
        if message["reason"] > MAX_REASON:
            raise ApiError(400, "invalid_reason", f"reason {message['reason']} is not a ReturnReason (0-{MAX_REASON})")
        if message["remedy"] not in (REMEDY_REFUND, REMEDY_EXCHANGE):
            raise ApiError(400, "invalid_remedy", f"remedy {message['remedy']} is not 0 (refund) or 1 (exchange voucher)")
        order, policy = self._check_returnable(signer, message["orderId"], now)
        if message["remedy"] == REMEDY_EXCHANGE and not policy[POLICY_EXCHANGE_OFFERED]:
            raise ApiError(
                403, "exchange_not_offered",
                f"order {message['orderId']}'s market policy does not offer an exchange voucher; request a refund (remedy 0)",
            )

    def _check_DefectClaim(self, signer: str, message: dict[str, Any], now: int) -> None:
        if int(message["evidence"], 16) == 0:
            raise ApiError(400, "evidence_required", "a defect claim needs evidence: the digest of a photo or video (POST /v1/evidence)")
        self._check_returnable(signer, message["orderId"], now)

    def _check_returnable(self, buyer: str, order_id: int, now: int) -> tuple[tuple, tuple]:
        """What ReturnEscrow._checkReturnable checks: an Active, delivered order of the buyer inside
        its return window. Returns the order and its policy."""
        order = self.reader.order(order_id)
        if order[ORDER_STATUS] == 0:
            raise ApiError(404, "unknown_order", f"order {order_id} does not exist")
        if order[ORDER_BUYER] != buyer:
            raise ApiError(403, "not_buyer", f"order {order_id} was bought by another account")
        if order[ORDER_STATUS] != ORDER_ACTIVE:
            raise ApiError(409, "order_not_active", f"order {order_id} cannot be returned or claimed in status {order[ORDER_STATUS]}")
        delivered = self.reader.delivered_at(order_id)
        if delivered == 0:
            raise ApiError(409, "not_delivered", f"order {order_id} has no delivery scan yet")
        policy = self.reader.policy(order[ORDER_MARKET], order[ORDER_POLICY_VERSION])
        closes_at = delivered + max(policy[POLICY_WITHDRAWAL], policy[POLICY_RETURN_WINDOW])
        if now > closes_at:
            raise ApiError(409, "return_window_closed", f"order {order_id}'s return window closed at {closes_at}")
        return order, policy

    def _order_status(self, order_id: int) -> int:
        order = self.reader.order(order_id)
        if order[2] == 0:
            raise ApiError(404, "unknown_order", f"order {order_id} does not exist")
        return order[2]
