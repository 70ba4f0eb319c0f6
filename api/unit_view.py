"""A unit as the consumer page, the resolver's JSON and the auditor see it, proven against the chain.

    unit_view(app.state, "09506000134352", "ABC123") -> UnitView | None

The timeline, the product and the latest order come from the index database (one read
transaction, so they describe one indexed block N). The verification rebuilds the unit's hash
chain from exactly the rows shown — every struct hash recomputed from the row's fields, not
taken from the index — and compares it with `TraceRegistry.unitRecord(unit)` read at block N.
Only that on-chain read is cached, per (unit, N, hash of N): a page answers from the database alone until
the indexer moves on, and an altered database row shows as "not verified" at once.

It never raises for a chain that is down: the view then says not verified, and why.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterable

from web3 import Web3

from returntrace import escrow, gs1, hashchain, history
from returntrace.escrow import Facts, Grade, Order, Policy, Reissue, Remedy, ReturnReason, UnitDisposition
from returntrace.history import LifecycleRecord
from returntrace.policies import MARKET_NAMES
from returntrace.vocab import HYGIENE_SEALED, BizStep, Disposition, closes

from . import settlements
from .chain import REQUEST_RPC, RpcProfile
from .db.index import SETTLEMENT_EVENTS, IndexReader, SqliteIndex
from .evidence_lookup import EvidenceNames
from .views import ParcelMember, ParcelView, ReturnStatus, Settlement, TimelineEntry, UnitView, Verification

log = logging.getLogger("returntrace.unit_view")

ZERO_ADDRESS = "0x" + "00" * 20


class ChainUnavailable(Exception):
    """The node did not answer a verification read."""


def _bytes32(value: str | None) -> bytes:
    return bytes.fromhex(value[2:]) if value else bytes(32)


def record_of(unit: dict[str, Any], row: dict[str, Any]) -> LifecycleRecord:
    """The lifecycle record an index row states (commissionings take GTIN and serial from the unit
    row; aggregation links carry their parcel's SSCC, action and child ids)."""
    commission = row["kind"] == "commission"
    aggregation = row["kind"] == "aggregation"
    return LifecycleRecord(
        unit_id=_bytes32(row["unit_id"]),
        kind=row["kind"],
        signer=row["signer"],
        biz_step=int(row["biz_step"]),
        disposition=int(row["disposition"]),
        location=int(row["location"]),
        event_time=int(row["event_time"]),
        evidence=_bytes32(row["evidence"]),
        biz_transaction=_bytes32(row["biz_transaction"]),
        gtin=int(unit["gtin"]) if commission else None,
        serial=unit["serial"] if commission else None,
        block=int(row["block"]),
        tx_hash=row["tx_hash"],
        log_index=int(row["log_index"]),
        sscc=int(row["sscc"]) if aggregation else None,
        child_ids=tuple(_bytes32(c) for c in json.loads(row["child_ids"])) if aggregation else (),
        action=int(row["action"]) if aggregation else 0,
    )


def rebuild(unit: dict[str, Any], rows: Iterable[dict[str, Any]]) -> int:
    """The head the registry must hold if these index rows are the unit's true history."""
    chain = history.chain_records([record_of(unit, row) for row in rows])
    return chain[-1] if chain else 0


class ChainReads:
    """On-chain reads for the pages: each with a short timeout, cached per (what, key, block number,
    block hash) — the hash, as the indexer saw it, keeps a reorganised block apart — and behind one
    fast-fail guard: a node that failed to answer is not asked again for `retry_after` seconds, so
    a page under load with the node down answers at once (not verified, chain unreachable). Any
    failure to read is ChainUnavailable, never a 500."""

    def __init__(self, cache_size: int = 200_000, retry_after: float = 2.0) -> None:
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._size, self._retry_after = cache_size, retry_after
        self._lock = threading.Lock()
        self._down: tuple[float, str] | None = None

    def guarded(self, read: Callable[[], Any]) -> Any:
        """`read()` unless the node failed within `retry_after` seconds; a failure marks it down."""
        down = self._down
        if down and time.monotonic() < down[0]:
            raise ChainUnavailable(down[1])
        try:
            value = read()
        except ChainUnavailable:
            raise
        except Exception as exc:  # any failure to read is "unreachable" for the page, never a 500
            reason = f"{type(exc).__name__}: {exc}"
            self._down = (time.monotonic() + self._retry_after, reason)
            raise ChainUnavailable(reason) from exc
        self._down = None
        return value

    def cached(self, key: tuple, read: Callable[[], Any]) -> Any:
        """`guarded(read)`, remembered under `key` (which names the block and its hash)."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = self.guarded(read)
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return value


class ChainRecords:
    """The registry's state the pages prove the index against: `unitRecord` and a parcel's content
    (parentOf of each member, parcelSize), at a given block, through ChainReads."""

    def __init__(
        self, rpc_url: str, registry: str, rpc: RpcProfile = REQUEST_RPC, cache_size: int = 200_000, retry_after: float = 2.0, reads: ChainReads | None = None,
    ) -> None:
        self.w3 = rpc.web3(rpc_url)
        self.registry = self.w3.eth.contract(address=Web3.to_checksum_address(registry), abi=[
            {"type": "function", "name": "unitRecord", "stateMutability": "view", "inputs": [{"name": "unitId", "type": "bytes32"}], "outputs": [{"name": "", "type": "uint256"}]},
            {"type": "function", "name": "eventCount", "stateMutability": "view", "inputs": [{"name": "unitId", "type": "bytes32"}], "outputs": [{"name": "", "type": "uint32"}]},
        ])
        # Shared with the reads of other registries on the same node (a legacy deployment's): one fast-fail
        # guard for the node, keys that name the registry.
        self.reads = reads or ChainReads(cache_size, retry_after)

    def record(self, unit_id: bytes, block: int, block_hash: str | None = None) -> int:
        unit_id = bytes(unit_id)
        return self.reads.cached(("record", self.registry.address, unit_id, block, block_hash), lambda: int(self.registry.functions.unitRecord(unit_id).call(block_identifier=block)))

    def parcel_content(self, parcel_id: bytes, members: list[bytes], block: int, block_hash: str | None = None) -> tuple[dict[bytes, bytes], int]:
        """(parentOf of each member, parcelSize of the parcel) at `block`: two batched reads, cached."""
        def read() -> tuple[dict[bytes, bytes], int]:
            parents = history.read_parents(self.registry, members, block) if members else {}
            return parents, history.read_parcel_sizes(self.registry, [parcel_id], block)[parcel_id]

        return self.reads.cached(("parcel", self.registry.address, bytes(parcel_id), tuple(members), block, block_hash), read)

    def records(self, unit_ids: list[bytes], block: int) -> dict[bytes, int]:
        """Many units at one block (JSON-RPC batches), for the integrity report; not cached."""
        return self.reads.guarded(lambda: history.read_records(self.registry, unit_ids, block))

    def exists(self, unit_id: bytes) -> bool:
        return self.reads.guarded(lambda: int(self.registry.functions.eventCount(bytes(unit_id)).call()) > 0)


class OrderLinks:
    """On-chain reads that prove what the index says about an order, at the indexed block: the
    order's state (`ReturnEscrow.order`), reissues (`ReissueDesk.reissue(order).replacement`,
    `ReturnEscrow.lastOrderOf(unit)`), the return's dispatch proof and the options a buyer has
    (`returnWindowCloses`, `quote`, the policy). Cached per (order or unit, block, block hash) and
    behind the same fast-fail guard as ChainRecords (`reads`); policies for good (a version never
    changes). Failures are answers (None, or "not verified" with the reason), never errors."""

    def __init__(self, rpc_url: str, chain: Any, rpc: RpcProfile = REQUEST_RPC, reads: ChainReads | None = None) -> None:
        self.w3 = rpc.web3(rpc_url)
        self.escrow = self.w3.eth.contract(address=chain.escrow.address, abi=chain.escrow.abi)
        self.desk = self.w3.eth.contract(address=chain.desk.address, abi=chain.desk.abi)
        self.policies = self.w3.eth.contract(address=chain.policies.address, abi=chain.policies.abi)
        self.reads = reads or ChainReads()
        self._policies: dict[tuple[int, int], Policy] = {}

    def replacement_of(self, order_id: int, block: int | None, block_hash: str | None = None) -> bytes | None:
        at = block if block is not None else "latest"
        reissue: Reissue = self.reads.cached(
            ("reissue", order_id, at, block_hash), lambda: Reissue.decode(self.desk.functions.reissue(order_id).call(block_identifier=at), self.desk.abi)
        )
        return reissue.replacement if int.from_bytes(reissue.replacement, "big") else None

    def last_order_of(self, unit_id: bytes, block: int | None, block_hash: str | None = None) -> int:
        at = block if block is not None else "latest"
        return self.reads.cached(("lastOrderOf", bytes(unit_id), at, block_hash), lambda: int(self.escrow.functions.lastOrderOf(unit_id).call(block_identifier=at)))

    def order_state(self, order_id: int, block: int | None, block_hash: str | None = None) -> tuple[str, int, int]:
        """(status name, facts, grade) of the order on-chain at `block`."""
        at = block if block is not None else "latest"
        o: Order = self.reads.cached(
            ("order", order_id, at, block_hash), lambda: Order.decode(self.escrow.functions.order(order_id).call(block_identifier=at), self.escrow.abi)
        )
        return o.status.key, o.facts, int(o.grade)

    def dispatched_at(self, order_id: int, block: int | None, block_hash: str | None = None) -> int:
        """The escrow's time of the carrier's scan proving the return was sent back (0: none)."""
        at = block if block is not None else "latest"
        return self.reads.cached(("dispatchedAt", order_id, at, block_hash), lambda: int(self.escrow.functions.dispatchedAt(order_id).call(block_identifier=at)))

    def policy(self, market: int, version: int) -> Policy:
        key = (int(market), int(version))
        if key not in self._policies:
            self._policies[key] = self.reads.guarded(lambda: Policy.decode(self.policies.functions.policy(*key).call(), self.policies.abi))
        return self._policies[key]

    def return_options(self, order: dict[str, Any], block: int | None, block_hash: str | None = None) -> dict[str, Any] | None:
        """While an Active order may still be returned: when the return period ends (the escrow's
        returnWindowCloses: the law's calendar or the policy's window), the cash a grade-A return
        brings (the escrow's quote, as the release on receipt pays it) and the voucher the policy
        offers instead."""
        at = block if block is not None else "latest"
        order_id = order["order_id"]
        sealed = int(Facts.SEAL_INTACT | Facts.PACKAGING_INTACT)
        try:
            policy = self.policy(order["market"], order["policy_version"])
            # The quote is the contract's struct (escrow.Settlement), not the page's views.Settlement.
            closes_at, now, quote = self.reads.cached(("options", order_id, at, block_hash), lambda: (
                int(self.escrow.functions.returnWindowCloses(order_id).call(block_identifier=at)),
                int(self.w3.eth.get_block(at)["timestamp"]),
                escrow.Settlement.decode(self.escrow.functions.quote(order_id, int(Grade.A), sealed, 0).call(block_identifier=at), self.escrow.abi),
            ))
        except ChainUnavailable as exc:  # the page shows no options rather than failing
            log.info("return options of order %s not read: %s", order_id, exc)
            return None
        if closes_at == 0 or now > closes_at:
            return None
        offered = policy.exchange_offered
        return {
            "closesAt": closes_at, "refund": str(quote.refund), "statutory": quote.statutory, "exchangeOffered": offered,
            "exchangeBonusBps": policy.exchange_bonus_bps if offered else 0, "voucher": str(policy.exchange_voucher(quote.refund)) if offered else None,
            "refundOnReturn": policy.refund_on_return, "freePickup": policy.free_pickup,
        }


def _parcel_key(row: dict[str, Any]) -> str:
    return "0x" + gs1.parcel_id(int(row["sscc"])).hex()


def _unfulfilled(order_events: list[dict[str, Any]]) -> bool:
    """The order's reissue went unfulfilled: its replacement link no longer holds (the unit went back to stock)."""
    return any(e["name"] == "ReissueUnfulfilled" for e in order_events)


def _names(key: tuple[str, str], unit_id: str) -> bool:
    """Whether (GTIN, serial) is the name of `unit_id`: its GS1 unit id hashes to it."""
    try:
        return "0x" + gs1.unit_id(key[0], key[1]).hex() == unit_id
    except (gs1.GS1Error, ValueError, TypeError):
        return False


def _fate(row: dict[str, Any], organization: int | None, at_event: bool = True) -> dict[str, Any]:
    """Where the unit went when the event `row` closed it: donated to / recycled by an organisation
    (the signer's organisation at the event's block when `at_event`, else as indexed now), or destroyed."""
    disposition, step = int(row["disposition"]), int(row["biz_step"])
    kind = {Disposition.DONATED: "donated", Disposition.RECYCLED: "recycled", Disposition.DESTROYED: "destroyed"}.get(disposition)
    if kind is None:
        kind = "decommissioned" if step == BizStep.DECOMMISSIONING else "closed"
    return {
        "kind": kind, "organization": f"{organization:013d}" if organization else None, "organizationAtEvent": bool(organization) and at_event,
        "location": f"{int(row['location']):013d}",
        "time": int(row["event_time"]), "signer": row["signer"], "block": int(row["block"]), "txHash": row["tx_hash"],
    }


def reason_text(value: str | bytes) -> str:
    """An arbiter's reason code (bytes32: ASCII, right-padded with zero bytes) as text; hex if it is not one."""
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    text = raw.rstrip(b"\0")
    if text and all(32 <= b < 127 for b in text):
        return text.decode("ascii")
    return "0x" + raw.hex()


def _grade(value: int | None) -> str | None:
    return Grade(value).name if value else None


class UnitViews:
    """Builds UnitViews from the index and verifies them against the chain (app.state.unit_views)."""

    def __init__(
        self, index: SqliteIndex, chain_records: ChainRecords, public_url: str, evidence: Any = None, links: OrderLinks | None = None,
        deployment: dict[str, Any] | None = None,
    ) -> None:
        self.index, self.chain_records, self.public_url = index, chain_records, public_url
        self.evidence = EvidenceNames(evidence)
        self.links = links
        # `deployment` names the deployment these views come from (None: the gateway's current one);
        # `previous`, the views of deployments served read-only (api/legacy.py), asked in order for a
        # unit this one does not know.
        self.deployment = deployment
        self.previous: tuple[UnitViews, ...] = ()

    def view(self, gtin14: str, serial: str) -> UnitView | None:
        """Raises gs1.GS1Error for a malformed GTIN or serial; None for a unit nobody commissioned,
        here or under a previous deployment (whose view says which, UnitView.deployment)."""
        found = self._view(gtin14, serial)
        if found is not None:
            found.deployment = self.deployment
            return found
        return next((v for views in self.previous if (v := views.view(gtin14, serial)) is not None), None)

    def _view(self, gtin14: str, serial: str) -> UnitView | None:
        gtin14 = gs1.normalize_gtin(gtin14)
        unit_id = gs1.unit_id(gtin14, serial)
        key = "0x" + unit_id.hex()
        with self.index.read() as r:
            cursor = r.cursor()
            unit = r.unit(key)
            if unit is None:
                return self._not_indexed(r, unit_id, gtin14, serial, cursor.block if cursor else None)
            rows = r.events_of(key)
            # The parcels it travelled in: their chains (the scans while it was packed are links of theirs).
            parcel_ids = list(dict.fromkeys(_parcel_key(row) for row in rows if row["kind"] == "aggregation"))
            parcels = {p: r.events_of(p) for p in parcel_ids}
            product = r.product(gtin14)
            order = r.latest_order(key)
            order_events = r.escrow_events_of_order(order["order_id"]) if order else []
            replaced = r.replaced_order(key)
            if replaced is not None and _unfulfilled(r.escrow_events_of_order(int(replaced["order_id"]))):
                replaced = None  # the reissue went unfulfilled: this unit went back to stock, it replaces nothing
            linked = [] if _unfulfilled(order_events) else [e for e in order_events if e["name"] == "ReplacementLinked"]
            keys = r.units_keys([e["args"]["replacementUnitId"] for e in linked[-1:]] + ([replaced["args"]["originalUnitId"]] if replaced else []))
            closing = next((row for row in rows if closes(int(row["biz_step"]), int(row["disposition"])) and row["kind"] != "commission"), None)
            organization, at_event = None, False
            if closing:  # the partner's organisation when it signed (ActorUpdated history), else as indexed now
                organization = r.organization_at(closing["signer"], int(closing["block"]), int(closing["log_index"]))
                at_event = organization is not None
                organization = organization if at_event else r.organization(closing["signer"])
        block = cursor.block if cursor else None
        block_hash = cursor.block_hash if cursor else None
        h, verification = self.unit_history(unit, rows, parcels, block, block_hash)
        return_status = self.return_status(order, order_events) if order else None
        if return_status is not None:
            self._add_return_details(return_status, order, order_events, keys, block, block_hash)
        return UnitView(
            unit_id=key,
            gtin=gtin14,
            serial=serial,
            brand=product["brand"] if product else unit["brand"],
            hygiene_sealed=bool(product and product["class_flags"] & HYGIENE_SEALED),
            digital_link=gs1.digital_link(self.public_url, gtin14, serial),
            timeline=self.timeline(unit, rows, parcels, h),
            return_status=return_status,
            verification=verification,
            replacement_for=self._replacement_for(unit_id, replaced, keys, block, block_hash) if replaced else None,
            closed=verification.closed,
            fate=_fate(closing, organization, at_event) if closing else None,
        )

    def parcel_view(self, sscc: int | str) -> ParcelView | None:
        """A parcel by SSCC: its chain from the index against `unitRecord(parcel)`, and the content
        its aggregations leave proved with parentOf of each member and parcelSize, all at the indexed
        block (history.parcel_history). Raises gs1.GS1Error for an invalid SSCC; None for an unknown parcel."""
        sscc18 = gs1.sscc18(sscc)
        parcel_id = gs1.parcel_id(sscc18)
        key = "0x" + parcel_id.hex()
        with self.index.read() as r:
            cursor = r.cursor()
            parcel = r.parcel(key)
            if parcel is None:
                return None
            rows = r.events_of(key)
            records = [record_of({}, row) for row in rows]
            members = history.parcel_contents(records)
            keys = r.units_keys(["0x" + m.hex() for m in members])
        block = cursor.block if cursor else None
        rebuilt = (history.chain_records(records) or [0])[-1]
        count = hashchain.count_of(rebuilt)
        contents_verified, contents_reason, size = False, None, None
        try:
            onchain = self.chain_records.record(parcel_id, block, cursor.block_hash) if block is not None else None
            if onchain is not None:
                parents, onchain_size = self.chain_records.parcel_content(parcel_id, members, block, cursor.block_hash)
                p = history.parcel_history_of(parcel_id, block, records, onchain, parents, onchain_size)
                size, contents_verified = p.onchain_size, p.verified
                if not p.contents_on_chain:
                    contents_reason = f"mismatch: a listed unit's parentOf on-chain at block {block} is not this parcel"
                elif len(p.contents) != p.onchain_size:
                    contents_reason = f"mismatch: {len(p.contents)} units listed, parcelSize on-chain at block {block} is {p.onchain_size}"
                elif not p.chain_verified:
                    contents_reason = "the parcel's history does not match its on-chain record"
        except Exception as exc:  # any failed read is "unreachable" for the page, never a 500
            onchain = None
            contents_reason = f"chain unreachable: {type(exc).__name__}: {exc}"
        if block is None:
            verification = Verification(False, None, None, count, "not indexed: the index has no block yet")
        elif onchain is None:
            verification = Verification(False, block, None, count, f"chain unreachable: the parcel's on-chain record could not be read ({contents_reason})")
        else:
            reason = history.mismatch_reason(rebuilt, onchain, block)
            verification = Verification(reason is None, block, hashchain.count_of(onchain), count, reason, hashchain.is_closed(onchain))
        contents = []
        for m in members:
            ref = self._unit_ref("0x" + m.hex(), keys)
            contents.append(ParcelMember(ref["unitId"], ref["gtin"], ref["serial"], ref["link"]))
        timeline = []
        for row in rows:
            entry = history.timeline_entry(record_of({}, row), int(row["seq"]), int(row["signer_roles"]))
            entry["evidence"] = self.evidence.name(row["evidence"])
            timeline.append(TimelineEntry(**entry))
        return ParcelView(
            parcel_id=key, sscc=sscc18, digital_link=gs1.parcel_link(self.public_url, sscc18), timeline=timeline, contents=contents,
            verification=verification, contents_verified=contents_verified, contents_reason=contents_reason, onchain_size=size,
        )

    # ------------------------------------------------------------------ reissues, refund on receipt, options

    def _unit_ref(self, unit_id: str, keys: dict[str, tuple[str, str]]) -> dict[str, Any]:
        """A unit proved by its id, named by the index's GTIN and serial only when they hash to that
        id (gs1.unit_id): an altered idx_units row cannot put another product's name on it."""
        found = keys.get(unit_id)
        if not found or not _names(found, unit_id):
            return {"unitId": unit_id, "gtin": None, "serial": None, "link": None, "nameVerified": False}
        return {"unitId": unit_id, "gtin": found[0], "serial": found[1], "link": gs1.digital_link(self.public_url, found[0], found[1]), "nameVerified": True}

    def _add_return_details(
        self, rs: ReturnStatus, o: dict[str, Any], events: list[dict[str, Any]], keys: dict, block: int | None, block_hash: str | None = None
    ) -> None:
        def last(name: str) -> dict[str, Any] | None:
            found = [e for e in events if e["name"] == name]
            return found[-1] if found else None

        requested = last("ReturnRequested")
        if requested is not None:
            rs.remedy = Remedy.EXCHANGE.key if int(o["remedy"] or 0) == Remedy.EXCHANGE else Remedy.REFUND.key
        released = last("RefundReleasedOnReceipt")
        if released is not None and rs.settlement is not None:
            rs.refund_on_receipt = {
                "location": f"{int(released['args']['location']):013d}", "refund": rs.settlement.refund, "points": rs.settlement.points,
                "block": released["block"], "txHash": released["tx_hash"], "time": released["block_time"],
            }
        if rs.remedy == "exchange" and rs.settlement is not None and (rs.settlement.parts or {}).get("voucher") not in (None, "0"):
            rs.voucher_points = rs.settlement.parts["voucher"]
        disputed = last("OrderDisputed")
        if disputed is not None:
            by = disputed["args"]["by"]
            who = "inspection_mismatch" if int(by, 16) == 0 else "buyer" if by == o["buyer"] else "merchant"
            resolved, lapsed = last("DisputeResolved"), last("DisputeLapsed")
            rs.dispute = {
                "openedBy": who, "account": None if who == "inspection_mismatch" else by, "decideBy": int(disputed["args"]["decideBy"]),
                "time": disputed["block_time"], "pending": o["status"] == "disputed", "lapsed": lapsed is not None, "resolution": None,
            }
            if resolved is not None:
                a = resolved["args"]
                rs.dispute["resolution"] = {
                    "arbiter": a["arbiter"], "facts": Facts.names(int(a["facts"])), "grade": _grade(int(a["grade"])),
                    "diminishedValue": str(a["diminishedValue"]), "reason": reason_text(a["reason"]),
                    "evidence": self.evidence.name(a["evidence"]), "time": resolved["block_time"], "txHash": resolved["tx_hash"],
                }
        if o["status"] == "return_requested" and self.links is not None:
            try:
                sent = self.links.dispatched_at(o["order_id"], block, block_hash)
            except ChainUnavailable:
                sent = None
            rs.dispatched_at = sent or None
        if rs.settlement is not None and rs.settlement.disposition == "pending" and o["status"] == "settled" and o["derived_grade"] and self.links:
            try:  # settled on a lone first opinion (its second never came): its facts' grade terms send the unit
                terms = self.links.policy(o["market"], o["policy_version"]).terms[int(o["derived_grade"]) - 1]
                rs.settlement.disposition = UnitDisposition(terms.disposition).name.lower()
            except ChainUnavailable:
                pass
        if self.links is not None:
            rs.proof = self._prove_order(o, block, block_hash)
        second = last("SecondInspectionRequired")
        if second is not None:
            rs.second_inspection = {
                "firstOrganization": f"{int(second['args']['firstOrganization']):013d}", "pending": o["status"] == "second_inspection",
            }
        claimed = last("DefectClaimed")
        if claimed is not None:
            decided = last("DefectClaimDecided")
            lapsed = last("DefectClaimLapsed") is not None  # nobody decided in time: the claim became a return at the merchant's expense
            auto = bool(claimed["args"].get("autoApproved"))
            rs.defect_claim = {
                "evidence": self.evidence.name(claimed["args"].get("evidence")), "autoApproved": auto,
                "decided": decided is not None or auto or lapsed, "approved": auto or bool(decided and decided["args"].get("approved")),
                "returnedUndecided": lapsed, "time": claimed["block_time"], "block": claimed["block"],
            }
        unfulfilled = last("ReissueUnfulfilled")
        linked = None if unfulfilled is not None else last("ReplacementLinked")  # the replacement went back to stock
        completed = last("ReissueCompleted")
        if claimed is not None and (rs.defect_claim or {}).get("approved"):
            reissue: dict[str, Any] = {
                "replacement": None, "verified": False, "reason": None, "deliveredAt": None, "unfulfilled": unfulfilled is not None,
                "returnWaived": bool(unfulfilled and unfulfilled["args"].get("returnWaived")),
            }
            if linked is not None:
                replacement = linked["args"]["replacementUnitId"]
                reissue["replacement"] = self._unit_ref(replacement, keys)
                reissue["verified"], reissue["reason"] = self._prove(
                    lambda: self.links.replacement_of(o["order_id"], block, block_hash), _bytes32(replacement),
                    f"ReissueDesk.reissue({o['order_id']}).replacement", block,
                )
            if completed is not None:
                reissue["deliveredAt"] = int(completed["args"]["deliveredAt"])
            rs.reissue = reissue
        if o["status"] == "active" and self.links is not None:
            rs.return_options = self.links.return_options(o, block, block_hash)

    def _prove_order(self, o: dict[str, Any], block: int | None, block_hash: str | None) -> dict[str, Any]:
        """The index's status, facts and grade of the order against `ReturnEscrow.order` at the indexed block."""
        expected = (o["status"], int(o["facts"] or 0), int(o["grade"] or 0))
        verified, reason = self._prove(
            lambda: self.links.order_state(o["order_id"], block, block_hash), expected, f"ReturnEscrow.order({o['order_id']}) (status, facts, grade)", block
        )
        return {"verified": verified, "block": block, "reason": reason}

    def _prove(self, read: Any, expected: Any, what: str, block: int | None) -> tuple[bool, str | None]:
        if self.links is None:
            return False, "chain unreachable: no on-chain reader"
        try:
            onchain = read()
        except ChainUnavailable as exc:
            return False, f"chain unreachable: {exc}"
        if onchain != expected:
            return False, f"mismatch: {what} on-chain at block {block} is {onchain!r}, not what the index holds"
        return True, None

    def _replacement_for(self, unit_id: bytes, replaced: dict[str, Any], keys: dict, block: int | None, block_hash: str | None = None) -> dict[str, Any]:
        order_id = int(replaced["order_id"])
        verified, reason = self._prove(lambda: self.links.last_order_of(unit_id, block, block_hash), order_id, "ReturnEscrow.lastOrderOf(unit)", block)
        return {
            "orderId": order_id, "original": self._unit_ref(replaced["args"]["originalUnitId"], keys),
            "verified": verified, "reason": reason, "block": replaced["block"], "txHash": replaced["tx_hash"],
        }

    # ------------------------------------------------------------------ parts

    def unit_history(
        self, unit: dict[str, Any], rows: list[dict[str, Any]], parcels: dict[str, list[dict[str, Any]]], block: int | None, block_hash: str | None = None
    ) -> tuple[history.UnitHistory | None, Verification]:
        """The unit's chain and those of the parcels it travelled in, rebuilt from exactly these
        index rows into a returntrace.history.UnitHistory (the same object `history.fetch` builds
        from logs), each head against its on-chain record at `block` (cached per block)."""
        unit_id = _bytes32(unit["unit_id"])
        try:
            records = [record_of(unit, row) for row in rows]
            chains = {_bytes32(p): [record_of({}, row) for row in prows] for p, prows in parcels.items()}
            own = history.chain_records(records)
            heads = {p: (history.chain_records(rs) or [0])[-1] for p, rs in chains.items()}
        except (ValueError, TypeError, OverflowError, KeyError) as exc:
            return None, Verification(False, block, None, len(rows), f"mismatch: an index row cannot be read ({exc})")
        rebuilt = own[-1] if own else 0
        count = hashchain.count_of(rebuilt)
        if block is None:
            return None, Verification(False, None, None, count, "not indexed: the index has no block yet")
        try:
            onchain = self.chain_records.record(unit_id, block, block_hash)
            parcel_records = {p: self.chain_records.record(p, block, block_hash) for p in chains}
        except ChainUnavailable as exc:
            return None, Verification(False, block, None, count, f"chain unreachable: the unit's on-chain record could not be read ({exc})")
        h = history.UnitHistory(
            unit_id, block, records, rebuilt, onchain,
            {p: history.ParcelHistory(p, block, rs, heads[p], parcel_records[p]) for p, rs in chains.items()},
            history.via_parcels(records, chains),
        )
        reason = history.mismatch_reason(rebuilt, onchain, block)
        for p in h.parcels.values():
            parcel_reason = history.mismatch_reason(p.rebuilt_record, p.onchain_record, block)
            if reason is None and parcel_reason is not None:
                reason = f"parcel {p.sscc:018d}: {parcel_reason}" if p.sscc is not None else parcel_reason
        return h, Verification(h.verified, block, hashchain.count_of(onchain), count, reason, hashchain.is_closed(onchain))

    def timeline(self, unit: dict[str, Any], rows: list[dict[str, Any]], parcels: dict[str, list[dict[str, Any]]], h: history.UnitHistory | None) -> list[TimelineEntry]:
        """Own rows and the parcels' scans while the unit was packed, in chain order (history.UnitHistory.timeline)."""
        if h is None:  # not rebuilt (unreadable row, no block yet, chain down): the unit's own rows as indexed
            return [self.timeline_entry(unit, row) for row in rows]
        by_position = {(_bytes32(row["unit_id"]), int(row["block"]), int(row["log_index"])): row for prows in (rows, *parcels.values()) for row in prows}
        ssccs = {p.parcel_id: p.sscc for p in h.parcels.values()}
        out = []
        for rec in h.timeline():
            row = by_position[(rec.unit_id, rec.block, rec.log_index)]
            out.append(self.timeline_entry(unit, row, ssccs.get(rec.unit_id) if rec.unit_id != h.unit_id else None))
        return out

    def timeline_entry(self, unit: dict[str, Any], row: dict[str, Any], via_sscc: int | None = None) -> TimelineEntry:
        entry = history.timeline_entry(record_of(unit, row), int(row["seq"]), int(row["signer_roles"]), via_sscc)
        entry["evidence"] = self.evidence.name(row["evidence"])
        return TimelineEntry(**entry)

    def return_status(self, o: dict[str, Any], events: list[dict[str, Any]]) -> ReturnStatus:
        """The order's state from its index row and escrow events; its settlement as the escrow's parts."""
        inspection = None
        if o["inspector"]:
            # What the inspector attested, from its own log: the order's facts and diminished value are
            # the arbiter's once it corrected them (DisputeResolved), which the dispute shows apart.
            submitted = next((e for e in reversed(events) if e["name"] == "InspectionSubmitted"), None)
            attested = submitted["args"] if submitted is not None else {"facts": o["facts"], "diminishedValue": o["diminished_value"]}
            inspection = {
                "inspector": o["inspector"],
                "facts": Facts.names(int(attested["facts"] or 0)),
                "claimedGrade": _grade(o["claimed_grade"]),
                "derivedGrade": _grade(o["derived_grade"]),
                "diminishedValue": None if attested["diminishedValue"] is None else str(attested["diminishedValue"]),
                "evidence": self.evidence.name(o["inspection_evidence"]),
            }
        settled_by = next((e for e in reversed(events) if e["name"] in SETTLEMENT_EVENTS), None)
        settlement = None
        if settled_by is not None:
            parts = settlements.parts_json(o, events, settled_by)
            where = {"tx_hash": settled_by["tx_hash"], "block": settled_by["block"], "log_index": settled_by["log_index"], "parts": parts}
            if o["status"] == "cancelled":  # never delivered: the buyer got everything back, the unit stays with the brand
                settlement = Settlement(None, False, parts["refund"], "0", "0", UnitDisposition.RESTOCK.name.lower(), **where)
            elif o["status"] in ("completed", "reissued"):  # no return: the merchant is paid, the buyer keeps the unit
                settlement = Settlement(None, False, "0", parts["merchantAmount"], "0", "kept", **where)
            elif o["status"] in ("refunded", "settled"):
                # Paid before any inspection: the unit's fate waits for one (DispositionDecided), unless the
                # unit was closed or kept (a failed reissue): nothing comes back to decide on.
                decided = o["settled_disposition"] is not None
                fate = UnitDisposition(o["settled_disposition"]).name.lower() if decided else "kept" if parts["kind"] in ("unit_closed", "reissue_failed") else "pending"
                settlement = Settlement(
                    _grade(o["grade"]) if decided else None, bool(o["statutory"]), parts["refund"], parts["merchantAmount"], parts["points"], fate, **where
                )
        reason = o["reason"]
        return ReturnStatus(
            order_id=o["order_id"],
            market=MARKET_NAMES.get(o["market"], str(o["market"])),
            status=o["status"],
            currency="native" if o["currency"] == ZERO_ADDRESS else o["currency"],
            price=o["price"],
            delivery_fee=o["delivery_fee"],
            reason=ReturnReason.key_of(reason) if reason is not None else None,
            requested_at=o["requested_at"],
            in_withdrawal=None if o["in_withdrawal"] is None else bool(o["in_withdrawal"]),
            inspection=inspection,
            settlement=settlement,
            events=[
                {"name": e["name"], "block": e["block"], "logIndex": e["log_index"], "time": e["block_time"], "txHash": e["tx_hash"], "args": e["args"]}
                for e in events
            ],
        )

    def _not_indexed(self, r: IndexReader, unit_id: bytes, gtin14: str, serial: str, block: int | None) -> UnitView | None:
        """A unit the index does not hold: shown unverified if the chain has it (the indexer is
        behind), else None."""
        try:
            if not self.chain_records.exists(unit_id):
                return None
        except ChainUnavailable:
            return None
        product = r.product(gtin14)
        return UnitView(
            unit_id="0x" + unit_id.hex(),
            gtin=gtin14,
            serial=serial,
            brand=product["brand"] if product else "",
            hygiene_sealed=bool(product and product["class_flags"] & HYGIENE_SEALED),
            digital_link=gs1.digital_link(self.public_url, gtin14, serial),
            timeline=[],
            return_status=None,
            verification=Verification(False, block, None, 0, f"not indexed yet: the unit is on-chain but the indexer is at block {block}"),
        )


def make_unit_views(index: SqliteIndex, chain: Any, settings: Any) -> UnitViews:
    """UnitViews over the index whose registry and escrow reads share one cache and one fast-fail guard."""
    records = ChainRecords(settings.rpc_url, chain.registry.address, settings.request_rpc)
    links = OrderLinks(settings.rpc_url, chain, settings.request_rpc, reads=records.reads)
    return UnitViews(index, records, settings.public_url, links=links)


def unit_views(state: Any) -> UnitViews | None:
    """The app's UnitViews (made on first use from app.state's index, chain and settings)."""
    views = getattr(state, "unit_views", None)
    if views is None:
        index, chain, settings = getattr(state, "index", None), getattr(state, "chain", None), getattr(state, "settings", None)
        if index is None or chain is None or settings is None:
            return None
        views = make_unit_views(index, chain, settings)
        state.unit_views = views
    for v in (views, *views.previous):
        v.evidence.store = getattr(state, "evidence", None) or v.evidence.store
    return views


def parcel_view(state: Any, sscc: str) -> ParcelView | None:
    """The verified view of a parcel for its /00/ page; None when unknown (or no index)."""
    views = unit_views(state)
    return views.parcel_view(sscc) if views is not None else None


def unit_view(state: Any, gtin14: str, serial: str) -> UnitView | None:
    """The verified view of unit (GTIN, serial) for the resolver, the page and the auditor.

    `state` is the app's state (`request.app.state`). Returns None for a unit nobody commissioned
    (or one the index lacks while the chain cannot be asked); raises `returntrace.gs1.GS1Error`
    (a ValueError) for a malformed GTIN or serial. Never raises because the chain is down."""
    views = unit_views(state)
    if views is None:
        return None
    return views.view(gtin14, serial)
