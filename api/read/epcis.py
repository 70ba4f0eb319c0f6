"""Indexed events as an EPCIS 2.0 JSON-LD document (GS1 EPCIS 2.0, CBV 2.0).

Every registry event becomes an EPCIS event about one unit or parcel, and every escrow settlement
an event of its own:

- `epcList`: the unit's canonical GS1 Digital Link URI `https://id.gs1.org/01/{gtin14}/21/{serial}`.
- `action`: ADD for commissioning (the unit comes into being), DELETE for decommissioning,
  OBSERVE otherwise.
- `bizStep` / `disposition`: the CBV 2.0 short name where CBV has the word ("shipping",
  "in_transit"); the full extension URI where it does not (`urn:returntrace:bizstep:customs_clearing`,
  `urn:returntrace:bizstep:delivering`, `urn:returntrace:disp:delivered|donated|recycled`). A
  commissioning carries no disposition (none was signed).
- `readPoint` and `bizLocation`: the signed GLN as a GS1 Digital Link URI `https://id.gs1.org/414/{gln}`
  (the SGLN URN would need the GS1 company prefix length, which a GLN does not reveal).
- `eventTime`: the signer's attested time, in UTC (`eventTimeZoneOffset` "+00:00"; the signer's
  local offset is not recorded on-chain); a settlement's is its block's time.
- `bizTransactionList`: the escrow order an event refers to, always typed. The delivery scan carries
  the order's reference, typed CBV `po` (the buyer's purchase order), the return receiving scan its
  RMA, typed CBV `rma`; both as `urn:returntrace:bt:{po|rma}:{chainId}:{escrow}:{orderId}`. A
  reference is tied to an order only when the order was placed before the scan (chain position); on a
  customs clearance any other is the commitment to its customs declaration
  (`TraceRegistry.customsCommitment`, returntrace/customs.py), `urn:returntrace:bt:customs-declaration:0x…`
  typed `urn:returntrace:btt:customs-declaration`; any other is `urn:returntrace:bt:ref:0x…` typed
  `urn:returntrace:btt:ref`.
- `eventID`: `urn:returntrace:event:{chainId}:{txHash}:{logIndex}`, the log that recorded the event —
  stable and derived from the chain. A parcel's aggregation and each unit's copy of it are one event,
  named by the parcel's AggregationRecorded log.
- `rt:eventHash`: the event's CBV 2.0 canonical hash (`ni:///sha-256;…?ver=CBV2.0`,
  returntrace/epcis_hash.py) over the event without this one field. Everything an exported event
  holds is fixed once its log is on-chain, so its hash never changes; what the index learns later
  (a settlement) is an event of its own, never an edit of an earlier one. Evidence files' CIDs, which
  the store may learn later, are listed beside the events in `rt:evidenceFiles` (digest → CID).
- Parcels (SSCC, `https://id.gs1.org/00/{sscc18}`): a packing or unpacking is an `AggregationEvent`
  (`parentID` the parcel, `childEPCs` the units, `action` ADD or DELETE), a scan of the parcel an
  `ObjectEvent` on the parcel's URI.
- Settlements (`OrderSettled`, `OrderCompleted`, `OrderCancelled`): an `ObjectEvent` OBSERVE on the
  unit with bizStep `urn:returntrace:bizstep:settling`, the order's business transactions (at the
  return center for a refund released on receipt), and `rt:settlement` — the escrow's own parts
  (its settlement path, price, delivery fee, each deduction with its reason, refund, points, voucher,
  merchant amount; api/read/settlements.py), or only the totals when the parts do not add up.
- ReturnTrace extension fields, under the `rt:` prefix (`urn:returntrace:epcis:`) declared in
  `@context`: `rt:unitId`, `rt:seq`, `rt:signer`, `rt:signerRole`, `rt:evidenceDigest` (the on-chain
  digest inside the evidence file's CID), `rt:bizTransactionRef` (the raw 32-byte reference),
  `rt:txHash`, `rt:block`, `rt:logIndex`, `rt:structHash` and `rt:record` — everything an auditor
  needs to rebuild the hash chain.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from returntrace import epcis_hash
from returntrace.vocab import AggregationAction, BizStep, Disposition, signer_role

from ..store.index import OrderRef

# GS1's versioned EPCIS 2.0.0 context: the file it names is in standards/gs1/epcis/, so an auditor
# (and our tests) can process the document offline.
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
RT_NAMESPACE = "urn:returntrace:epcis:"
NAMESPACES = {"rt": RT_NAMESPACE}
CONTEXT: list[Any] = [EPCIS_CONTEXT, dict(NAMESPACES)]
DIGITAL_LINK = "https://id.gs1.org"
CBV = "https://ref.gs1.org/cbv/"
SETTLING = "urn:returntrace:bizstep:settling"
UNTIED_REF_TYPE = "urn:returntrace:btt:ref"
CUSTOMS_DECLARATION_TYPE = "urn:returntrace:btt:customs-declaration"


def epc_uri(gtin14: str, serial: str, base: str = DIGITAL_LINK) -> str:
    return f"{base}/01/{gtin14}/21/{quote(serial, safe='')}"


def sscc_uri(sscc: int | str, base: str = DIGITAL_LINK) -> str:
    """A parcel (SSCC, AI 00) as a GS1 Digital Link URI, like units (`…/00/{sscc18}`)."""
    return f"{base}/00/{int(sscc):018d}"


def gln_uri(gln: int | str, base: str = DIGITAL_LINK) -> str:
    return f"{base}/414/{int(gln):013d}"


def iso_time(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _vocab(uri: str | None, prefix: str) -> str | None:
    """CBV short name for a CBV URI (…/BizStep-shipping → shipping), the URI itself for extensions."""
    if uri is None:
        return None
    if uri.startswith(CBV + prefix):
        return uri[len(CBV + prefix) :]
    return uri


def biz_step_value(step: int) -> str:
    try:
        return _vocab(BizStep(step).uri, "BizStep-")  # type: ignore[return-value]
    except ValueError:
        return f"urn:returntrace:bizstep:{step}"


def disposition_value(disposition: int) -> str | None:
    try:
        return _vocab(Disposition(disposition).uri, "Disp-")
    except ValueError:
        return f"urn:returntrace:disp:{disposition}"


def event_id(chain_id: int, tx_hash: str, log_index: int) -> str:
    """The log that recorded an event names it: stable, and anyone can look it up on the chain."""
    return f"urn:returntrace:event:{chain_id}:{tx_hash.lower()}:{int(log_index)}"


def order_uri(kind: str, chain_id: int, escrow: str, order_id: int) -> str:
    return f"urn:returntrace:bt:{kind}:{chain_id}:{escrow.lower()}:{order_id}"


def biz_transaction(
    ref: str, order: OrderRef | None, chain_id: int, escrow: str, step: int | None = None
) -> dict[str, str]:
    """A scan's business transaction: the order (po) or its return (rma) when `order` ties the
    reference to one; on a customs clearance, else, the customs declaration it commits to; else the
    bare reference, typed as such (the key order is the pre-hash order)."""
    if order is None and step == BizStep.CUSTOMS_CLEARING:
        return {"bizTransaction": f"urn:returntrace:bt:customs-declaration:{ref}", "type": CUSTOMS_DECLARATION_TYPE}
    if order is None:
        return {"bizTransaction": f"urn:returntrace:bt:ref:{ref}", "type": UNTIED_REF_TYPE}
    typ = "po" if order.kind == "order" else "rma"
    return {"bizTransaction": order_uri(typ, chain_id, escrow, order.order_id), "type": typ}


def object_event(
    row: dict[str, Any],
    chain_id: int,
    escrow: str,
    order: OrderRef | None,
    children: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """One indexed chain link (an idx_events row with the unit's gtin and serial, or a parcel's sscc)
    as an ObjectEvent about the unit or the parcel, or, for an aggregation (the parcel's link), as an
    AggregationEvent whose parent is the parcel and whose children are the units (`children`: their
    gtin and serial). `order`: what the row's business transaction names at the row's position."""
    step = int(row["biz_step"])
    if row["kind"] == "aggregation":
        child_ids = json.loads(row["child_ids"])
        event: dict[str, Any] = {
            "type": "AggregationEvent",
            "eventID": event_id(chain_id, row["tx_hash"], row["log_index"]),
            "eventTime": iso_time(row["event_time"]),
            "eventTimeZoneOffset": "+00:00",
            "parentID": sscc_uri(row["sscc"]),
            "childEPCs": [
                epc_uri(*(children or {})[c]) if c in (children or {}) else f"urn:returntrace:unit:{c}"
                for c in child_ids
            ],
            "action": "ADD" if int(row["action"]) == AggregationAction.ADD else "DELETE",
            "bizStep": biz_step_value(step),
        }
    else:
        sscc = row.get("parcel_sscc")
        event = {
            "type": "ObjectEvent",
            "eventID": event_id(chain_id, row["tx_hash"], row["log_index"]),
            "eventTime": iso_time(row["event_time"]),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [sscc_uri(sscc) if sscc is not None else epc_uri(row["gtin"], row["serial"])],
            "action": "ADD"
            if row["kind"] == "commission"
            else "DELETE"
            if step == BizStep.DECOMMISSIONING
            else "OBSERVE",
            "bizStep": biz_step_value(step),
        }
    disposition = disposition_value(int(row["disposition"])) if row["disposition"] else None
    if disposition:
        event["disposition"] = disposition
    event["readPoint"] = {"id": gln_uri(row["location"])}
    event["bizLocation"] = {"id": gln_uri(row["location"])}
    if row["biz_transaction"]:
        event["bizTransactionList"] = [biz_transaction(row["biz_transaction"], order, chain_id, escrow, step)]
        event["rt:bizTransactionRef"] = row["biz_transaction"]
    event["rt:unitId"] = row["unit_id"]
    event["rt:seq"] = int(row["seq"])
    event["rt:signer"] = row["signer"]
    event["rt:signerRole"] = signer_role(step, int(row["signer_roles"]))
    if row["evidence"]:
        event["rt:evidenceDigest"] = row["evidence"]
    event["rt:txHash"] = row["tx_hash"]
    event["rt:block"] = int(row["block"])
    event["rt:logIndex"] = int(row["log_index"])
    event["rt:structHash"] = row["struct_hash"]
    event["rt:record"] = row["record"]
    return with_hash(event)


def settlement_event(
    row: dict[str, Any],
    order: dict[str, Any],
    unit: tuple[str, str] | None,
    parts: dict[str, Any],
    chain_id: int,
    escrow: str,
    returned: bool,
) -> dict[str, Any]:
    """An escrow settlement (an idx_escrow_events row of `order`) as an ObjectEvent about the unit:
    at the block's time, naming the order and, when the buyer asked to return it, its RMA; with the
    settlement's parts (`parts`: api.read.settlements.parts_json) under `rt:settlement`."""
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": event_id(chain_id, row["tx_hash"], row["log_index"]),
        "eventTime": iso_time(row["block_time"]),
        "eventTimeZoneOffset": "+00:00",
        "epcList": [epc_uri(*unit) if unit else f"urn:returntrace:unit:{order['unit_id']}"],
        "action": "OBSERVE",
        "bizStep": SETTLING,
    }
    location = parts.get("location")
    if location:  # a refund released at a return center's receiving scan: there
        event["readPoint"] = {"id": gln_uri(location)}
        event["bizLocation"] = {"id": gln_uri(location)}
    order_id = int(order["order_id"])
    event["bizTransactionList"] = [{"bizTransaction": order_uri("po", chain_id, escrow, order_id), "type": "po"}]
    if returned:
        event["bizTransactionList"].append(
            {"bizTransaction": order_uri("rma", chain_id, escrow, order_id), "type": "rma"}
        )
    event["rt:unitId"] = order["unit_id"]
    event["rt:orderId"] = order_id
    event["rt:escrowEvent"] = row["name"]
    event["rt:settlement"] = settlement_fields(parts)
    event["rt:txHash"] = row["tx_hash"]
    event["rt:block"] = int(row["block"])
    event["rt:logIndex"] = int(row["log_index"])
    return with_hash(event)


def settlement_fields(parts: dict[str, Any]) -> dict[str, Any]:
    """A settlement's parts as `rt:` fields: amounts as decimal strings in the currency's base units;
    the deductions (each with its reason) only when the parts add up as the escrow's struct promises.
    `rt:kind` is the escrow's settlement path (graded, arbitrated, on_receipt, …) or completed/cancelled."""
    out: dict[str, Any] = {
        "rt:kind": parts["kind"],
        "rt:currency": parts["currency"],
        "rt:price": parts["price"],
        "rt:deliveryFee": parts["deliveryFee"],
    }
    if parts["verified"]:
        if parts["deductions"]:
            out["rt:deduction"] = [{"rt:reason": d["reason"], "rt:amount": d["amount"]} for d in parts["deductions"]]
        if parts.get("grade"):
            out["rt:grade"] = parts["grade"]
            out["rt:basis"] = parts["basis"]
        if int(parts["voucher"]):
            out["rt:voucher"] = parts["voucher"]
            out["rt:exchangeBonus"] = parts["exchangeBonus"]
    out["rt:refund"] = parts["refund"]
    out["rt:points"] = parts["points"]
    out["rt:merchantAmount"] = parts["merchantAmount"]
    return out


def with_hash(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its CBV 2.0 canonical hash (over everything else in it) as `rt:eventHash`."""
    event[epcis_hash.HASH_FIELD] = epcis_hash.event_hash(event, NAMESPACES)
    return event


def document(
    events: list[dict[str, Any]],
    indexed_block: int | None,
    next_cursor: str | None,
    evidence_files: dict[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "epcisBody": {"eventList": events},
    }
    if evidence_files:
        doc["rt:evidenceFiles"] = dict(sorted(evidence_files.items()))
    if indexed_block is not None:
        doc["rt:indexedBlock"] = indexed_block
    if next_cursor:
        doc["rt:nextCursor"] = next_cursor
    return doc
