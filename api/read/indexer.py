"""The indexer: follows the registry's and the escrow's logs into the index database.

From the manifest's deployment block it asks the node for the logs of both contracts in block
ranges (one `eth_getLogs` per range), decodes them with the contracts' ABIs, folds each unit's
hash chain as it goes (seq and record after every event), folds each order's state from the
escrow events, and writes the range's rows and the new cursor in one transaction. After a
restart it continues from the cursor; a range indexed twice adds nothing (each log is keyed by
(tx hash, log index) and logs already present are skipped). If the block at the cursor is no
longer the chain's block (a reorganisation deeper than the confirmations, or a chain that was
replaced), the index is emptied and rebuilt from the deployment block.

StorePoints' PointsRedeemed logs are kept with the escrow's (no order, no unit): the membership
figures' points redeemed per merchant.

A previous deployment served read-only (api.chain.client.LegacyDeployment: no escrow, no desk) is indexed
for its registry only: chains, products and actors, no orders.

    indexer = Indexer(chain, SqliteIndex(path))
    indexer.index_once()      # catch up now (tests, scripts)
    indexer.start()           # or follow the chain in a thread until stop()
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from returntrace import hashchain, history, logs
from returntrace.escrow import OrderStatus, ReturnReason, SettlementPath
from returntrace.logs import DecodedLog, LogDecoder
from returntrace.refs import order_ref, rma_ref

from ..chain.client import Chain, LegacyDeployment
from ..chain.pages import BlockTimes
from ..chain.worker import Worker
from ..store.index import EVENT_COLUMNS, IndexBatch, IndexStore

log = logging.getLogger("returntrace.indexer")

ZERO32 = bytes(32)
# The StorePoints logs the index keeps (in idx_escrow_events, under no order).
POINTS_EVENTS = ("PointsRedeemed",)
# The status each event leaves its order in (the index keeps OrderStatus keys: "return_requested").
STATUS_AFTER = {
    "OrderPlaced": OrderStatus.ACTIVE,
    "ReturnRequested": OrderStatus.RETURN_REQUESTED,
    "OrderInspected": OrderStatus.INSPECTED,
    "OrderDisputed": OrderStatus.DISPUTED,
    "OrderCompleted": OrderStatus.COMPLETED,
    "OrderCancelled": OrderStatus.CANCELLED,
    "SecondInspectionRequired": OrderStatus.SECOND_INSPECTION,
    # the inspection after a refund decides the unit's fate and ends the order
    "DispositionDecided": OrderStatus.SETTLED,
    "ReissueCompleted": OrderStatus.REISSUED,
}
# Settlement paths that pay without attested facts: the order stays `refunded` until an inspection
# decides the unit's fate (ReturnSettlement.settleUnproved, BuyerClaims.uninspected).
UNPROVED_PATHS = (
    SettlementPath.ON_RECEIPT,
    SettlementPath.DISPATCHED,
    SettlementPath.OVERDUE,
    SettlementPath.UNINSPECTED,
)


class IndexInconsistent(RuntimeError):
    """A log does not fit what is indexed (an event on a unit the index never saw commissioned)."""


def hex32(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _nonzero(value: bytes) -> str | None:
    return None if bytes(value) == ZERO32 else hex32(value)


def json_safe(value: Any) -> Any:
    """A decoded log's args as the index keeps them in JSON (and as a proof compares them)."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


class Indexer(Worker):
    name = "indexer"

    def __init__(
        self,
        chain: Chain | LegacyDeployment,
        index: IndexStore,
        interval: float = 0.2,
        block_range: int = 2000,
        confirmations: int = 0,
    ) -> None:
        super().__init__(interval)
        self.chain, self.index = chain, index
        self.block_range, self.confirmations = block_range, confirmations
        self.registry = chain.registry.address
        self.escrow = chain.escrow.address if chain.escrow is not None else None
        # The ReissueDesk's logs (defect claims, replacements) are folded into the orders like the escrow's.
        self.desk = chain.desk.address if chain.desk is not None else None
        contracts = [c for c in (chain.registry, chain.escrow, chain.desk) if c is not None]
        abis: dict[str, Any] = {c.address: c.abi for c in contracts}
        # StorePoints: only its redemptions (the analytics' points redeemed), kept with the escrow's logs.
        points = getattr(chain, "points", None)
        self.points = points.address if points is not None else None
        if points is not None:
            abis[points.address] = [e for e in points.abi if e.get("type") == "event" and e["name"] in POINTS_EVENTS]
        self.decoder = LogDecoder(abis)
        self.addresses = list(abis)
        if index.bind(chain.chain_id, self.registry, self.escrow or "", chain.deployment_block):  # "": no escrow
            log.warning(
                "the index belonged to another deployment; it was emptied and is rebuilt from block %d",
                chain.deployment_block,
            )
        self._lock = threading.Lock()
        self.block_times = BlockTimes(chain.w3)
        self.events_indexed = 0

    def _round(self) -> bool:
        self.index_once(stop=self._stop)
        return False

    def indexed_block(self) -> int | None:
        """The last block whose logs are all in the index (None: not bound to a deployment)."""
        cursor = self.index.cursor()
        return cursor.block if cursor else None

    # ------------------------------------------------------------------ one round

    def index_once(self, to_block: int | None = None, stop: threading.Event | None = None) -> int:
        """Indexes from the cursor up to `to_block` (default: the chain head less the confirmations),
        range by range. Returns the number of logs added."""
        with self._lock:
            w3 = self.chain.w3
            cursor = self.index.cursor()
            assert cursor is not None
            if cursor.block_hash is not None and not self._same_block(cursor.block, cursor.block_hash):
                log.warning(
                    "block %d is no longer %s: the chain was reorganised or replaced; re-indexing from block %d",
                    cursor.block,
                    cursor.block_hash,
                    cursor.first_block,
                )
                self.index.reset()
                cursor = self.index.cursor()
                assert cursor is not None
            head = int(logs.rpc(w3, "eth_blockNumber", []), 16) - self.confirmations
            last = head if to_block is None else min(to_block, head)
            added = 0
            start = cursor.block + 1
            for first, end, raw in logs.iter_ranges(w3, self.addresses, start, last, self.block_range):
                block = logs.rpc(w3, "eth_getBlockByNumber", [hex(end), False])
                batch = self._batch(first, end, raw, block["hash"] if block else None)
                self.index.write(batch)
                added += batch.log_count
                self.events_indexed += len(batch.events)
                if stop is not None and stop.is_set():
                    break
            return added

    def _same_block(self, number: int, block_hash: str) -> bool:
        block = logs.rpc(self.chain.w3, "eth_getBlockByNumber", [hex(number), False])
        return block is not None and block["hash"] == block_hash

    # ------------------------------------------------------------------ folding a range

    def _batch(self, first: int, last: int, raw: list[dict[str, Any]], block_hash: str | None) -> IndexBatch:
        known = self.index.known_logs(first, last) if raw else set()
        entries = [e for e in logs.decoded(self.decoder, raw) if (e.tx_hash, e.log_index) not in known]
        batch = IndexBatch(to_block=last, block_hash=block_hash)
        if not entries:
            return batch

        registry = [e for e in entries if e.address == self.registry]
        escrow = [e for e in entries if e.address in (self.escrow, self.desk, self.points)]
        # Chains: units and parcels alike (a parcel's id is a unit id; EventRecorded on it is a parcel scan).
        chain_ids = [
            hex32(e.args["unitId"])
            for e in registry
            if e.name in ("EventRecorded", "UnitCommissioned", "UnitAggregated")
        ]
        chain_ids += [hex32(e.args["parcelId"]) for e in registry if e.name == "AggregationRecorded"]
        units = self.index.unit_heads(chain_ids) if chain_ids else {}
        parcels = self.index.parcel_heads(chain_ids) if chain_ids else {}
        accounts = [
            e.args["signer"] for e in registry if e.name in ("EventRecorded", "UnitCommissioned", "AggregationRecorded")
        ]
        accounts += [e.args["account"] for e in registry if e.name == "ActorUpdated"]
        actors = self.index.actors(accounts) if accounts else {}
        roles = {account: value[0] for account, value in actors.items()}
        gtins = [
            f"{int(e.args['gtin']):014d}" for e in registry if e.name in ("ProductRegistered", "ProductClassReviewed")
        ]
        products = self.index.product_positions(gtins) if gtins else {}

        # A UnitAggregated log takes its content from the AggregationRecorded just before it (same tx).
        reader = history.RecordReader()
        for e in registry:
            position = (e.block, e.log_index)
            if e.name == "ProductRegistered":
                gtin = f"{int(e.args['gtin']):014d}"
                if position <= products.get(gtin, (-1, -1)):
                    continue  # this registration, or a later one, is indexed already
                batch.products.append(
                    {
                        "gtin": gtin,
                        "brand": e.args["brand"],
                        "class_flags": int(e.args["classFlags"]),
                        "markets": int(e.args["markets"]),
                        "block": e.block,
                        "log_index": e.log_index,
                    }
                )
            elif e.name == "ProductClassReviewed":
                gtin = f"{int(e.args['gtin']):014d}"
                if position > products.get(gtin, (-1, -1)):
                    batch.product_reviews.append(
                        {
                            "gtin": gtin,
                            "class_flags": int(e.args["classFlags"]),
                            "block": e.block,
                            "log_index": e.log_index,
                        }
                    )
            elif e.name == "ActorUpdated":
                account = e.args["account"]
                if account in actors and position <= actors[account][1:]:
                    continue
                roles[account] = int(e.args["roles"])
                batch.actors.append(
                    {
                        "account": account,
                        "roles": int(e.args["roles"]),
                        "organization": int(e.args["organization"]),
                        "block": e.block,
                        "log_index": e.log_index,
                    }
                )
            else:
                record = reader.read(e)
                if record is not None:
                    self._add_event(batch, units, parcels, roles, record)

        if escrow:
            self._add_escrow(batch, escrow)
        return batch

    def _add_event(
        self,
        batch: IndexBatch,
        units: dict[str, dict[str, Any]],
        parcels: dict[str, dict[str, Any]],
        roles: dict[str, int],
        r: history.LifecycleRecord,
    ) -> None:
        unit_id = hex32(r.unit_id)
        is_parcel = unit_id in parcels or (r.kind == "aggregation" and r.parcel_id == r.unit_id)
        if is_parcel:
            unit = parcels.get(unit_id)
            if unit is None and r.kind == "aggregation":  # its first ADD creates the parcel's chain
                unit = parcels[unit_id] = {
                    "parcel_id": unit_id,
                    "sscc": r.sscc,
                    "event_count": 0,
                    "last_record": hashchain.to_hex(0),
                    "first_block": r.block,
                    "last_block": r.block,
                }
            if unit is None:
                raise IndexInconsistent(
                    f"event on parcel {unit_id}, which the index has not seen packed (tx {r.tx_hash})"
                )
        elif r.kind == "commission":
            if unit_id in units:
                raise IndexInconsistent(f"unit {unit_id} commissioned twice (tx {r.tx_hash})")
            unit = {
                "unit_id": unit_id,
                "gtin": f"{r.gtin:014d}",
                "serial": r.serial,
                "brand": r.signer,
                "event_count": 0,
                "last_record": hashchain.to_hex(0),
                "first_block": r.block,
                "last_block": r.block,
            }
            units[unit_id] = unit
        else:
            unit = units.get(unit_id)
            if unit is None:
                raise IndexInconsistent(
                    f"event on unit {unit_id}, which the index has not seen commissioned (tx {r.tx_hash})"
                )
        struct_hash = r.struct_hash()
        record = hashchain.link(int(unit["last_record"], 16), r.signer, struct_hash, r.closes)
        unit["event_count"] = hashchain.count_of(record)
        unit["last_record"] = hashchain.to_hex(record)
        unit["last_block"] = r.block
        (batch.parcels if is_parcel else batch.units)[unit_id] = unit
        aggregation = r.kind == "aggregation"
        batch.events.append(
            (
                unit_id,
                unit["event_count"],
                r.kind,
                r.signer,
                roles.get(r.signer, 0),
                r.biz_step,
                r.disposition,
                r.location,
                r.event_time,
                _nonzero(r.evidence),
                _nonzero(r.biz_transaction),
                r.block,
                r.tx_hash,
                r.log_index,
                hex32(struct_hash),
                hashchain.to_hex(record),
                r.sscc if aggregation else None,
                r.action if aggregation else None,
                json.dumps([hex32(c) for c in r.child_ids]) if aggregation else None,
            )
        )
        assert len(batch.events[-1]) == len(EVENT_COLUMNS)

    def _add_escrow(self, batch: IndexBatch, entries: list[DecodedLog]) -> None:
        order_ids = [int(e.args["orderId"]) for e in entries if "orderId" in e.args and e.name != "OrderPlaced"]
        orders = self.index.orders(order_ids) if order_ids else {}
        for e in entries:
            a = e.args
            when = self.block_times.get(e.block)
            order_id = int(a["orderId"]) if "orderId" in a else None
            unit_id = hex32(a["unitId"]) if "unitId" in a else None
            o: dict[str, Any] | None = None
            if e.name == "OrderPlaced":
                assert order_id is not None and self.escrow is not None  # the escrow's event, naming its order
                ref = order_ref(self.chain.chain_id, self.escrow, order_id)
                o = {
                    "order_id": order_id,
                    "unit_id": unit_id,
                    "buyer": a["buyer"],
                    "merchant": a["merchant"],
                    "market": int(a["market"]),
                    "policy_version": int(a["policyVersion"]),
                    "currency": a["currency"],
                    "price": str(a["price"]),
                    "delivery_fee": str(a["deliveryFee"]),
                    "return_shipping_fee": str(a["returnShippingFee"]),
                    "hygiene_sealed": int(bool(a["hygieneSealed"])),
                    "exception_confirmed": int(bool(a["exceptionConfirmed"])),
                    "order_ref": hex32(ref),
                    "rma_ref": hex32(rma_ref(ref)),
                    "status": OrderStatus.ACTIVE.key,
                    "placed_at": when,
                    "placed_block": e.block,
                    "placed_tx": e.tx_hash,
                    "updated_block": e.block,
                }
                orders[order_id] = o
            elif order_id is not None and order_id in orders:
                o = orders[order_id]
                unit_id = o["unit_id"]
                self._fold_order(o, e, when)
            elif order_id is not None:
                log.warning("%s for order %d, which the index has not seen placed (tx %s)", e.name, order_id, e.tx_hash)
            if e.name == "ReplacementLinked":  # kept under the replacement unit: its view finds the order it replaces
                unit_id = hex32(a["replacementUnitId"])
            if o is not None and order_id is not None:  # an order row always has its id
                o["updated_block"] = e.block
                batch.orders[order_id] = o
            batch.escrow_events.append(
                (e.name, order_id, unit_id, json.dumps(json_safe(a)), e.block, when, e.tx_hash, e.log_index)
            )

    @staticmethod
    def _fold_order(o: dict[str, Any], e: DecodedLog, when: int | None) -> None:
        """Folds one escrow or desk log into the order's row, as the contracts change the order."""
        a = e.args
        if e.name in STATUS_AFTER and not (e.name == "OrderCompleted" and o.get("status") == OrderStatus.REISSUED.key):
            o["status"] = STATUS_AFTER[e.name].key  # a reissue's OrderCompleted (merchant paid) keeps "reissued"
        if e.name == "DefectClaimed":
            o["status"] = (OrderStatus.REISSUE_APPROVED if a["autoApproved"] else OrderStatus.DEFECT_CLAIMED).key
            o.update(reason=int(ReturnReason.DEFECTIVE))  # the escrow records a defect claim as Defective
        elif e.name == "DefectClaimDecided":
            o["status"] = (OrderStatus.REISSUE_APPROVED if a["approved"] else OrderStatus.ACTIVE).key
        elif e.name == "DispositionDecided":
            o.update(grade=int(a["grade"]), settled_disposition=int(a["disposition"]))
        elif e.name == "ReturnRequested":
            o.update(
                reason=int(a["reason"]),
                remedy=int(a["remedy"]),
                in_withdrawal=int(bool(a["inWithdrawal"])),
                requested_at=when,
            )
        elif e.name == "RemedyChosen":
            o.update(remedy=int(a["remedy"]))
        elif e.name == "InspectionSubmitted":
            o.update(
                inspector=a["inspector"],
                facts=int(a["facts"]),
                claimed_grade=int(a["claimedGrade"]),
                derived_grade=int(a["derivedGrade"]),
                diminished_value=str(a["diminishedValue"]),
                inspection_evidence=_nonzero(a["evidence"]),
            )
        elif e.name == "OrderInspected":
            o.update(grade=int(a["grade"]), dispute_deadline=int(a["disputeDeadline"]))
        elif e.name == "OrderDisputed":
            o.update(disputed_by=a["by"], decide_by=int(a["decideBy"]))
        elif e.name == "DisputeResolved":  # the arbiter's facts replace the inspector's
            o.update(
                arbiter=a["arbiter"],
                facts=int(a["facts"]),
                grade=int(a["grade"]),
                diminished_value=str(a["diminishedValue"]),
            )
        elif e.name == "DisputeLapsed" and o.get("facts") is None:
            o["status"] = OrderStatus.RETURN_REQUESTED.key  # nothing attested: the return's own timeouts apply
        elif e.name == "OrderSettled":
            s, path, grade = a["settlement"], int(a["path"]), int(a["grade"])
            inspected = o.get("inspector") is not None
            unproved = grade == 0 and path in UNPROVED_PATHS and not (path == SettlementPath.UNINSPECTED and inspected)
            o.update(
                status=(OrderStatus.REFUNDED if unproved else OrderStatus.SETTLED).key,
                settlement_path=path,
                statutory=int(bool(s["statutory"])),
                refund=str(s["refund"]),
                merchant_amount=str(s["merchantAmount"]),
                points=str(s["points"]),
                voucher=str(s["voucher"]),
                bonus=str(s["bonus"]),
                diminished=str(s["diminished"]),
                shipping_deducted=str(s["shippingDeducted"]),
                price_refunded=str(s["priceRefunded"]),
                delivery_refunded=str(s["deliveryRefunded"]),
                closed_tx=e.tx_hash,
                closed_block=e.block,
            )
            if grade:
                o.update(grade=grade, settled_disposition=int(s["disposition"]))
        elif e.name == "OrderCompleted":
            o.update(merchant_amount=str(a["merchantAmount"]), refund="0", closed_tx=e.tx_hash, closed_block=e.block)
        elif e.name == "OrderCancelled":
            o.update(
                refund=str(a["refund"]), merchant_amount="0", points="0", closed_tx=e.tx_hash, closed_block=e.block
            )
