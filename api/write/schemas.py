"""Request bodies of the signed messages the gateway accepts (each kind's is named in
api/write/kinds.py): exactly the EIP-712 messages of returntrace/kinds.py plus the signature, with
JSON-friendly encodings (0x-hex for bytes and addresses, decimal integers, GLNs as 13-digit strings
or integers)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from returntrace import kinds, messages

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SIGNATURE = re.compile(r"^0x([0-9a-fA-F]{2}){1,2048}$")


def _hex32(v: str) -> str:
    if not _HEX32.match(v):
        raise ValueError("must be 0x followed by 64 hex digits (32 bytes)")
    return v.lower()


def _address(v: str) -> str:
    if not _ADDRESS.match(v):
        raise ValueError("must be a 0x-prefixed 20-byte hex address")
    return v


def _signature(v: str) -> str:
    if not _SIGNATURE.match(v):
        raise ValueError("must be 0x-prefixed hex bytes (65 for an EOA, any length for ERC-1271)")
    return v.lower()


Hex32 = Annotated[str, AfterValidator(_hex32)]
Address = Annotated[str, AfterValidator(_address)]
Signature = Annotated[str, AfterValidator(_signature)]
Uint8 = Annotated[int, Field(ge=0, le=2**8 - 1)]
Uint40 = Annotated[int, Field(ge=0, le=2**40 - 1)]
Uint64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
Uint96 = Annotated[int, Field(ge=0, le=2**96 - 1)]
Uint256 = Annotated[int, Field(ge=0, le=2**256 - 1)]
# Nonces are uint256 on-chain, and increaseNonce can move a signer anywhere in that range; the
# outbox stores them losslessly.
Nonce = Uint256
# uint256 on-chain; the escrow numbers orders from 1, and an id past what the index holds (2**63-1)
# is answered 400 out_of_range by the intake.
OrderId = Annotated[int, Field(ge=1, le=2**256 - 1)]
# GS1 keys are uint64 on-chain: an integer is held to that type (422), its digits to GS1's rules (400).
Gln = Annotated[Uint64 | str, Field(description="GLN: 13 digits (string or integer)")]

ZERO32 = "0x" + "00" * 32


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _batch(name: str, item: type[_Strict], max_items: int = 1000) -> type[_Strict]:
    """The request body `<name>In` of a registry batch: the kind's fields in signing order (its signer,
    its items under the field returntrace.kinds names, its nonce and deadline) plus the signature."""
    fields: dict[str, Any] = {
        kinds.KINDS[name].signer: Address,
        messages.items_field(name): (list[item], Field(min_length=1, max_length=max_items)),  # type: ignore[valid-type]  # a value
        "nonce": Nonce,
        "deadline": Uint64,
        "signature": Signature,
    }
    return create_model(f"{name}In", __base__=_Strict, **fields)


class _Observation(_Strict):
    """What every signed scan states besides its object: step, disposition, where, when, evidence, business
    transaction."""

    bizStep: Uint8
    disposition: Uint8
    location: Gln
    eventTime: Uint40
    evidence: Hex32 = ZERO32
    bizTransaction: Hex32 = ZERO32


class LifecycleEventIn(_Observation):
    unitId: Hex32


EventBatchIn = _batch("EventBatch", LifecycleEventIn)


class CommissionIn(_Strict):
    gtin: Annotated[str | Uint64, Field(description="GTIN-8, -12, -13 or -14")]
    serial: Annotated[str, Field(min_length=1, max_length=20)]
    location: Gln
    eventTime: Uint40
    evidence: Hex32 = ZERO32


CommissionBatchIn = _batch("CommissionBatch", CommissionIn)


class InspectionIn(_Strict):
    inspector: Address
    orderId: OrderId
    facts: Uint8
    grade: Uint8
    diminishedValue: Annotated[
        Uint96,
        Field(
            description="diminished value of a used unit in the order currency's base units (the policy caps what "
            "counts)"
        ),
    ] = 0
    evidence: Hex32 = ZERO32
    nonce: Nonce
    deadline: Uint64
    signature: Signature


class ReturnRequestIn(_Strict):
    buyer: Address
    orderId: OrderId
    reason: Uint8
    remedy: Annotated[
        Uint8, Field(description="0 refund, 1 exchange voucher (only if the market's policy offers it)")
    ] = 0
    nonce: Nonce
    deadline: Uint64
    signature: Signature


class DefectClaimIn(_Strict):
    buyer: Address
    orderId: OrderId
    evidence: Annotated[
        Hex32, Field(description="SHA-256 digest inside the CIDv1 of the photo or video (POST /v1/evidence); not zero")
    ]
    nonce: Nonce
    deadline: Uint64
    signature: Signature


class DecommissionIn(_Strict):
    gtin: Annotated[str | Uint64, Field(description="GTIN-8, -12, -13 or -14 of the brand's own product")]
    serial: Annotated[str, Field(min_length=1, max_length=20)]
    disposition: Uint8 = 0
    location: Gln
    eventTime: Uint40
    evidence: Hex32 = ZERO32


DecommissionBatchIn = _batch("DecommissionBatch", DecommissionIn)


class AggregationIn(_Observation):
    sscc: Annotated[
        Uint64 | str, Field(description="SSCC (AI 00): 18 digits with a GS1 check digit (string or integer)")
    ]
    # Empty lists pass the schema so that the intake answers the contract's rule (400 empty_aggregation).
    childIds: list[Hex32] = Field(max_length=1000)
    action: Annotated[Uint8, Field(description="1 ADD (pack), 2 DELETE (unpack)")]


AggregationBatchIn = _batch("AggregationBatch", AggregationIn, max_items=100)
