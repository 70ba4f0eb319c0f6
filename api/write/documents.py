"""The document desk: checks an off-chain signed document (returntrace/documents.py) and keeps it with
the block at which its signer's authority was checked.

    desk.accept("OrganizationName", {"message": {...}, "signature": "0x..."})  -> (Document, new)

Checks, in order, each refusal in the gateway's one error shape:
    422 invalid_document     the message does not fit its EIP-712 type (every field, nothing else)
    400 issued_in_future     issuedAt more than DOCUMENT_CLOCK_SKEW seconds past the latest block
    401 invalid_signature    not the signer's signature under the documents' domain of this deployment
    403 not_authorised       the signer lacks the kind's authority at the checked block
    4xx (the kind's own)     what a kind checks besides (DOCUMENT_CHECKS): ProductInfo and CustomsDeclaration
                             404 unknown_product, 403 not_brand_of_product (only the GTIN's registered brand),
                             422 invalid_document; CustomsDeclaration 422 unknown_regime, 404 unknown_unit,
                             422 declaration_not_committed (it opens no customs-clearing scan's commitment in the
                             unit's verified history); SatisfactionRating 404 unknown_order, 403 not_buyer,
                             409 order_not_settled;
                             ReturnAnalyticsSettings 422 invalid_document (a rate above 100 %, a backwards baseline)
    409 superseded           a document of the same subject issued later is in force already
    409 issued_at_taken      another document of the same subject has the same issuedAt
A document posted again is answered with the stored one (idempotent).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from returntrace import cid as evidence_cid
from returntrace import customs, eip712, gs1, history
from returntrace.customs_regimes import REGIMES
from returntrace.documents import DOCUMENTS, Authority, DocumentKind
from returntrace.escrow import OrderStatus
from returntrace.shipping import CardError, RateCard
from returntrace.vocab import BizStep

from ..chain import parties
from ..chain.blocks import BlockRef
from ..chain.reader import ChainReader
from ..errors import ApiError
from ..store.documents import Document, SqliteDocuments
from .schemas import Address, Hex32, Signature
from .signatures import check_signature

DOCUMENT_CLOCK_SKEW = 300  # seconds a signer's clock may run ahead of the chain's
MAX_STRING = 4000  # characters of one string field: names, descriptions, links
MAX_ITEMS = 200  # entries of one array field: weight bands, languages


def _rate_card(reader: ChainReader, block: BlockRef, message: dict[str, Any]) -> None:
    """A card that prices something (returntrace/shipping.py) and has not expired already."""
    try:
        card = RateCard.from_message(message)
    except CardError as exc:
        raise ApiError(422, "invalid_card", str(exc)) from None
    now = reader.block_time()
    if card.valid_until < now:
        raise ApiError(400, "expired_card", f"the card expired at {card.valid_until}, before the chain's time {now}")


LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, as the pages match it: "de", "zh-Hans"


def _invalid(kind: str, why: str) -> ApiError:
    return ApiError(422, "invalid_document", f"the {kind} {why}")


def _check_languages(kind: str, field: str, entries: list[dict[str, Any]]) -> None:
    tags = [e["lang"] for e in entries]
    bad = [t for t in tags if not LANGUAGE_TAG.match(t)]
    if bad:
        raise _invalid(kind, f"has {field} in languages that are not BCP 47 tags: {bad}")
    if len(set(tags)) != len(tags):
        raise _invalid(kind, f"names a language twice in {field}: {tags}")


def _check_cid(kind: str, field: str, value: str) -> None:
    try:
        evidence_cid.parse(value)
    except ValueError:
        raise _invalid(kind, f"{field} {value!r} is not a CID (POST the file to /v1/evidence first)") from None


def _check_brand_of_product(reader: ChainReader, block: BlockRef, message: dict[str, Any]) -> None:
    """Only the brand that registered the document's GTIN signs what is said about it."""
    product = reader.product_at(message["gtin"], block)
    if product is None:
        raise ApiError(404, "unknown_product", f"no brand registered GTIN {message['gtin']} at block {block.number}")
    if product[0].lower() != message["signer"].lower():
        raise ApiError(
            403,
            "not_brand_of_product",
            f"GTIN {message['gtin']} is registered to {product[0]} at block {block.number}, not to {message['signer']}",
            block=block.number,
        )


def _check_product_info(reader: ChainReader, block: BlockRef, message: dict[str, Any]) -> None:
    """The GTIN's own brand signs its master data; names and instructions per language, files by CID."""
    kind = "ProductInfo"
    _check_brand_of_product(reader, block, message)
    if not message["names"] or any(not n["text"].strip() for n in message["names"]):
        raise _invalid(kind, "needs a non-empty name in at least one language")
    _check_languages(kind, "names", message["names"])
    _check_languages(kind, "instructions", message["instructions"])
    for entry in message["instructions"]:
        _check_cid(kind, f"instructions ({entry['lang']})", entry["cid"])
    if message["image"]:
        _check_cid(kind, "image", message["image"])
    if message["video"] and not message["video"].startswith("https://"):
        raise _invalid(kind, f"video {message['video']!r} is not an https link")
    if message["ageToMonths"] and message["ageToMonths"] < message["ageFromMonths"]:
        raise _invalid(kind, f"age range ends ({message['ageToMonths']}) before it starts ({message['ageFromMonths']})")


def _check_customs_declaration(reader: ChainReader, block: BlockRef, message: dict[str, Any]) -> None:
    """The brand's declaration reference and salt must open the commitment of a customs-clearing scan
    in the unit's history, rebuilt from the registry's logs and verified against its record at `block`."""
    kind = "CustomsDeclaration"
    _check_brand_of_product(reader, block, message)
    if message["regime"] not in REGIMES:
        raise ApiError(422, "unknown_regime", f"no regime {message['regime']!r}; regimes: {sorted(REGIMES)}")
    reference = message["declarationReference"]
    if not reference.strip() or reference != reference.strip():
        raise _invalid(kind, "needs the declaration reference exactly as declared, without surrounding spaces")
    try:
        unit_id = gs1.unit_id(message["gtin"], gs1.validate_serial(message["serial"]))
    except gs1.GS1Error as exc:
        raise _invalid(kind, f"names no valid unit: {exc}") from None
    chain = reader.chain
    found = history.fetch(chain.registry, unit_id, chain.deployment_block, block.number or "latest")
    if found.onchain_record == 0:
        raise ApiError(404, "unknown_unit", f"no unit {message['gtin']}/{message['serial']} at block {block.number}")
    commitment = customs.commitment(reference, bytes.fromhex(message["salt"][2:]))
    cleared = [
        e for e in found.events if e.biz_step == BizStep.CUSTOMS_CLEARING and bytes(e.biz_transaction) == commitment
    ]
    if not found.own_verified or not cleared:
        raise ApiError(
            422,
            "declaration_not_committed",
            f"no customs-clearing scan in the verified history of {message['gtin']}/{message['serial']} at block "
            f"{block.number} commits to this declaration reference and salt",
            block=block.number,
        )


# The order's money is settled (or given back): the buyer's experience can be rated.
RATABLE = frozenset(
    {OrderStatus.SETTLED, OrderStatus.REFUNDED, OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REISSUED}
)


def _check_satisfaction_rating(reader: ChainReader, block: BlockRef, message: dict[str, Any]) -> None:
    """One score from 1 to 5, once the order is settled (the buyer was checked as its authority)."""
    if not 1 <= message["score"] <= 5:
        raise _invalid("SatisfactionRating", f"score {message['score']} is not from 1 to 5")
    order = parties.parties(reader.chain, message["orderId"], block.number or 0)
    status = OrderStatus(order.status) if order is not None else OrderStatus.NONE
    if status not in RATABLE:
        raise ApiError(
            409,
            "order_not_settled",
            f"order {message['orderId']} is {status.key} at block {block.number}: it is rated once settled",
            block=block.number,
        )


def _check_analytics_settings(reader: ChainReader, block: BlockRef, message: dict[str, Any]) -> None:
    """Rates are parts of a price (at most 10000 bps); a baseline is a period, or none (0 and 0)."""
    kind = "ReturnAnalyticsSettings"
    for name in ("restockBps", "donateBps", "recycleBps", "highReturnBps"):
        if message[name] > 10_000:
            raise _invalid(kind, f"{name} {message[name]} is above 10000 (100 %)")
    start, end = message["baselineFrom"], message["baselineTo"]
    if (start or end) and not start < end:
        raise _invalid(kind, f"baseline period ends ({end}) before it starts ({start})")


# A kind's own checks, after the signature and the authority: (reader, block, message) -> raises ApiError.
DOCUMENT_CHECKS: dict[str, Callable[[ChainReader, BlockRef, dict[str, Any]], None]] = {
    "ProductInfo": _check_product_info,
    "RateCard": _rate_card,
    "CustomsDeclaration": _check_customs_declaration,
    "SatisfactionRating": _check_satisfaction_rating,
    "ReturnAnalyticsSettings": _check_analytics_settings,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _field_type(typ: str, models: dict[str, type[BaseModel]]) -> Any:
    if typ.endswith("[]"):
        return list[_field_type(typ[:-2], models)]  # type: ignore[misc]
    if typ in models:
        return models[typ]
    if typ.startswith("uint"):
        bits = int(typ[4:] or 256)
        return int, Field(ge=0, le=2**bits - 1)
    return {"address": Address, "bytes32": Hex32, "string": str, "bool": bool}[typ]


def _annotation(typ: str, models: dict[str, type[BaseModel]]) -> tuple[Any, Any]:
    """(type, Field) of one EIP-712 field for pydantic; arrays and strings bounded."""
    found = _field_type(typ, models)
    if isinstance(found, tuple):
        return found
    if typ.endswith("[]"):
        return found, Field(max_length=MAX_ITEMS)
    if typ == "string":
        return found, Field(max_length=MAX_STRING)
    return found, ...


def _model(kind: DocumentKind) -> type[BaseModel]:
    """The request model of a kind's message, built from its EIP-712 fields (nested structs first)."""
    models: dict[str, type[BaseModel]] = {}
    for name, fields in kind.structs:
        members: dict[str, Any] = {n: _annotation(t, models) for t, n in fields}
        models[name] = create_model(name, __base__=_Strict, **members)
    top: dict[str, Any] = {n: _annotation(t, models) for t, n in kind.fields}
    return create_model(f"{kind.name}Message", __base__=_Strict, **top)


MESSAGE_MODELS: dict[str, type[BaseModel]] = {name: _model(kind) for name, kind in DOCUMENTS.items()}


class DocumentIn(_Strict):
    message: dict[str, Any]
    signature: Signature


class DocumentDesk:
    def __init__(self, reader: ChainReader, store: SqliteDocuments) -> None:
        self.reader, self.store = reader, store

    def kind(self, name: str) -> DocumentKind:
        kind = DOCUMENTS.get(name)
        if kind is None:
            raise ApiError(404, "unknown_document_kind", f"no document kind {name!r}; kinds: {sorted(DOCUMENTS)}")
        return kind

    def domain(self) -> eip712.Domain:
        chain = self.reader.chain
        return eip712.documents_domain(chain.chain_id, chain.registry.address)

    def accept(self, name: str, body: DocumentIn) -> tuple[Document, bool]:
        kind = self.kind(name)
        try:
            message = MESSAGE_MODELS[name].model_validate(body.message).model_dump()
        except ValidationError as exc:
            errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            raise ApiError(422, "invalid_document", f"the message is not a {name}", fields=errors) from exc
        digest = "0x" + self.domain().digest(name, message).hex()
        signer = message["signer"]
        # Before the lookup, so that a stored document is answered only to whoever holds a signature of it (a
        # restricted one's message can be guessed: a rating's buyer and order are on-chain, its score one of
        # five, its issuedAt the chain's time), and a guess is refused alike whether it is stored or not.
        check_signature(self.reader, signer, bytes.fromhex(digest[2:]), bytes.fromhex(body.signature[2:]))
        stored = self.store.get(digest)
        if stored is not None:
            return stored, False
        block = self.reader.head()
        now = self.reader.block_time()
        if message["issuedAt"] > now + DOCUMENT_CLOCK_SKEW:
            raise ApiError(
                400, "issued_in_future", f"issuedAt {message['issuedAt']} is ahead of the chain's time {now}"
            )
        self._check_authority(kind, message, block)
        if name in DOCUMENT_CHECKS:
            DOCUMENT_CHECKS[name](self.reader, block, message)
        subject = kind.subject_of(message)
        current = self.store.current(name, subject)
        if current is not None and current.issued_at > message["issuedAt"]:
            raise ApiError(
                409, "superseded", f"a {name} of {subject} issued later is in force: {current.id}", current=current.id
            )
        if current is not None and current.issued_at == message["issuedAt"]:
            raise ApiError(
                409,
                "issued_at_taken",
                f"the {name} {current.id} of {subject} has the same issuedAt: sign the new one with a later issuedAt",
                current=current.id,
            )
        return self.store.put(
            Document(
                id=digest,
                kind=name,
                subject=subject,
                signer=signer,
                issued_at=message["issuedAt"],
                message=eip712.to_json(message),
                signature=body.signature,
                block_number=block.number or 0,
                block_hash=block.hash or "",
                accepted_at=0.0,
            )
        )

    def _check_authority(self, kind: DocumentKind, message: dict[str, Any], block: BlockRef) -> None:
        signer = message["signer"]
        if kind.authority is Authority.BUYER:
            self._check_buyer(kind, message, block)
            return
        if kind.authority is Authority.ACCREDITOR:
            if not self.reader.is_accreditor_at(signer, block):
                raise ApiError(
                    403,
                    "not_authorised",
                    f"{signer} does not hold the registry's ACCREDITOR_ROLE at block {block.number}: a {kind.name} is"
                    " the accreditor's",
                    block=block.number,
                )
            return
        roles, _ = self.reader.actor_at(signer, block)
        if not roles & kind.roles:
            raise ApiError(
                403,
                "not_authorised",
                f"{signer} holds roles {roles} at block {block.number}; a {kind.name} needs one of {kind.roles!r}",
                block=block.number,
            )

    def _check_buyer(self, kind: DocumentKind, message: dict[str, Any], block: BlockRef) -> None:
        """The signer is the buyer the document names and the escrow's buyer of its order at `block`."""
        order_id, signer = message["orderId"], message["signer"]
        order = parties.parties(self.reader.chain, order_id, block.number or 0)
        if order is None:
            raise ApiError(404, "unknown_order", f"order {order_id} does not exist at block {block.number}")
        if not signer.lower() == message["buyer"].lower() == order.buyer.lower():
            raise ApiError(
                403,
                "not_buyer",
                f"a {kind.name} of order {order_id} is signed by its buyer {order.buyer} (ReturnEscrow.order at block "
                f"{block.number}), not by {signer} for {message['buyer']}",
                block=block.number,
            )

    def proof(self, document: Document) -> dict[str, Any]:
        """A stored document with what proves it: the typed data to recover its signer from, and the
        read of the signer's authority at the block it was checked."""
        kind = DOCUMENTS[document.kind]
        authority = {
            Authority.ACCREDITOR: f"TraceRegistry.hasRole(keccak256('ACCREDITOR_ROLE'), {document.signer}) at block "
            f"{document.block_number}",
            Authority.ACTOR: f"TraceRegistry.actor({document.signer}).roles & {int(kind.roles)} != 0 at block "
            f"{document.block_number}",
            Authority.BUYER: f"ReturnEscrow.order({document.message.get('orderId')}).buyer == {document.signer} at "
            f"block {document.block_number}",
        }[kind.authority]
        return {
            "id": document.id,
            "kind": document.kind,
            "subject": document.subject,
            "signer": document.signer,
            "issuedAt": document.issued_at,
            "message": document.message,
            "signature": document.signature,
            "checkedAt": {"number": document.block_number, "hash": document.block_hash},
            "typedData": self.domain().typed_data(document.kind, document.message),
            "verify": [
                "the EIP-712 digest of typedData recovers to signer (or signer's ERC-1271 wallet accepts it)",
                authority,
            ],
        }
