"""Signed-message intake: POST a message, get an id, poll its state; the EIP-712 schema to sign."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from web3.exceptions import BadFunctionCallOutput, Web3RPCError

from returntrace import eip712
from returntrace.documents import DOCUMENTS, Authority
from returntrace.escrow import Facts, Grade
from returntrace.vocab import STEP_ROLES, AggregationAction, BizStep, Disposition

from ...errors import ApiError, storable
from ...store.outbox import Message
from ...write import refund_on_receipt
from ...write.intake import Intake, SignedBody
from ...write.kinds import KINDS, MessageKind
from ..deps import ChainDep, IntakeDep, OutboxDep, ReaderDep
from ..responses import Eip712Out, MessageOut, NonceOut


def require_json(request: Request) -> None:
    if request.method == "POST" and request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ApiError(415, "unsupported_media_type", "signed messages are posted as application/json")


router = APIRouter(tags=["intake"], dependencies=[Depends(require_json)])


def _answer(response: Response, stored: tuple[Message, bool]) -> MessageOut:
    message, created = stored
    response.status_code = 202 if created else 200
    response.headers["Location"] = f"/v1/messages/{message.id}"
    return MessageOut.model_validate(message.public())


def _post(entry: MessageKind) -> Callable[..., MessageOut]:
    """The route of a message kind: its body validated by the kind's request model, then the intake."""

    def post(body: SignedBody, intake: Intake, response: Response) -> MessageOut:
        return _answer(response, intake.accept(entry, body))

    post.__name__ = entry.route
    # FastAPI reads the parameters' types from the signature: the body is this kind's model.
    post.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=entry.body),
            inspect.Parameter("intake", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=IntakeDep),
            inspect.Parameter("response", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Response),
        ],
        return_annotation=MessageOut,
    )
    return post


for _entry in KINDS.values():
    router.add_api_route(
        _entry.path,
        _post(_entry),
        methods=["POST"],
        status_code=202,
        response_model=MessageOut,
        summary=_entry.summary,
        name=_entry.route,
    )


# The manual release carries no signed message: no body is needed (and any body is ignored), so
# it sits outside the JSON content-type check of the signed-message routes.
orders_router = APIRouter(tags=["intake"])


@orders_router.post(
    "/v1/orders/{order_id}/release-refund-on-receipt",
    status_code=202,
    response_model=MessageOut,
    summary="Release a refund on receipt at an accredited return center",
)
def post_release_refund_on_receipt(
    order_id: int, chain: ChainDep, reader: ReaderDep, outbox: OutboxDep, intake: IntakeDep, response: Response
) -> MessageOut:
    """Queues `escrow.releaseRefundOnReceipt(orderId)` (which the relayer also does by itself when it
    confirms the receiving scan or the return request). Idempotent: the same order always gets the
    same message."""
    del intake  # only its check: a read-only gateway (no relayer key) queues nothing
    if storable(order_id, "order id") < 1:
        raise ApiError(400, "invalid_order", f"order id {order_id} is out of range: the escrow numbers orders from 1")
    existing = outbox.get(refund_on_receipt.message_id(chain, order_id))
    if existing is not None:
        return _answer(response, (existing, False))
    try:
        ok, code, detail = refund_on_receipt.releasable(reader, order_id)
    except (Web3RPCError, BadFunctionCallOutput) as exc:  # the node answered, but not with the escrow's state
        raise ApiError(
            503, "chain_unavailable", f"the chain node could not read order {order_id}: {type(exc).__name__}"
        ) from exc
    if not ok:
        raise ApiError(404 if code == "unknown_order" else 409, code, detail)
    return _answer(response, outbox.enqueue(refund_on_receipt.message(chain, order_id)))


@router.get(
    "/v1/messages/{message_id}",
    response_model=MessageOut,
    summary="State of an accepted message: accepted, submitted, confirmed or failed",
)
def get_message(message_id: str, outbox: OutboxDep) -> MessageOut:
    message = outbox.get(message_id.lower())
    if message is None:
        raise ApiError(404, "unknown_message", f"no message with id {message_id}")
    return MessageOut.model_validate(message.public())


@router.get(
    "/v1/signers/{address}/nonce",
    response_model=NonceOut,
    summary="The nonce the signer's next message of a kind must carry",
)
def get_next_nonce(address: str, kind: str, reader: ReaderDep, outbox: OutboxDep) -> NonceOut:
    from eth_utils import is_address, to_checksum_address

    if not is_address(address):
        raise ApiError(400, "invalid_address", f"{address!r} is not an address")
    if kind not in KINDS:
        raise ApiError(400, "invalid_kind", f"kind must be one of {sorted(KINDS)}")
    signer = to_checksum_address(address)
    chain_nonce = reader.nonce(KINDS[kind].contract, signer)
    return NonceOut(
        signer=signer, kind=kind, chainNonce=chain_nonce, nextNonce=outbox.next_nonce(kind, signer, chain_nonce)
    )


@router.get(
    "/v1/eip712",
    response_model=Eip712Out,
    summary="Domains, types and vocabularies of every message the gateway accepts",
)
def get_eip712(chain: ChainDep) -> dict[str, Any]:
    messages = {}
    for kind, entry in KINDS.items():
        schema = chain.domain_for(kind).typed_data(kind)
        messages[kind] = {
            "post": entry.path,
            "primaryType": kind,
            "domain": schema["domain"],
            "types": schema["types"],
            "typeString": eip712.type_string(kind),
        }
    documents = eip712.documents_domain(chain.chain_id, chain.registry.address)
    return {
        "chainId": chain.chain_id,
        "messages": messages,
        "documents": {
            name: {
                "post": f"/v1/documents/{name}",
                "primaryType": name,
                **{k: v for k, v in documents.typed_data(name).items() if k in ("domain", "types")},
                "typeString": eip712.type_string(name),
                "authority": "accreditor"
                if kind.authority is Authority.ACCREDITOR
                else "the order's buyer"
                if kind.authority is Authority.BUYER
                else " or ".join(str(r.name).lower() for r in kind.roles),
                "restricted": kind.restricted,
                "subject": list(kind.subject),
                "description": kind.description,
            }
            for name, kind in DOCUMENTS.items()
        },
        "vocabulary": {
            "bizStep": {
                int(s): {"name": s.name.lower(), "uri": s.uri, "signedBy": [str(r.name).lower() for r in STEP_ROLES[s]]}
                for s in BizStep
            },
            "decommissioning": "a brand takes units of its own stock out of circulation with a DecommissionBatch "
            "(POST /v1/decommissions), never in an EventBatch",
            "disposition": {int(d): {"name": d.name.lower(), "uri": d.uri} for d in Disposition if d.uri},
            "inspectionFacts": {
                "SEAL_INTACT": Facts.SEAL_INTACT,
                "PACKAGING_INTACT": Facts.PACKAGING_INTACT,
                "USED": Facts.USED,
                "DEFECTIVE": Facts.DEFECTIVE,
            },
            "grade": {int(g): g.name for g in Grade if g},
            "aggregationAction": {int(a): a.name for a in AggregationAction},
            "remedy": {
                0: "refund",
                1: "exchange voucher (store points worth the refund plus the policy's exchange bonus; only if the "
                "market's policy offers it)",
            },
        },
        "notes": [
            "Sign with eth_signTypedData_v4; POST the message fields plus 'signature' (0x hex).",
            "GLNs may be sent as 13-digit strings; GTINs in commissions as GTIN-8/12/13/14 strings (signed as "
            "their 14-digit integer).",
            "nonce: GET /v1/signers/{address}/nonce?kind=<primaryType>; deadline: unix seconds, at least 60 s ahead.",
        ],
    }
