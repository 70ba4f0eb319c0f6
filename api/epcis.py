"""Indexed lifecycle events as an EPCIS 2.0 JSON-LD document (GS1 EPCIS 2.0, CBV 2.0).

Every registry event becomes an `ObjectEvent` about one unit:

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
  local offset is not recorded on-chain).
- `bizTransactionList`: the escrow order an event refers to. The delivery scan carries the order's
  reference, typed CBV `po` (the buyer's purchase order), the return receiving scan its RMA,
  typed CBV `rma`; both as `urn:returntrace:bt:{po|rma}:{chainId}:{escrow}:{orderId}`. A reference
  the index cannot tie to an order is given as `urn:returntrace:bt:ref:0x…` without a type.
- `eventID`: `ni:///sha-256;{hex}` of `returntrace:{chainId}:{registry}:{unitId}:{record}`, where
  `record` is the unit's hash-chain record after this event: it names the event and its whole
  history before it, and never changes once mined.
- Parcels (SSCC, `https://id.gs1.org/00/{sscc18}`): a packing or unpacking is an `AggregationEvent`
  (`parentID` the parcel, `childEPCs` the units, `action` ADD or DELETE), a scan of the parcel an
  `ObjectEvent` on the parcel's URI. The parcel's chain link and each unit's copy of an aggregation
  share one `eventID` (parcel, transaction, struct hash); the export lists the parcel's unless it is
  filtered by unit.
- ReturnTrace extension fields, under the `rt:` prefix (`urn:returntrace:epcis:`) declared in
  `@context`: `rt:unitId`, `rt:seq`, `rt:signer`, `rt:signerRole`, `rt:evidence` (the evidence
  file's CID when the evidence store holds it, else the on-chain digest), `rt:evidenceDigest`,
  `rt:bizTransactionRef` (the raw 32-byte reference), `rt:txHash`, `rt:block`, `rt:logIndex`,
  `rt:structHash` and `rt:record` — everything an auditor needs to rebuild the hash chain.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

import json

from returntrace import gs1
from returntrace.vocab import AggregationAction, BizStep, Disposition, signer_role

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
RT_NAMESPACE = "urn:returntrace:epcis:"
CONTEXT: list[Any] = [
    EPCIS_CONTEXT,
    {
        "rt": RT_NAMESPACE,
        "rtbizstep": "urn:returntrace:bizstep:",
        "rtdisp": "urn:returntrace:disp:",
        "rtbt": "urn:returntrace:bt:",
    },
]
DIGITAL_LINK = "https://id.gs1.org"
CBV = "https://ref.gs1.org/cbv/"


def epc_uri(gtin14: str, serial: str, base: str = DIGITAL_LINK) -> str:
    from urllib.parse import quote

    return f"{base}/01/{gtin14}/21/{quote(serial, safe='')}"


def sscc_uri(sscc: int | str, base: str = DIGITAL_LINK) -> str:
    """A parcel (SSCC, AI 00) as a GS1 Digital Link URI, like units (`…/00/{sscc18}`)."""
    return f"{base}/00/{int(sscc):018d}"


def gln_uri(gln: int | str, base: str = DIGITAL_LINK) -> str:
    return f"{base}/414/{int(gln):013d}"


def iso_time(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def event_id(chain_id: int, registry: str, unit_id: str, record: str) -> str:
    text = f"returntrace:{chain_id}:{registry.lower()}:{unit_id}:{record}"
    return "ni:///sha-256;" + hashlib.sha256(text.encode()).hexdigest()


def biz_transaction(ref: str, order: tuple[str, int] | None, chain_id: int, escrow: str) -> dict[str, str]:
    if order is None:
        return {"bizTransaction": f"urn:returntrace:bt:ref:{ref}"}
    kind, order_id = order
    typ = "po" if kind == "order" else "rma"
    return {"type": typ, "bizTransaction": f"urn:returntrace:bt:{typ}:{chain_id}:{escrow.lower()}:{order_id}"}


def aggregation_event_id(chain_id: int, registry: str, parcel_id: str, tx_hash: str, struct_hash: str) -> str:
    """The parcel's link and each unit's copy of it are one EPCIS event: named by the parcel, the
    transaction and the aggregation's struct hash (the registry refuses the same aggregation twice in
    one transaction: its second ADD would be packed already, its second DELETE not in the parcel)."""
    text = f"returntrace:{chain_id}:{registry.lower()}:{parcel_id}:{tx_hash}:{struct_hash}"
    return "ni:///sha-256;" + hashlib.sha256(text.encode()).hexdigest()


def object_event(
    row: dict[str, Any], chain_id: int, registry: str, escrow: str, order: tuple[str, int] | None, evidence_name: str | None,
    children: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """One indexed chain link (an idx_events row with the unit's gtin and serial, or a parcel's sscc)
    as an ObjectEvent about the unit or the parcel, or, for an aggregation, as an AggregationEvent
    whose parent is the parcel and whose children are the units (`children`: their gtin and serial)."""
    step = int(row["biz_step"])
    if row["kind"] == "aggregation":
        parcel_id = "0x" + gs1.parcel_id(int(row["sscc"])).hex()
        child_ids = json.loads(row["child_ids"])
        event: dict[str, Any] = {
            "type": "AggregationEvent",
            "eventID": aggregation_event_id(chain_id, registry, parcel_id, row["tx_hash"], row["struct_hash"]),
            "eventTime": iso_time(row["event_time"]),
            "eventTimeZoneOffset": "+00:00",
            "parentID": sscc_uri(row["sscc"]),
            "childEPCs": [epc_uri(*(children or {})[c]) if c in (children or {}) else f"urn:returntrace:unit:{c}" for c in child_ids],
            "action": "ADD" if int(row["action"]) == AggregationAction.ADD else "DELETE",
            "bizStep": biz_step_value(step),
        }
    else:
        sscc = row.get("parcel_sscc")
        event = {
            "type": "ObjectEvent",
            "eventID": event_id(chain_id, registry, row["unit_id"], row["record"]),
            "eventTime": iso_time(row["event_time"]),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [sscc_uri(sscc) if sscc is not None else epc_uri(row["gtin"], row["serial"])],
            "action": "ADD" if row["kind"] == "commission" else "DELETE" if step == BizStep.DECOMMISSIONING else "OBSERVE",
            "bizStep": biz_step_value(step),
        }
    disposition = disposition_value(int(row["disposition"])) if row["disposition"] else None
    if disposition:
        event["disposition"] = disposition
    event["readPoint"] = {"id": gln_uri(row["location"])}
    event["bizLocation"] = {"id": gln_uri(row["location"])}
    if row["biz_transaction"]:
        event["bizTransactionList"] = [biz_transaction(row["biz_transaction"], order, chain_id, escrow)]
        event["rt:bizTransactionRef"] = row["biz_transaction"]
    event["rt:unitId"] = row["unit_id"]
    event["rt:seq"] = int(row["seq"])
    event["rt:signer"] = row["signer"]
    event["rt:signerRole"] = signer_role(step, int(row["signer_roles"]))
    if row["evidence"]:
        event["rt:evidence"] = evidence_name or row["evidence"]
        event["rt:evidenceDigest"] = row["evidence"]
    event["rt:txHash"] = row["tx_hash"]
    event["rt:block"] = int(row["block"])
    event["rt:logIndex"] = int(row["log_index"])
    event["rt:structHash"] = row["struct_hash"]
    event["rt:record"] = row["record"]
    return event


def document(events: list[dict[str, Any]], indexed_block: int | None, next_cursor: str | None, now: datetime | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "epcisBody": {"eventList": events},
    }
    if indexed_block is not None:
        doc["rt:indexedBlock"] = indexed_block
    if next_cursor:
        doc["rt:nextCursor"] = next_cursor
    return doc
