"""The index database: what the indexer read from the registry's and the escrow's logs, for fast queries.

It lives in a SQLite file of its own (Settings.index_database; tables prefixed `idx_`): one writer
(the indexer, in a process of its own) and one reader per request thread, in WAL mode so that readers
never wait for the writer and always see one committed state. Everything here is derived from
the chain and can be rebuilt from it; the indexer writes each block range — rows and cursor — in
one transaction, so the cursor never runs ahead of the rows or behind them.

`IndexStore` is the interface the indexer, the unit view and the audit routes use; `SqliteIndex`
fills it. The SQL is plain (upserts as `INSERT … ON CONFLICT … DO UPDATE`, keyset pagination
with `ORDER BY block, log_index`), so a PostgreSQL backend for several replicas can fill the same
interface with the same statements.

Schema (hex strings are 0x-prefixed lower case; uint256 amounts are decimal strings):

    idx_cursor          one row: chain id, registry, escrow, first block, last indexed block + hash
    idx_products        gtin → brand, class flags, markets                    (ProductRegistered)
    idx_actors          account → roles, organisation GLN                     (ActorUpdated)
    idx_actor_history   every ActorUpdated: account, roles, organisation, block, log index (who an
                        actor was when it signed an event)
    idx_units           unit_id → gtin, serial, brand, event count, last record, first/last block
    idx_events          one row per UnitCommissioned / EventRecorded: unit_id, seq, kind, signer,
                        signer's roles then, biz_step, disposition, location, event_time, evidence,
                        biz_transaction, block, tx_hash, log_index, struct_hash, record after it; an
                        aggregation link (AggregationRecorded under the parcel, UnitAggregated under each
                        unit) also its sscc, action and child ids (JSON), so every row rebuilds its link
    idx_parcels         parcel_id → sscc, event count, last record, first/last block  (a parcel's chain,
                        created by its first ADD; its events are idx_events rows under the parcel's id)
    idx_orders          order_id → the order's terms and its state folded from escrow events
    idx_escrow_events   every decoded escrow and reissue-desk log, and StorePoints' PointsRedeemed (no order):
                        name, order_id, unit_id, args (JSON), block, time
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from returntrace import gs1

from .connections import ThreadReaders, chunks, schema_columns, write_lock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idx_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    chain_id INTEGER NOT NULL,
    registry TEXT NOT NULL,
    escrow TEXT NOT NULL,
    first_block INTEGER NOT NULL,
    block INTEGER NOT NULL,
    block_hash TEXT
);
CREATE TABLE IF NOT EXISTS idx_products (
    gtin TEXT PRIMARY KEY,
    brand TEXT NOT NULL,
    class_flags INTEGER NOT NULL,
    markets INTEGER NOT NULL,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idx_actors (
    account TEXT PRIMARY KEY,
    roles INTEGER NOT NULL,
    organization INTEGER NOT NULL,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idx_actor_history (
    account TEXT NOT NULL,
    roles INTEGER NOT NULL,
    organization INTEGER NOT NULL,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    PRIMARY KEY (account, block, log_index)
);
CREATE TABLE IF NOT EXISTS idx_units (
    unit_id TEXT PRIMARY KEY,
    gtin TEXT NOT NULL,
    serial TEXT NOT NULL,
    brand TEXT NOT NULL,
    event_count INTEGER NOT NULL,
    last_record TEXT NOT NULL,
    first_block INTEGER NOT NULL,
    last_block INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_units_key ON idx_units (gtin, serial);
CREATE TABLE IF NOT EXISTS idx_events (
    unit_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    signer TEXT NOT NULL,
    signer_roles INTEGER NOT NULL,
    biz_step INTEGER NOT NULL,
    disposition INTEGER NOT NULL,
    location INTEGER NOT NULL,
    event_time INTEGER NOT NULL,
    evidence TEXT,
    biz_transaction TEXT,
    block INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    struct_hash TEXT NOT NULL,
    record TEXT NOT NULL,
    sscc INTEGER,
    action INTEGER,
    child_ids TEXT,
    UNIQUE (tx_hash, log_index),
    UNIQUE (unit_id, seq)
);
CREATE INDEX IF NOT EXISTS idx_events_position ON idx_events (block, log_index);
CREATE INDEX IF NOT EXISTS idx_events_signer ON idx_events (signer, block, log_index);
CREATE INDEX IF NOT EXISTS idx_events_step ON idx_events (biz_step, block, log_index);
CREATE INDEX IF NOT EXISTS idx_events_time ON idx_events (event_time);
CREATE INDEX IF NOT EXISTS idx_events_biz_transaction ON idx_events (biz_transaction);
CREATE INDEX IF NOT EXISTS idx_events_evidence ON idx_events (evidence) WHERE evidence IS NOT NULL;
CREATE TABLE IF NOT EXISTS idx_parcels (
    parcel_id TEXT PRIMARY KEY,
    sscc INTEGER NOT NULL UNIQUE,
    event_count INTEGER NOT NULL,
    last_record TEXT NOT NULL,
    first_block INTEGER NOT NULL,
    last_block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS idx_orders (
    order_id INTEGER PRIMARY KEY,
    unit_id TEXT NOT NULL,
    buyer TEXT NOT NULL,
    merchant TEXT NOT NULL,
    market INTEGER NOT NULL,
    policy_version INTEGER NOT NULL,
    currency TEXT NOT NULL,
    price TEXT NOT NULL,
    delivery_fee TEXT NOT NULL,
    return_shipping_fee TEXT NOT NULL,
    hygiene_sealed INTEGER NOT NULL,
    exception_confirmed INTEGER NOT NULL,
    order_ref TEXT NOT NULL,
    rma_ref TEXT NOT NULL,
    status TEXT NOT NULL,
    placed_at INTEGER,
    reason INTEGER,
    remedy INTEGER,
    in_withdrawal INTEGER,
    requested_at INTEGER,
    inspector TEXT,
    facts INTEGER,
    claimed_grade INTEGER,
    derived_grade INTEGER,
    diminished_value TEXT,
    inspection_evidence TEXT,
    grade INTEGER,
    dispute_deadline INTEGER,
    disputed_by TEXT,
    decide_by INTEGER,
    arbiter TEXT,
    settlement_path INTEGER,
    statutory INTEGER,
    refund TEXT,
    merchant_amount TEXT,
    points TEXT,
    voucher TEXT,
    bonus TEXT,
    diminished TEXT,
    shipping_deducted TEXT,
    price_refunded TEXT,
    delivery_refunded TEXT,
    settled_disposition INTEGER,
    closed_tx TEXT,
    closed_block INTEGER,
    placed_block INTEGER NOT NULL,
    placed_tx TEXT NOT NULL,
    updated_block INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_orders_unit ON idx_orders (unit_id, order_id);
CREATE INDEX IF NOT EXISTS idx_orders_order_ref ON idx_orders (order_ref);
CREATE INDEX IF NOT EXISTS idx_orders_rma_ref ON idx_orders (rma_ref);
CREATE INDEX IF NOT EXISTS idx_orders_buyer ON idx_orders (buyer);
CREATE TABLE IF NOT EXISTS idx_escrow_events (
    name TEXT NOT NULL,
    order_id INTEGER,
    unit_id TEXT,
    args TEXT NOT NULL,
    block INTEGER NOT NULL,
    block_time INTEGER,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    UNIQUE (tx_hash, log_index)
);
CREATE INDEX IF NOT EXISTS idx_escrow_events_order ON idx_escrow_events (order_id, block, log_index);
CREATE INDEX IF NOT EXISTS idx_escrow_events_unit ON idx_escrow_events (unit_id, block, log_index);
CREATE INDEX IF NOT EXISTS idx_escrow_events_position ON idx_escrow_events (block, log_index);
CREATE INDEX IF NOT EXISTS idx_escrow_events_evidence ON idx_escrow_events (json_extract(args, '$.evidence'))
    WHERE json_extract(args, '$.evidence') IS NOT NULL;
"""

# Every table of the schema with its columns, in the schema's order (idx_cursor first).
_COLUMNS = schema_columns(_SCHEMA)
_TABLES = tuple(_COLUMNS)
# The tables' layout. An index file of another layout is derived data of another release: its
# tables are dropped and rebuilt from the chain (the outbox's tables in the same file are left alone).
INDEX_LAYOUT = "returntrace-index-3"  # 3: StorePoints redemptions in idx_escrow_events

# The columns the statements below name (and IndexBatch's tuples hold), in the schema's order.
EVENT_COLUMNS = _COLUMNS["idx_events"]
PARCEL_COLUMNS = _COLUMNS["idx_parcels"]
UNIT_COLUMNS = _COLUMNS["idx_units"]
ORDER_COLUMNS = _COLUMNS["idx_orders"]
ESCROW_EVENT_COLUMNS = _COLUMNS["idx_escrow_events"]
# Escrow logs that settle an order: each is one exported settlement (api/read/settlements.py).
SETTLEMENT_EVENTS = ("OrderSettled", "OrderCompleted", "OrderCancelled")


@dataclass(frozen=True)
class Cursor:
    chain_id: int
    registry: str
    escrow: str
    first_block: int
    block: int  # last block whose logs are all indexed (first_block - 1: none yet)
    block_hash: str | None


@dataclass
class IndexBatch:
    """Everything one block range adds, written in one transaction with the new cursor."""

    to_block: int
    block_hash: str | None
    products: list[dict[str, Any]] = field(default_factory=list)
    product_reviews: list[dict[str, Any]] = field(
        default_factory=list
    )  # ProductClassReviewed: gtin, class_flags, block, log_index
    actors: list[dict[str, Any]] = field(default_factory=list)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)  # unit_id → full row (insert or update)
    parcels: dict[str, dict[str, Any]] = field(default_factory=dict)  # parcel_id → full row (insert or update)
    events: list[tuple] = field(default_factory=list)  # in EVENT_COLUMNS order
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)  # order_id → full row
    escrow_events: list[tuple] = field(default_factory=list)  # in ESCROW_EVENT_COLUMNS order

    @property
    def log_count(self) -> int:
        return (
            len(self.products)
            + len(self.product_reviews)
            + len(self.actors)
            + len(self.events)
            + len(self.escrow_events)
        )


class OrderRef(NamedTuple):
    """What a business-transaction reference on a scan names: an escrow order's delivery ("order")
    or its return ("rma"), and the position of the order's OrderPlaced log (block, log index)."""

    kind: str
    order_id: int
    placed: tuple[int, int]

    def at(self, position: tuple[int, int]) -> OrderRef | None:
        """This reference as a scan at `position` names it: only an order placed before the scan is
        its order (a scan signed with a future order's reference stays a bare reference), so what
        an exported event says never changes once both are on-chain."""
        return self if self.placed < tuple(position) else None


@dataclass(frozen=True)
class EventFilter:
    """The auditor's selection of lifecycle events; None: no condition."""

    unit_id: str | None = None
    signer: str | None = None
    biz_step: int | None = None
    time_from: int | None = None
    time_to: int | None = None
    block_from: int | None = None
    block_to: int | None = None


class IndexStore(Protocol):
    def bind(self, chain_id: int, registry: str, escrow: str, first_block: int) -> bool: ...
    def cursor(self) -> Cursor | None: ...
    def reset(self) -> None: ...
    def known_logs(self, from_block: int, to_block: int) -> set[tuple[str, int]]: ...
    def unit_heads(self, unit_ids: list[str]) -> dict[str, dict[str, Any]]: ...
    def parcel_heads(self, parcel_ids: list[str]) -> dict[str, dict[str, Any]]: ...
    def orders(self, order_ids: list[int]) -> dict[int, dict[str, Any]]: ...
    def order_by_ref(self, refs: list[str]) -> dict[str, OrderRef]: ...
    def actors(self, accounts: list[str]) -> dict[str, tuple[int, int, int]]: ...
    def product_positions(self, gtins: list[str]) -> dict[str, tuple[int, int]]: ...
    def write(self, batch: IndexBatch) -> None: ...
    def read(self) -> Any: ...
    def close(self) -> None: ...


class IndexReader:
    """Queries over one consistent snapshot of the index (a read transaction)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def cursor(self) -> Cursor | None:
        row = self.db.execute(
            "SELECT chain_id, registry, escrow, first_block, block, block_hash FROM idx_cursor WHERE id = 1"
        ).fetchone()
        return Cursor(*row) if row else None

    def unit(self, unit_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            f"SELECT {', '.join(UNIT_COLUMNS)} FROM idx_units WHERE unit_id = ?", (unit_id,)
        ).fetchone()
        return dict(zip(UNIT_COLUMNS, row, strict=True)) if row else None

    def product(self, gtin: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT gtin, brand, class_flags, markets FROM idx_products WHERE gtin = ?", (gtin,)
        ).fetchone()
        return dict(zip(("gtin", "brand", "class_flags", "markets"), row, strict=True)) if row else None

    def events_of(self, unit_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM idx_events WHERE unit_id = ? ORDER BY seq", (unit_id,)
        ).fetchall()
        return [dict(zip(EVENT_COLUMNS, r, strict=True)) for r in rows]

    def parcel(self, parcel_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            f"SELECT {', '.join(PARCEL_COLUMNS)} FROM idx_parcels WHERE parcel_id = ?", (parcel_id,)
        ).fetchone()
        return dict(zip(PARCEL_COLUMNS, row, strict=True)) if row else None

    def organization(self, account: str) -> int | None:
        """The organisation GLN the accreditor recorded for an actor (as indexed now)."""
        row = self.db.execute("SELECT organization FROM idx_actors WHERE account = ?", (account,)).fetchone()
        return int(row[0]) if row else None

    def organizations(self, accounts: list[str]) -> dict[str, int]:
        """organization() of many actors: {account: GLN} for those the index holds."""
        out: dict[str, int] = {}
        for chunk in chunks(sorted(set(accounts))):
            for account, organization in self.db.execute(
                f"SELECT account, organization FROM idx_actors WHERE account IN ({', '.join('?' * len(chunk))})", chunk
            ):
                out[account] = int(organization)
        return out

    def organization_at(self, account: str, block: int, log_index: int) -> int | None:
        """The organisation GLN the accreditor had recorded for an actor at a log's position (its
        last ActorUpdated before it); None when the index holds no such update."""
        row = self.db.execute(
            "SELECT organization FROM idx_actor_history WHERE account = ? AND (block < ? OR (block = ? AND "
            "log_index < ?))"
            " ORDER BY block DESC, log_index DESC LIMIT 1",
            (account, block, block, log_index),
        ).fetchone()
        return int(row[0]) if row else None

    def units_keys(self, unit_ids: list[str]) -> dict[str, tuple[str, str]]:
        """{unit_id: (gtin, serial)} of the indexed units among these."""
        out: dict[str, tuple[str, str]] = {}
        for chunk in chunks(sorted(set(unit_ids))):
            for unit_id, gtin, serial in self.db.execute(
                f"SELECT unit_id, gtin, serial FROM idx_units WHERE unit_id IN ({', '.join('?' * len(chunk))})", chunk
            ):
                out[unit_id] = (gtin, serial)
        return out

    def parcels_with_events(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Every parcel with its chain rows in order (parcels are few next to units: one query each)."""
        for p in self.db.execute(f"SELECT {', '.join(PARCEL_COLUMNS)} FROM idx_parcels ORDER BY parcel_id").fetchall():
            parcel = dict(zip(PARCEL_COLUMNS, p, strict=True))
            yield parcel, self.events_of(parcel["parcel_id"])

    def orders(self, order_ids: list[int]) -> dict[int, dict[str, Any]]:
        """{order_id: idx_orders row} of the indexed orders among these."""
        out = {}
        for chunk in chunks(sorted(set(order_ids))):
            for row in self.db.execute(
                f"SELECT {', '.join(ORDER_COLUMNS)} FROM idx_orders WHERE order_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ):
                out[row[0]] = dict(zip(ORDER_COLUMNS, row, strict=True))
        return out

    def requested_returns_of(self, buyer: str) -> list[int]:
        """Ids of the buyer's orders indexed as return_requested (the shipping desk's candidates)."""
        rows = self.db.execute(
            "SELECT order_id FROM idx_orders WHERE buyer = ? AND status = 'return_requested' ORDER BY order_id",
            (buyer,),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def latest_order(self, unit_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            f"SELECT {', '.join(ORDER_COLUMNS)} FROM idx_orders WHERE unit_id = ? ORDER BY order_id DESC LIMIT 1",
            (unit_id,),
        ).fetchone()
        return dict(zip(ORDER_COLUMNS, row, strict=True)) if row else None

    def has_bought(self, buyer: str) -> bool:
        """Whether `buyer` (checksummed) bought any indexed order."""
        return self.db.execute("SELECT 1 FROM idx_orders WHERE buyer = ? LIMIT 1", (buyer,)).fetchone() is not None

    def returns_by(self, buyer: str) -> int:
        """How many of `buyer`'s (checksummed) indexed orders came to a return request."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM idx_orders WHERE buyer = ? AND requested_at IS NOT NULL", (buyer,)
        ).fetchone()
        return int(row[0])

    def orders_by_refs(self, refs: list[str]) -> dict[str, OrderRef]:
        """{ref: OrderRef} for the order and RMA references of indexed orders, with where each order
        was placed (its OrderPlaced log), so that a reference is tied to its order only from there on."""
        out: dict[str, OrderRef] = {}
        refs = sorted(set(r for r in refs if r))
        for chunk in chunks(refs):
            marks = ", ".join("?" * len(chunk))
            for order_id, order_ref, rma_ref, block, log_index in self.db.execute(
                "SELECT o.order_id, o.order_ref, o.rma_ref, e.block, e.log_index FROM idx_orders o"
                " JOIN idx_escrow_events e ON e.order_id = o.order_id AND e.name = 'OrderPlaced'"
                f" WHERE o.order_ref IN ({marks}) OR o.rma_ref IN ({marks})",
                chunk + chunk,
            ):
                if order_ref in chunk:
                    out[order_ref] = OrderRef("order", order_id, (block, log_index))
                if rma_ref in chunk:
                    out[rma_ref] = OrderRef("rma", order_id, (block, log_index))
        return out

    def replaced_order(self, unit_id: str) -> dict[str, Any] | None:
        """The ReissueDesk's ReplacementLinked event that made this unit a replacement (latest), if any:
        {order_id, args, block, tx_hash} with the original unit in args["originalUnitId"]."""
        row = self.db.execute(
            "SELECT order_id, args, block, tx_hash FROM idx_escrow_events WHERE unit_id = ? AND name = "
            "'ReplacementLinked'"
            " ORDER BY block DESC, log_index DESC LIMIT 1",
            (unit_id,),
        ).fetchone()
        return {"order_id": row[0], "args": json.loads(row[1]), "block": row[2], "tx_hash": row[3]} if row else None

    def escrow_events_of_order(self, order_id: int) -> list[dict[str, Any]]:
        rows = self.db.execute(
            f"SELECT {', '.join(ESCROW_EVENT_COLUMNS)} FROM idx_escrow_events WHERE order_id = ? ORDER BY block, "
            "log_index",
            (order_id,),
        ).fetchall()
        return _escrow_events(rows)

    def find_events(self, f: EventFilter, after: tuple[int, int] | None, limit: int) -> list[dict[str, Any]]:
        """Lifecycle events matching the filter in chain order (block, log_index), after the keyset
        position `after`, with the unit's GTIN and serial."""
        where, params = _conditions(
            (
                ("e.unit_id = ?", f.unit_id),
                ("e.signer = ?", f.signer),
                ("e.biz_step = ?", f.biz_step),
                ("e.event_time >= ?", f.time_from),
                ("e.event_time <= ?", f.time_to),
                ("e.block >= ?", f.block_from),
                ("e.block <= ?", f.block_to),
            ),
            after,
            "e.",
        )
        sql = (
            # A parcel's rows have no unit row (gtin and serial None): the parcel's SSCC is in their own sscc column.
            f"SELECT {', '.join('e.' + c for c in EVENT_COLUMNS)}, u.gtin, u.serial, p.sscc FROM idx_events e "
            "LEFT JOIN idx_units u ON u.unit_id = e.unit_id"
            " LEFT JOIN idx_parcels p ON p.parcel_id = e.unit_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY e.block, e.log_index LIMIT ?"
        )
        rows = self.db.execute(sql, params + [limit]).fetchall()
        return [dict(zip(EVENT_COLUMNS + ("gtin", "serial", "parcel_sscc"), r, strict=True)) for r in rows]

    def settlements(self, f: EventFilter, after: tuple[int, int] | None, limit: int) -> list[dict[str, Any]]:
        """Escrow settlement logs (SETTLEMENT_EVENTS) matching the filter in chain order after the
        keyset position `after`, with their args decoded. A settlement has no signer and no CBV
        step: a filter on either selects none. Its time is its block's."""
        if f.signer is not None or f.biz_step is not None:
            return []
        where, params = _conditions(
            (
                ("unit_id = ?", f.unit_id),
                ("block_time >= ?", f.time_from),
                ("block_time <= ?", f.time_to),
                ("block >= ?", f.block_from),
                ("block <= ?", f.block_to),
            ),
            after,
        )
        where.insert(0, f"name IN ({', '.join('?' * len(SETTLEMENT_EVENTS))})")
        params[:0] = SETTLEMENT_EVENTS
        rows = self.db.execute(
            f"SELECT {', '.join(ESCROW_EVENT_COLUMNS)} FROM idx_escrow_events WHERE {' AND '.join(where)} ORDER "
            "BY block, log_index LIMIT ?",
            params + [limit],
        ).fetchall()
        return _escrow_events(rows)

    def parcel_links(self, copies: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The parcel's own chain link of each unit's copy of an aggregation (an idx_events row of kind
        aggregation under a unit), keyed by (tx hash, struct hash), in find_events' row shape."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for c in copies:
            parcel_id = "0x" + gs1.parcel_id(int(c["sscc"])).hex()
            row = self.db.execute(
                f"SELECT {', '.join('e.' + c for c in EVENT_COLUMNS)}, NULL, NULL, p.sscc FROM idx_events e JOIN "
                "idx_parcels p ON p.parcel_id = e.unit_id"
                " WHERE e.unit_id = ? AND e.tx_hash = ? AND e.struct_hash = ?",
                (parcel_id, c["tx_hash"], c["struct_hash"]),
            ).fetchone()
            if row is not None:
                out[(c["tx_hash"], c["struct_hash"])] = dict(
                    zip(EVENT_COLUMNS + ("gtin", "serial", "parcel_sscc"), row, strict=True)
                )
        return out

    def units_with_events(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Every unit with its events in chain order, streamed in unit id order."""
        units = self.db.execute(f"SELECT {', '.join(UNIT_COLUMNS)} FROM idx_units ORDER BY unit_id")
        events = self.db.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM idx_events ORDER BY unit_id, seq")
        pending = events.fetchone()
        for u in units:
            unit = dict(zip(UNIT_COLUMNS, u, strict=True))
            rows = []
            while pending is not None and pending[0] < unit["unit_id"]:
                pending = events.fetchone()  # events of a unit row that is missing: skipped (the unit row drives)
            while pending is not None and pending[0] == unit["unit_id"]:
                rows.append(dict(zip(EVENT_COLUMNS, pending, strict=True)))
                pending = events.fetchone()
            yield unit, rows

    def evidence_digests(self) -> list[dict[str, Any]]:
        """Every evidence digest the chain references, with where: lifecycle events (unit, seq) and
        every escrow and reissue-desk log with an `evidence` argument (each inspection, a second
        inspection as well as the first, each defect claim's photo), zero digests left out."""
        out: dict[str, dict[str, Any]] = {}
        for digest, unit_id, seq in self.db.execute(
            "SELECT evidence, unit_id, seq FROM idx_events WHERE evidence IS NOT NULL ORDER BY block, log_index"
        ):
            out.setdefault(digest, {"digest": digest, "references": []})["references"].append(
                {"unitId": unit_id, "seq": seq}
            )
        for name, order_id, digest, block, tx_hash in self.db.execute(
            "SELECT name, order_id, json_extract(args, '$.evidence'), block, tx_hash FROM idx_escrow_events"
            " WHERE json_extract(args, '$.evidence') IS NOT NULL ORDER BY block, log_index"
        ):
            if int(digest, 16):
                out.setdefault(digest, {"digest": digest, "references": []})["references"].append(
                    {"orderId": order_id, "event": name, "block": block, "txHash": tx_hash}
                )
        return list(out.values())

    def defect_claims(self, digest: str | None = None) -> list[tuple[int, str]]:
        """(order id, photo digest) of every indexed DefectClaimed, in chain order; with `digest` (0x-hex),
        those naming it (the photos private to their orders: api/store/evidence/claim_photos.py)."""
        sql = "SELECT order_id, json_extract(args, '$.evidence') FROM idx_escrow_events WHERE name = 'DefectClaimed'"
        if digest is None:
            rows = self.db.execute(sql + " ORDER BY block, log_index")
        else:  # through the evidence index: one lookup
            rows = self.db.execute(
                sql + " AND json_extract(args, '$.evidence') = ? ORDER BY block, log_index", (digest.lower(),)
            )
        return [(int(order_id), evidence) for order_id, evidence in rows.fetchall()]

    def evidence_referenced(self, digests: list[str]) -> set[str]:
        """Those of `digests` (0x-hex) that an indexed event or escrow and reissue-desk log carries as its
        `evidence` (the same records as `evidence_digests`): staged uploads they keep (api/store/evidence)."""
        found: set[str] = set()
        for chunk in chunks(sorted({d.lower() for d in digests})):
            marks = ", ".join("?" * len(chunk))
            for sql in (
                f"SELECT DISTINCT evidence FROM idx_events WHERE evidence IN ({marks})",
                f"SELECT DISTINCT json_extract(args, '$.evidence') FROM idx_escrow_events"
                f" WHERE json_extract(args, '$.evidence') IN ({marks})",
            ):
                found.update(row[0] for row in self.db.execute(sql, chunk))
        return found

    def counts(self) -> dict[str, int]:
        return {
            "units": self.db.execute("SELECT COUNT(*) FROM idx_units").fetchone()[0],
            "events": self.db.execute("SELECT COUNT(*) FROM idx_events").fetchone()[0],
            "parcels": self.db.execute("SELECT COUNT(*) FROM idx_parcels").fetchone()[0],
            "orders": self.db.execute("SELECT COUNT(*) FROM idx_orders").fetchone()[0],
        }


class SqliteIndex:
    """The index in a SQLite file of its own (WAL; Settings.index_database). Thread-safe: one
    writer connection behind the file's write lock, one read-only connection per reading thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = write_lock(self.path)  # every writer of this file in the process
        self._db = self._connect()
        self._db.execute("PRAGMA journal_mode=WAL")
        # Derived data: a crash may lose the last committed range (re-indexed from the cursor), never consistency.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()
        self._readers = ThreadReaders(self.path)

    def _migrate(self) -> None:
        db = self._db
        db.execute(
            "CREATE TABLE IF NOT EXISTS idx_layout (id INTEGER PRIMARY KEY CHECK (id = 1), layout TEXT NOT NULL)"
        )
        row = db.execute("SELECT layout FROM idx_layout WHERE id = 1").fetchone()
        if row is None or row[0] != INDEX_LAYOUT:
            db.execute("BEGIN IMMEDIATE")
            for table in _TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute("INSERT OR REPLACE INTO idx_layout (id, layout) VALUES (1, ?)", (INDEX_LAYOUT,))
            db.execute("COMMIT")
        db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)

    # ------------------------------------------------------------------ writing

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock.hold(urgent=True):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def bind(self, chain_id: int, registry: str, escrow: str, first_block: int) -> bool:
        """Ties the index to one deployment. An index of another deployment (another chain, other
        contract addresses) is emptied: it is derived data. Returns True if it was reset."""
        with self._tx() as db:
            row = db.execute("SELECT chain_id, registry, escrow, first_block FROM idx_cursor WHERE id = 1").fetchone()
            if row == (chain_id, registry, escrow, first_block):
                return False
            for table in _TABLES:
                db.execute(f"DELETE FROM {table}")
            db.execute(
                "INSERT INTO idx_cursor (id, chain_id, registry, escrow, first_block, block, block_hash) VALUES "
                "(1, ?, ?, ?, ?, ?, NULL)",
                (chain_id, registry, escrow, first_block, first_block - 1),
            )
            return row is not None

    def reset(self) -> None:
        """Forgets everything indexed (the chain was reorganised or replaced): index again from the first block."""
        with self._tx() as db:
            for table in _TABLES[1:]:
                db.execute(f"DELETE FROM {table}")
            db.execute("UPDATE idx_cursor SET block = first_block - 1, block_hash = NULL WHERE id = 1")

    def write(self, batch: IndexBatch) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT INTO idx_products (gtin, brand, class_flags, markets, block, log_index) VALUES (:gtin, "
                ":brand, :class_flags, :markets, :block, :log_index)"
                " ON CONFLICT (gtin) DO UPDATE SET brand = excluded.brand, class_flags = excluded.class_flags, "
                "markets = excluded.markets,"
                " block = excluded.block, log_index = excluded.log_index",
                batch.products,
            )
            db.executemany(  # the accreditor's review of a class: later than what is indexed, or already in
                "UPDATE idx_products SET class_flags = :class_flags, block = :block, log_index = :log_index"
                " WHERE gtin = :gtin AND (block, log_index) < (:block, :log_index)",
                batch.product_reviews,
            )
            db.executemany(
                "INSERT INTO idx_actors (account, roles, organization, block, log_index) VALUES (:account, "
                ":roles, :organization, :block, :log_index)"
                " ON CONFLICT (account) DO UPDATE SET roles = excluded.roles, organization = excluded.organization,"
                " block = excluded.block, log_index = excluded.log_index",
                batch.actors,
            )
            db.executemany(
                "INSERT OR IGNORE INTO idx_actor_history (account, roles, organization, block, log_index)"
                " VALUES (:account, :roles, :organization, :block, :log_index)",
                batch.actors,
            )
            if batch.units:
                cols = ", ".join(UNIT_COLUMNS)
                db.executemany(
                    f"INSERT INTO idx_units ({cols}) VALUES ({', '.join(':' + c for c in UNIT_COLUMNS)})"
                    " ON CONFLICT (unit_id) DO UPDATE SET event_count = excluded.event_count, last_record = "
                    "excluded.last_record, last_block = excluded.last_block",
                    list(batch.units.values()),
                )
            if batch.parcels:
                db.executemany(
                    f"INSERT INTO idx_parcels ({', '.join(PARCEL_COLUMNS)}) VALUES "
                    f"({', '.join(':' + c for c in PARCEL_COLUMNS)})"
                    " ON CONFLICT (parcel_id) DO UPDATE SET event_count = excluded.event_count, last_record = "
                    "excluded.last_record, last_block = excluded.last_block",
                    list(batch.parcels.values()),
                )
            db.executemany(
                f"INSERT INTO idx_events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
                batch.events,
            )
            if batch.orders:
                updates = ", ".join(f"{c} = excluded.{c}" for c in ORDER_COLUMNS if c != "order_id")
                db.executemany(
                    f"INSERT INTO idx_orders ({', '.join(ORDER_COLUMNS)}) VALUES "
                    f"({', '.join(':' + c for c in ORDER_COLUMNS)})"
                    f" ON CONFLICT (order_id) DO UPDATE SET {updates}",
                    [{c: o.get(c) for c in ORDER_COLUMNS} for o in batch.orders.values()],
                )
            db.executemany(
                f"INSERT INTO idx_escrow_events ({', '.join(ESCROW_EVENT_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(ESCROW_EVENT_COLUMNS))})",
                batch.escrow_events,
            )
            db.execute(
                "UPDATE idx_cursor SET block = ?, block_hash = ? WHERE id = 1", (batch.to_block, batch.block_hash)
            )

    # ------------------------------------------------------------------ what the indexer reads before writing

    def cursor(self) -> Cursor | None:
        with self.read() as r:
            return r.cursor()

    def known_logs(self, from_block: int, to_block: int) -> set[tuple[str, int]]:
        """(tx_hash, log_index) of logs in the block range that are indexed already."""
        with self.read() as r:
            out = set(
                r.db.execute(
                    "SELECT tx_hash, log_index FROM idx_events WHERE block BETWEEN ? AND ?", (from_block, to_block)
                )
            )
            out.update(
                r.db.execute(
                    "SELECT tx_hash, log_index FROM idx_escrow_events WHERE block BETWEEN ? AND ?",
                    (from_block, to_block),
                )
            )
        return out

    def unit_heads(self, unit_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._heads("idx_units", "unit_id", UNIT_COLUMNS, unit_ids)

    def parcel_heads(self, parcel_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._heads("idx_parcels", "parcel_id", PARCEL_COLUMNS, parcel_ids)

    def _heads(self, table: str, key: str, columns: tuple[str, ...], ids: list[str]) -> dict[str, dict[str, Any]]:
        """The rows of the chains (units or parcels) among `ids` that are indexed: their heads go on from there."""
        out = {}
        with self.read() as r:
            for chunk in chunks(sorted(set(ids))):
                for row in r.db.execute(
                    f"SELECT {', '.join(columns)} FROM {table} WHERE {key} IN ({', '.join('?' * len(chunk))})", chunk
                ):
                    out[row[0]] = dict(zip(columns, row, strict=True))
        return out

    def orders(self, order_ids: list[int]) -> dict[int, dict[str, Any]]:
        with self.read() as r:
            return r.orders(order_ids)

    def order_by_ref(self, refs: list[str]) -> dict[str, OrderRef]:
        with self.read() as r:
            return r.orders_by_refs(refs)

    def actors(self, accounts: list[str]) -> dict[str, tuple[int, int, int]]:
        """{account: (roles, block, log_index of the update that set them)}."""
        out = {}
        with self.read() as r:
            for chunk in chunks(sorted(set(accounts))):
                for account, roles, block, log_index in r.db.execute(
                    "SELECT account, roles, block, log_index FROM idx_actors WHERE account IN "
                    f"({', '.join('?' * len(chunk))})",
                    chunk,
                ):
                    out[account] = (roles, block, log_index)
        return out

    def product_positions(self, gtins: list[str]) -> dict[str, tuple[int, int]]:
        """{gtin: (block, log_index) of its registration as indexed}."""
        out = {}
        with self.read() as r:
            for chunk in chunks(sorted(set(gtins))):
                for gtin, block, log_index in r.db.execute(
                    f"SELECT gtin, block, log_index FROM idx_products WHERE gtin IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ):
                    out[gtin] = (block, log_index)
        return out

    # ------------------------------------------------------------------ reading

    @contextmanager
    def read(self) -> Iterator[IndexReader]:
        """A read transaction: every query inside sees the same committed state."""
        with self._readers.transaction() as db:
            yield IndexReader(db)

    def close(self) -> None:
        self._readers.close()
        with self._write_lock:
            self._db.close()


def _escrow_events(rows: list[Any]) -> list[dict[str, Any]]:
    """idx_escrow_events rows (ESCROW_EVENT_COLUMNS) as dicts, their JSON args decoded."""
    out = []
    for r in rows:
        entry = dict(zip(ESCROW_EVENT_COLUMNS, r, strict=True))
        entry["args"] = json.loads(entry["args"])
        out.append(entry)
    return out


def _conditions(
    filters: tuple[tuple[str, Any], ...], after: tuple[int, int] | None, prefix: str = ""
) -> tuple[list[str], list[Any]]:
    """SQL conditions and their parameters: each filter whose value is set, then the keyset position
    `after` (block, log index) of a chain-ordered listing (columns under `prefix`, e.g. "e.")."""
    where = [column for column, value in filters if value is not None]
    params: list[Any] = [value for _, value in filters if value is not None]
    if after is not None:
        where.append(f"{prefix}block >= ? AND ({prefix}block > ? OR {prefix}log_index > ?)")
        params += [after[0], after[0], after[1]]
    return where, params
