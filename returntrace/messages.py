"""The messages the contracts accept, built and signed: items, batches and signed requests.

Pure: no node, no clock. The caller supplies each item's location and time and each message's
nonce and deadline (scripts/builder.py does, from a deployment and the chain). The kinds and their
fields are returntrace/kinds.py's; the domain a message is signed under is the caller's `domain`
(the kind's contract's, returntrace.kinds.KINDS[kind].contract, unless a test signs it wrongly on purpose).

    signed = sign(registry_domain, "EventBatch", key, address, nonce=0, deadline=t + 3600,
                  events=[event_item(unit_id, BizStep.SHIPPING, Disposition.IN_TRANSIT, gln, t)])
    registry.record([signed.args], ...)          # a batch: the calldata struct with its signature
    escrow.submitInspection(s.struct, s.signature, ...)   # a request: struct and signature apart
    httpx.post(url, json=signed.body)            # the gateway's JSON body
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import eip712
from .kinds import KINDS
from .vocab import AggregationAction, BizStep, Disposition

ZERO32 = bytes(32)


@dataclass(frozen=True)
class Signed:
    """A message of `kind` and its signature under `domain`."""

    kind: str
    domain: eip712.Domain
    message: dict[str, Any]
    signature: bytes

    @property
    def signer(self) -> str:
        return self.message[eip712.SIGNER_FIELD[self.kind]]

    @property
    def nonce(self) -> int:
        return self.message["nonce"]

    @property
    def args(self) -> tuple:
        """The contracts' calldata struct: the fields in type order, then the signature (a batch)."""
        return eip712.call_args(self.kind, self.message, self.signature)

    @property
    def struct(self) -> tuple:
        """The calldata struct without the signature (the `...BySig(struct, signature)` calls)."""
        return self.args[:-1]

    @property
    def digest(self) -> bytes:
        return self.domain.digest(self.kind, self.message)

    @property
    def body(self) -> dict[str, Any]:
        """The JSON a client POSTs to the gateway: the fields as JSON plus the signature."""
        return {**eip712.to_json(self.message), "signature": "0x" + self.signature.hex()}


def sign(
    domain: eip712.Domain, kind: str, key: bytes | str, signer: str, nonce: int, deadline: int, **fields: Any
) -> Signed:
    """Signs a `kind` message with `key` under `domain`: `signer` goes in the kind's signer field
    (eip712.SIGNER_FIELD), then `fields`, the nonce and the deadline."""
    message = {eip712.SIGNER_FIELD[kind]: signer, **fields, "nonce": nonce, "deadline": deadline}
    return Signed(kind, domain, message, domain.sign(key, kind, message))


def sign_document(
    domain: eip712.Domain, kind: str, key: bytes | str, signer: str, issued_at: int, **fields: Any
) -> dict[str, Any]:
    """The POST body of a `kind` document (returntrace/documents.py) signed with `key` under the
    documents' `domain`: {"message": ..., "signature": ...}."""
    message = {**fields, "signer": signer, "issuedAt": issued_at}
    return {"message": eip712.to_json(message), "signature": "0x" + domain.sign(key, kind, message).hex()}


def items_field(kind: str) -> str:
    """The field of a batch kind that holds its items (CommissionBatch: "units", EventBatch:
    "events", ...), as returntrace/kinds.py has it; ValueError for a single request."""
    field = KINDS[kind].items
    if field is None:
        raise ValueError(f"{kind} is a single request, not a batch of items")
    return field


def commission_item(gtin: int, serial: str, location: int, event_time: int, evidence: bytes = ZERO32) -> dict[str, Any]:
    """A unit of `gtin` brought into existence at `location` (a Commission)."""
    return {
        "gtin": int(gtin),
        "serial": serial,
        "location": int(location),
        "eventTime": int(event_time),
        "evidence": evidence,
    }


def event_item(
    unit_id: bytes,
    step: BizStep,
    disposition: Disposition,
    location: int,
    event_time: int,
    biz_transaction: bytes = ZERO32,
    evidence: bytes = ZERO32,
) -> dict[str, Any]:
    """One scan of a unit or a parcel (a LifecycleEvent)."""
    return {"unitId": unit_id, **_observation(step, disposition, location, event_time, biz_transaction, evidence)}


def _observation(
    step: BizStep, disposition: Disposition, location: int, event_time: int, biz_transaction: bytes, evidence: bytes
) -> dict[str, Any]:
    """What every signed scan states besides its object (a unit, or a parcel's children), in signing order."""
    return {
        "bizStep": int(step),
        "disposition": int(disposition),
        "location": int(location),
        "eventTime": int(event_time),
        "evidence": evidence,
        "bizTransaction": biz_transaction,
    }


def aggregation_item(
    sscc: int,
    child_ids: list[bytes],
    location: int,
    event_time: int,
    action: AggregationAction = AggregationAction.ADD,
    step: BizStep | None = None,
    disposition: Disposition = Disposition.IN_PROGRESS,
    biz_transaction: bytes = ZERO32,
    evidence: bytes = ZERO32,
) -> dict[str, Any]:
    """Units packed into (ADD) or unpacked from (DELETE) the parcel `sscc`; the step defaults to
    packing for ADD and unpacking for DELETE."""
    if step is None:
        step = BizStep.PACKING if action == AggregationAction.ADD else BizStep.UNPACKING
    return {
        "sscc": int(sscc),
        "childIds": list(child_ids),
        "action": int(action),
        **_observation(step, disposition, location, event_time, biz_transaction, evidence),
    }


def decommission_item(
    gtin: int, serial: str, disposition: Disposition, location: int, event_time: int, evidence: bytes = ZERO32
) -> dict[str, Any]:
    """A brand's closing of a unit of its own stock (a Decommission)."""
    return {
        "gtin": int(gtin),
        "serial": serial,
        "disposition": int(disposition),
        "location": int(location),
        "eventTime": int(event_time),
        "evidence": evidence,
    }
