"""A unit as the consumer page, the resolver's JSON and the auditor see it, proven against the chain.

    services.unit_views.view("09506000134352", "ABC123") -> UnitView | None

The timeline, the product and the latest order come from the index database (one read
transaction, so they describe one indexed block N). The verification rebuilds the unit's hash
chain from exactly the rows shown — every struct hash recomputed from the row's fields, not
taken from the index — and compares it with `TraceRegistry.unitRecord(unit)` read at block N.
Only that on-chain read is cached, per (unit, N, hash of N): a page answers from the database alone until
the indexer moves on, and an altered database row shows as "not verified" at once.

It never raises for a chain that is down: the view then says not verified, and why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from returntrace import gs1, hashchain, history
from returntrace.evidence_files import EvidenceNames
from returntrace.vocab import HYGIENE_SEALED, BizStep, Disposition, closes

from ..chain.blocks import at
from ..chain.guard import ChainUnavailable
from ..chain.proofs import BlockReads
from ..store.index import IndexReader, SqliteIndex
from .orders import OrderViews, reissue_unfulfilled
from .rows import bytes32, record_of, unit_ref
from .views import ParcelMember, ParcelView, TimelineEntry, UnitView, Verification


def _parcel_key(row: dict[str, Any]) -> str:
    return "0x" + gs1.parcel_id(int(row["sscc"])).hex()


def _fate(row: dict[str, Any], organization: int | None, at_event: bool = True) -> dict[str, Any]:
    """Where the unit went when the event `row` closed it: donated to / recycled by an organisation
    (the signer's organisation at the event's block when `at_event`, else as indexed now), or destroyed."""
    disposition, step = int(row["disposition"]), int(row["biz_step"])
    fates: dict[int, str] = {
        Disposition.DONATED: "donated",
        Disposition.RECYCLED: "recycled",
        Disposition.DESTROYED: "destroyed",
    }
    kind = fates.get(disposition)
    if kind is None:
        kind = "decommissioned" if step == BizStep.DECOMMISSIONING else "closed"
    return {
        "kind": kind,
        "organization": f"{organization:013d}" if organization else None,
        "organizationAtEvent": bool(organization) and at_event,
        "location": f"{int(row['location']):013d}",
        "time": int(row["event_time"]),
        "signer": row["signer"],
        "block": int(row["block"]),
        "txHash": row["tx_hash"],
    }


class UnitViews:
    """Builds UnitViews from the index and verifies them against the chain (Services.unit_views)."""

    def __init__(
        self,
        index: SqliteIndex,
        reads: BlockReads,
        public_url: str,
        evidence: Any = None,
        deployment: dict[str, Any] | None = None,
        previous: tuple[UnitViews, ...] = (),
    ) -> None:
        # `reads`: the deployment's state at the indexed block; its orders are proved when it reads an escrow.
        self.index, self.reads, self.public_url = index, reads, public_url
        self.evidence = EvidenceNames(
            evidence
        )  # `evidence`: the EvidenceStore that names digests by CID (None: digests)
        self.orders = OrderViews(reads if reads.proves_orders else None, self.evidence, public_url)
        # `deployment` names the deployment these views come from (None: the gateway's current one);
        # `previous`, the views of deployments served read-only (api/read/legacy.py), asked in order for a
        # unit this one does not know.
        self.deployment = deployment
        self.previous = previous

    @property
    def links(self) -> BlockReads | None:
        """The on-chain reads that prove the orders (None: orders are not proved)."""
        return self.orders.links

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
            if replaced is not None and reissue_unfulfilled(r.escrow_events_of_order(int(replaced["order_id"]))):
                replaced = None  # the reissue went unfulfilled: this unit went back to stock, it replaces nothing
            linked = (
                []
                if reissue_unfulfilled(order_events)
                else [e for e in order_events if e["name"] == "ReplacementLinked"]
            )
            keys = r.units_keys(
                [e["args"]["replacementUnitId"] for e in linked[-1:]]
                + ([replaced["args"]["originalUnitId"]] if replaced else [])
            )
            closing = next(
                (
                    row
                    for row in rows
                    if closes(int(row["biz_step"]), int(row["disposition"])) and row["kind"] != "commission"
                ),
                None,
            )
            organization, at_event = None, False
            if closing:  # the partner's organisation when it signed (ActorUpdated history), else as indexed now
                organization = r.organization_at(closing["signer"], int(closing["block"]), int(closing["log_index"]))
                at_event = organization is not None
                organization = organization if at_event else r.organization(closing["signer"])
        block = cursor.block if cursor else None
        block_hash = cursor.block_hash if cursor else None
        h, verification = self.unit_history(unit, rows, parcels, block, block_hash)
        brand = product["brand"] if product else unit["brand"]
        hygiene_sealed = bool(product and product["class_flags"] & HYGIENE_SEALED)
        if verification.verified:  # no hash covers the product's row: its brand and seal against the registry
            verification = self._prove_product(gtin14, brand, hygiene_sealed, verification, block_hash)
        return_status = self.orders.return_status(order, order_events) if order else None
        if return_status is not None and order is not None:  # a return status comes from an order
            self.orders.add_details(return_status, order, order_events, keys, block, block_hash)
        return UnitView(
            unit_id=key,
            gtin=gtin14,
            serial=serial,
            brand=brand,
            hygiene_sealed=hygiene_sealed,
            digital_link=gs1.digital_link(self.public_url, gtin14, serial),
            timeline=self.timeline(unit, rows, parcels, h),
            return_status=return_status,
            verification=verification,
            replacement_for=self.orders.replacement_for(unit_id, replaced, keys, block, block_hash)
            if replaced
            else None,
            closed=verification.closed,
            fate=_fate(closing, organization, at_event) if closing else None,
        )

    def _prove_product(
        self, gtin14: str, brand: str, hygiene_sealed: bool, verified: Verification, block_hash: str | None
    ) -> Verification:
        """`verified` (a verified history) unless the brand and hygiene seal the view shows from the index's
        product row are not `TraceRegistry.product(gtin)` at the same block."""
        try:
            onchain_brand, flags = self.reads.product(int(gtin14), at(verified.block, block_hash))
        except ChainUnavailable as exc:
            return replace(verified, verified=False, reason=f"chain unreachable: the product could not be read ({exc})")
        onchain = (onchain_brand, bool(flags & HYGIENE_SEALED))
        if (brand, hygiene_sealed) == onchain:
            return verified
        reason = (
            f"mismatch: TraceRegistry.product({int(gtin14)}) (brand, hygiene seal) on-chain at block {verified.block} "
            f"is {onchain!r}, not what the index holds"
        )
        return replace(verified, verified=False, reason=reason)

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
        block_hash = cursor.block_hash if cursor else None
        rebuilt = (history.chain_records(records) or [0])[-1]
        count = hashchain.count_of(rebuilt)
        contents_verified, contents_reason, size = False, None, None
        try:
            onchain = self.reads.record(parcel_id, at(block, block_hash)) if block is not None else None
            if onchain is not None and block is not None:
                parents, onchain_size = self.reads.parcel_content(parcel_id, members, at(block, block_hash))
                p = history.parcel_history_of(parcel_id, block, records, onchain, parents, onchain_size)
                size, contents_verified = p.onchain_size, p.verified
                if not p.contents_on_chain:
                    contents_reason = f"mismatch: a listed unit's parentOf on-chain at block {block} is not this parcel"
                elif len(p.contents) != p.onchain_size:
                    contents_reason = (
                        f"mismatch: {len(p.contents)} units listed, parcelSize on-chain at block "
                        f"{block} is {p.onchain_size}"
                    )
                elif not p.chain_verified:
                    contents_reason = "the parcel's history does not match its on-chain record"
        except Exception as exc:  # any failed read is "unreachable" for the page, never a 500
            onchain = None
            contents_reason = f"chain unreachable: {type(exc).__name__}: {exc}"
        if block is None:
            verification = Verification(False, None, None, count, "not indexed: the index has no block yet")
        elif onchain is None:
            verification = Verification(
                False,
                block,
                None,
                count,
                f"chain unreachable: the parcel's on-chain record could not be read ({contents_reason})",
            )
        else:
            reason = history.mismatch_reason(rebuilt, onchain, block)
            verification = Verification(
                reason is None, block, hashchain.count_of(onchain), count, reason, hashchain.is_closed(onchain)
            )
        contents = []
        for m in members:
            ref = unit_ref("0x" + m.hex(), keys, self.public_url)
            contents.append(ParcelMember(ref["unitId"], ref["gtin"], ref["serial"], ref["link"]))
        timeline = []
        for row in rows:
            entry = history.timeline_entry(record_of({}, row), int(row["seq"]), int(row["signer_roles"]))
            entry["evidence"] = self.evidence.name(row["evidence"])
            timeline.append(TimelineEntry(**entry))
        return ParcelView(
            parcel_id=key,
            sscc=sscc18,
            digital_link=gs1.parcel_link(self.public_url, sscc18),
            timeline=timeline,
            contents=contents,
            verification=verification,
            contents_verified=contents_verified,
            contents_reason=contents_reason,
            onchain_size=size,
        )

    def unit_history(
        self,
        unit: dict[str, Any],
        rows: list[dict[str, Any]],
        parcels: dict[str, list[dict[str, Any]]],
        block: int | None,
        block_hash: str | None = None,
    ) -> tuple[history.UnitHistory | None, Verification]:
        """The unit's chain and those of the parcels it travelled in, rebuilt from exactly these
        index rows into a returntrace.history.UnitHistory (the same object `history.fetch` builds
        from logs), each head against its on-chain record at `block` (cached per block)."""
        unit_id = bytes32(unit["unit_id"])
        try:
            records = [record_of(unit, row) for row in rows]
            chains = {bytes32(p): [record_of({}, row) for row in prows] for p, prows in parcels.items()}
            own = history.chain_records(records)
            heads = {p: (history.chain_records(rs) or [0])[-1] for p, rs in chains.items()}
        except (ValueError, TypeError, OverflowError, KeyError) as exc:
            return None, Verification(False, block, None, len(rows), f"mismatch: an index row cannot be read ({exc})")
        rebuilt = own[-1] if own else 0
        count = hashchain.count_of(rebuilt)
        if block is None:
            return None, Verification(False, None, None, count, "not indexed: the index has no block yet")
        try:
            onchain = self.reads.record(unit_id, at(block, block_hash))
            parcel_records = {p: self.reads.record(p, at(block, block_hash)) for p in chains}
        except ChainUnavailable as exc:
            return None, Verification(
                False, block, None, count, f"chain unreachable: the unit's on-chain record could not be read ({exc})"
            )
        h = history.UnitHistory(
            unit_id,
            block,
            records,
            rebuilt,
            onchain,
            {p: history.ParcelHistory(p, block, rs, heads[p], parcel_records[p]) for p, rs in chains.items()},
            history.via_parcels(records, chains),
        )
        reason = history.mismatch_reason(rebuilt, onchain, block)
        for p in h.parcels.values():
            parcel_reason = history.mismatch_reason(p.rebuilt_record, p.onchain_record, block)
            if reason is None and parcel_reason is not None:
                reason = f"parcel {p.sscc:018d}: {parcel_reason}" if p.sscc is not None else parcel_reason
        return h, Verification(
            h.verified, block, hashchain.count_of(onchain), count, reason, hashchain.is_closed(onchain)
        )

    def timeline(
        self,
        unit: dict[str, Any],
        rows: list[dict[str, Any]],
        parcels: dict[str, list[dict[str, Any]]],
        h: history.UnitHistory | None,
    ) -> list[TimelineEntry]:
        """Own rows and the parcels' scans while the unit was packed, in chain order (history.UnitHistory.timeline)."""
        if h is None:  # not rebuilt (unreadable row, no block yet, chain down): the unit's own rows as indexed
            return [self.timeline_entry(unit, row) for row in rows]
        by_position = {
            (bytes32(row["unit_id"]), int(row["block"]), int(row["log_index"])): row
            for prows in (rows, *parcels.values())
            for row in prows
        }
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

    def _not_indexed(
        self, r: IndexReader, unit_id: bytes, gtin14: str, serial: str, block: int | None
    ) -> UnitView | None:
        """A unit the index does not hold: shown unverified if the chain has it (the indexer is
        behind), else None."""
        try:
            if not self.reads.exists(unit_id):
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
            verification=Verification(
                False, block, None, 0, f"not indexed yet: the unit is on-chain but the indexer is at block {block}"
            ),
        )
