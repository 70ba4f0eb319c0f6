"""Auditor queries over the index: filtered events, EPCIS 2.0 export, and a full integrity check.

    GET /v1/audit/events     lifecycle events by unit, signer, step, event time and block; keyset-paginated
    GET /v1/audit/epcis      the same selection as an EPCIS 2.0 JSON-LD EPCISDocument (api/read/epcis.py)
    GET /v1/audit/integrity  every indexed unit's rebuilt hash chain against its on-chain record at one block,
                             and every referenced evidence file against its CID; previous deployments'
                             units (RT_LEGACY_MANIFESTS) in `legacy`, each against its own registry

Filters (all optional, combined with AND): `unitId` (0x…) or `gtin` + `serial`; `signer` (address);
`bizStep` (number, CBV/extension name, or URI); `from` / `to` (event time, unix seconds or
ISO 8601, inclusive); `fromBlock` / `toBlock` (inclusive). Results are in chain order (block, log
index). `limit` 1-1000 (default 100); pass the answer's `nextCursor` as `cursor` for the next page
(the cursor is bound to the filters it was made for).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from returntrace import gs1
from returntrace.vocab import AggregationAction, BizStep, Disposition, signer_role, step_label

from ...chain.guard import ChainUnavailable
from ...errors import SQL_INT_MAX, ApiError, parse_storable
from ...read import audit, epcis, settlements
from ...store.index import EventFilter, IndexReader, OrderRef
from ..deps import ChainDep, IndexDep, ServicesDep, UnitViewsDep
from ..responses import AuditEventsOut, IntegrityOut

router = APIRouter(prefix="/v1/audit", tags=["audit"])

MAX_LIMIT = 1000


# ---------------------------------------------------------------------------------------------
# the selection


def _unit_id(value: str) -> str:
    text = value.lower()
    if not (text.startswith("0x") and len(text) == 66 and all(c in "0123456789abcdef" for c in text[2:])):
        raise ApiError(400, "invalid_unit_id", f"unitId must be 0x and 64 hex digits, got {value!r}")
    return text


def _biz_step(value: str) -> int:
    text = value.strip()
    number = parse_storable(text, "bizStep")
    if number is not None:
        step = number
    else:
        name = text.lower()
        for prefix in ("https://ref.gs1.org/cbv/bizstep-", "urn:returntrace:bizstep:"):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        step = BizStep[name.upper()].value if name.upper() in BizStep.__members__ else -1
    if step not in BizStep._value2member_map_:
        raise ApiError(
            400,
            "invalid_biz_step",
            f"bizStep {value!r} is not a step number or name ({', '.join(s.name.lower() for s in BizStep)})",
        )
    return step


def _time(value: str, name: str) -> int:
    seconds = parse_storable(value, name)
    if seconds is not None:
        return seconds
    try:
        t = datetime.fromisoformat(value.strip())
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return int(t.timestamp())  # years 1-9999: always inside the store's range
    except (ValueError, OverflowError):
        raise ApiError(400, "invalid_time", f"{name} must be unix seconds or ISO 8601, got {value!r}") from None


def event_filter(
    unitId: Annotated[str | None, Query(description="0x unit id")] = None,
    gtin: Annotated[str | None, Query(description="GTIN-8/12/13/14, with serial")] = None,
    serial: Annotated[str | None, Query(description="serial (AI 21), with gtin")] = None,
    signer: Annotated[str | None, Query(description="the actor who signed the event")] = None,
    bizStep: Annotated[
        str | None, Query(description="step number, name (shipping, customs_clearing, …) or URI")
    ] = None,
    time_from: Annotated[
        str | None, Query(alias="from", description="earliest eventTime: unix seconds or ISO 8601")
    ] = None,
    time_to: Annotated[str | None, Query(alias="to", description="latest eventTime: unix seconds or ISO 8601")] = None,
    fromBlock: Annotated[int | None, Query(ge=0, le=SQL_INT_MAX)] = None,
    toBlock: Annotated[int | None, Query(ge=0, le=SQL_INT_MAX)] = None,
) -> EventFilter:
    unit = _unit_id(unitId) if unitId else None
    if (gtin is None) != (serial is None):
        raise ApiError(400, "invalid_unit", "gtin and serial are given together")
    if gtin is not None and serial is not None:
        try:
            key = "0x" + gs1.unit_id(gtin, serial).hex()
        except gs1.GS1Error as exc:
            raise ApiError(400, "invalid_serial" if "serial" in str(exc) else "invalid_gtin", str(exc)) from exc
        if unit is not None and unit != key:
            raise ApiError(400, "invalid_unit", "unitId and gtin + serial name different units")
        unit = key
    if signer is not None and not is_address(signer):
        raise ApiError(400, "invalid_address", f"signer {signer!r} is not an address")
    return EventFilter(
        unit_id=unit,
        signer=to_checksum_address(signer) if signer else None,
        biz_step=_biz_step(bizStep) if bizStep is not None else None,
        time_from=_time(time_from, "from") if time_from is not None else None,
        time_to=_time(time_to, "to") if time_to is not None else None,
        block_from=fromBlock,
        block_to=toBlock,
    )


FilterDep = Annotated[EventFilter, Depends(event_filter)]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"events per page, at most {MAX_LIMIT}")]
CursorQuery = Annotated[str | None, Query(description="nextCursor of the previous page")]


def _fingerprint(f: EventFilter) -> str:
    return hashlib.sha256(repr(f).encode()).hexdigest()[:12]


def encode_cursor(f: EventFilter, block: int, log_index: int) -> str:
    return base64.urlsafe_b64encode(f"{block}.{log_index}.{_fingerprint(f)}".encode()).decode().rstrip("=")


def decode_cursor(f: EventFilter, cursor: str) -> tuple[int, int]:
    try:
        block, log_index, fingerprint = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(".")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_cursor", "cursor is not one this gateway issued") from None
    if fingerprint != _fingerprint(f):
        raise ApiError(400, "invalid_cursor", "cursor belongs to a query with other filters")
    # The fingerprint is a plain hash of the filters: anyone can forge a cursor, so its numbers are checked.
    position = (parse_storable(block, "cursor's block"), parse_storable(log_index, "cursor's log index"))
    if position[0] is None or position[1] is None:
        raise ApiError(400, "invalid_cursor", "cursor is not one this gateway issued")
    return position[0], position[1]


def _page(r: IndexReader, f: EventFilter, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    after = decode_cursor(f, cursor) if cursor else None
    rows = r.find_events(f, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(f, rows[-1]["block"], rows[-1]["log_index"]) if more else None
    return rows, next_cursor


# ---------------------------------------------------------------------------------------------
# events


def event_json(row: dict[str, Any], order: OrderRef | None, evidence_cid: str | None) -> dict[str, Any]:
    step, disposition = int(row["biz_step"]), int(row["disposition"])
    s = BizStep(step) if step in BizStep._value2member_map_ else None
    d = Disposition(disposition) if disposition in Disposition._value2member_map_ else None
    out: dict[str, Any] = {
        "unitId": row["unit_id"],
        "gtin": row["gtin"],
        "serial": row["serial"],
        # A parcel's own link (its scan or aggregation): the parcel's SSCC; gtin and serial are None.
        "parcelSscc": f"{int(row['parcel_sscc']):018d}" if row.get("parcel_sscc") is not None else None,
        "seq": row["seq"],
        "kind": row["kind"],
        "bizStep": s.name.lower() if s else str(step),
        "bizStepCode": step,
        "bizStepUri": s.uri if s else None,
        "label": step_label(step, int(row["signer_roles"])),
        "disposition": d.name.lower() if d and d.uri else None,
        "dispositionUri": d.uri if d else None,
        "location": f"{int(row['location']):013d}",
        "eventTime": int(row["event_time"]),
        "eventTimeIso": epcis.iso_time(row["event_time"]),
        "signer": row["signer"],
        "signerRole": signer_role(step, int(row["signer_roles"])),
        "evidence": None,
        "bizTransaction": None,
        "block": row["block"],
        "txHash": row["tx_hash"],
        "logIndex": row["log_index"],
        "structHash": row["struct_hash"],
        "record": row["record"],
    }
    if row["kind"] == "aggregation":
        out["aggregation"] = {
            "sscc": f"{int(row['sscc']):018d}",
            "action": "ADD" if int(row["action"]) == AggregationAction.ADD else "DELETE",
            "childIds": json.loads(row["child_ids"]),
        }
        out["label"] = "Packed in parcel" if int(row["action"]) == AggregationAction.ADD else "Unpacked from parcel"
    if row["evidence"]:
        out["evidence"] = {"digest": row["evidence"], "cid": evidence_cid}
    if row["biz_transaction"]:
        out["bizTransaction"] = {
            "ref": row["biz_transaction"],
            "type": order[0] if order else None,
            "orderId": order[1] if order else None,
        }
    return out


def _order_at(orders: dict[str, OrderRef], row: dict[str, Any]) -> OrderRef | None:
    """What the row's business transaction names at the row's position (OrderRef.at)."""
    found = orders.get(row["biz_transaction"]) if row["biz_transaction"] else None
    return found.at((int(row["block"]), int(row["log_index"]))) if found else None


# `aggregation` is answered for aggregations only.
@router.get(
    "/events",
    response_model=AuditEventsOut,
    response_model_exclude_unset=True,
    summary="Lifecycle events by unit, signer, step, event time and block range (keyset-paginated)",
)
def get_events(
    f: FilterDep, index: IndexDep, views: UnitViewsDep, limit: LimitQuery = 100, cursor: CursorQuery = None
) -> dict[str, Any]:
    with index.read() as r:
        c = r.cursor()
        rows, next_cursor = _page(r, f, cursor, limit)
        orders = r.orders_by_refs([row["biz_transaction"] for row in rows])
    return {
        "indexedBlock": c.block if c else None,
        "count": len(rows),
        "events": [event_json(row, _order_at(orders, row), views.evidence.cid(row["evidence"])) for row in rows],
        "nextCursor": next_cursor,
    }


def _epcis_page(
    r: IndexReader, f: EventFilter, cursor: str | None, limit: int
) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
    """Lifecycle events and settlements in one chain order (block, log index), keyset-paginated:
    [("event" | "settlement", row)] and the next cursor."""
    after = decode_cursor(f, cursor) if cursor else None
    merged = sorted(
        [("event", row) for row in r.find_events(f, after, limit + 1)]
        + [("settlement", row) for row in r.settlements(f, after, limit + 1)],
        key=lambda item: (int(item[1]["block"]), int(item[1]["log_index"])),
    )
    more = len(merged) > limit
    merged = merged[:limit]
    next_cursor = encode_cursor(f, merged[-1][1]["block"], merged[-1][1]["log_index"]) if more else None
    return merged, next_cursor


@router.get(
    "/epcis",
    summary="The same selection as an EPCIS 2.0 JSON-LD EPCISDocument, with the settlements",
    response_class=JSONResponse,
    responses={
        200: {
            "content": {"application/ld+json": {}},
            "description": "EPCISDocument; next page in the Link header (rel=next)",
        }
    },
)
def get_epcis(
    request: Request,
    f: FilterDep,
    index: IndexDep,
    views: UnitViewsDep,
    chain: ChainDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> JSONResponse:
    chain_id, escrow = chain.chain_id, chain.escrow.address
    with index.read() as r:
        c = r.cursor()
        page, next_cursor = _epcis_page(r, f, cursor, limit)
        rows = [row for kind, row in page if kind == "event"]
        # A unit's copy of an aggregation is the parcel's event: exported as the parcel's link, once.
        links = r.parcel_links([row for row in rows if row["kind"] == "aggregation" and row.get("parcel_sscc") is None])
        orders = r.orders_by_refs(
            [row["biz_transaction"] for row in rows] + [links[k]["biz_transaction"] for k in links]
        )
        children = r.units_keys(
            [
                ch
                for row in [*rows, *links.values()]
                if row["kind"] == "aggregation"
                for ch in json.loads(row["child_ids"])
            ]
        )
        settled = {int(row["order_id"]) for kind, row in page if kind == "settlement"}
        order_rows = r.orders(sorted(settled))
        order_events = {o: r.escrow_events_of_order(o) for o in settled}
        units = r.units_keys([row["unit_id"] for row in order_rows.values()])
    events, seen, digests = [], set(), set()
    for kind, row in page:
        if kind == "settlement":
            o = order_rows[int(row["order_id"])]
            history = order_events[int(row["order_id"])]
            parts = settlements.parts_json(o, history, row)
            returned = any(
                e["name"] == "ReturnRequested" and (e["block"], e["log_index"]) < (row["block"], row["log_index"])
                for e in history
            )
            events.append(epcis.settlement_event(row, o, units.get(o["unit_id"]), parts, chain_id, escrow, returned))
            continue
        if row["kind"] == "aggregation" and row.get("parcel_sscc") is None:
            if f.unit_id is None:
                continue  # the parcel's own link is in the selection (perhaps on another page) and exports the event
            row = links.get((row["tx_hash"], row["struct_hash"]), row)
        if (row["tx_hash"], row["log_index"]) in seen:
            continue
        seen.add((row["tx_hash"], row["log_index"]))
        if row["evidence"]:
            digests.add(row["evidence"])
        events.append(epcis.object_event(row, chain_id, escrow, _order_at(orders, row), children))
    files = {d: cid for d in sorted(digests) if (cid := views.evidence.cid(d))}
    headers = {}
    if next_cursor:
        headers["Link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
    return JSONResponse(
        epcis.document(events, c.block if c else None, next_cursor, files),
        media_type="application/ld+json",
        headers=headers,
    )


# ---------------------------------------------------------------------------------------------
# integrity


@router.get(
    "/integrity",
    response_model=IntegrityOut,
    summary="Every indexed unit's rebuilt hash chain against its on-chain record at one block; evidence against "
    "its CIDs",
)
def get_integrity(services: ServicesDep) -> dict[str, Any]:
    try:
        report = audit.integrity_report(services.index, services.unit_views)
        # Previous deployments served read-only (api/read/legacy.py): their units against their own registry, apart.
        report["legacy"] = [
            {"deployment": legacy.views.deployment, **audit.integrity_report(legacy.index, legacy.views)}
            for legacy in services.legacy
        ]
        return report
    except ChainUnavailable as exc:
        raise ApiError(503, "chain_unavailable", f"the on-chain records could not be read: {exc}") from exc
