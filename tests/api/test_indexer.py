"""Indexer: logs relayed through the gateway land in the index once, with their hash chain, and the
unit view built on them is verified against the chain."""

from __future__ import annotations

import time

from brownie import ZERO_ADDRESS, chain
from fastapi.testclient import TestClient

from api.http.responses import unit_json
from api.http.routes.resolver import unit_view
from api.main import create_app
from returntrace import gs1
from returntrace.escrow import Facts, Grade
from returntrace.refs import order_ref, rma_ref
from returntrace.vocab import BizStep, Disposition
from scripts.builder import listing_terms
from tests.api.conftest import Gateway
from tests.api.indexing import JOURNEY, execute, journey, rows
from tests.support import (
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN,
    GTIN_INT,
    MARKET_EU,
    ZERO32,
)


def _journey(gateway, serials, steps=JOURNEY):
    """Commissioned by the brand, shipped, departed, customs, delivered: five events per unit."""
    return journey(gateway, serials, steps)


def test_relayed_events_are_indexed_with_their_hash_chain(gateway, registry):
    units = _journey(gateway, ["IDX-1", "IDX-2"])
    indexer = gateway.services.indexer
    added = indexer.index_once()
    assert added >= 10
    assert indexer.indexed_block() == chain.height

    indexed = rows(gateway, "SELECT unit_id, seq, biz_step, record FROM idx_events ORDER BY block, log_index")
    per_unit = {}
    for unit_id, seq, step, record in indexed:
        per_unit.setdefault(unit_id, []).append((seq, step, record))
    for u in units:
        chain_rows = per_unit["0x" + u.hex()]
        assert [seq for seq, _, _ in chain_rows] == [1, 2, 3, 4, 5]
        assert [step for _, step, _ in chain_rows] == [1, 4, 5, 7, 8]
        assert int(chain_rows[-1][2], 16) == registry.unitRecord(u)
    ((count, last),) = rows(gateway, "SELECT event_count, last_record FROM idx_units WHERE serial = 'IDX-1'")
    assert count == 5 and int(last, 16) == registry.unitRecord(units[0])


def test_indexing_again_adds_nothing(gateway):
    _journey(gateway, ["IDX-AGAIN"])
    indexer = gateway.services.indexer
    indexer.index_once()
    before = rows(gateway, "SELECT COUNT(*) FROM idx_events")[0][0]
    assert indexer.index_once() == 0
    # Re-index a range that is already in: the cursor moves back, the rows stay single.
    execute(gateway, "UPDATE idx_cursor SET block = first_block - 1, block_hash = NULL")
    assert indexer.index_once() == 0
    assert rows(gateway, "SELECT COUNT(*) FROM idx_events")[0][0] == before
    assert (
        rows(
            gateway,
            "SELECT COUNT(*) FROM (SELECT tx_hash, log_index FROM idx_events GROUP BY tx_hash, log_index HAVING "
            "COUNT(*) > 1)",
        )[0][0]
        == 0
    )


def test_a_new_app_on_the_same_database_resumes_from_the_cursor(gateway, gateway_settings, deployment, actors):
    _journey(gateway, ["IDX-R1"])
    gateway.services.indexer.index_once()
    first_block = gateway.services.indexer.indexed_block()
    count = rows(gateway, "SELECT COUNT(*) FROM idx_events")[0][0]
    gateway.client.__exit__(None, None, None)  # the gateway stops

    with TestClient(create_app(gateway_settings)) as client:
        state = client.app.state.services
        assert state.indexer.indexed_block() == first_block  # resumes, does not start over
        again = Gateway(client, deployment, actors)
        (unit,) = again.commission("IDX-R2")
        again.relay()
        added = state.indexer.index_once()
        assert added == 1  # only the new commissioning
        assert rows(again, "SELECT COUNT(*) FROM idx_events")[0][0] == count + 1
        view = unit_view(state, GTIN, "IDX-R1")
        assert view.verification.verified and len(view.timeline) == 5


def test_unit_view_timeline_labels_and_verification(gateway, registry, escrow, actors):
    """A unit sold, carried, returned, graded B and donated, every scan relayed through the gateway (a
    charity takes only a unit whose settled order sends it there)."""
    (unit,) = _journey(gateway, ["IDX-V"], steps=())
    escrow.list(
        GTIN_INT,
        "IDX-V",
        MARKET_EU,
        ZERO_ADDRESS,
        DEFAULT_PRICE,
        DEFAULT_DELIVERY_FEE,
        DEFAULT_RETURN_FEE,
        {"from": actors["brand"].account},
    )
    buyer = actors["buyer"].account
    order_id = escrow.purchase(
        unit, listing_terms(escrow, unit), False, {"from": buyer, "value": DEFAULT_PRICE + DEFAULT_DELIVERY_FEE}
    ).return_value
    order, rma = gateway.builder.order_ref(order_id), gateway.builder.rma_ref(order_id)

    def scan(actor, step, disposition, ref=ZERO32):
        r = gateway.post(
            "/v1/events",
            gateway.events_body(actor, [gateway.event(unit, step, actor, disposition, bizTransaction=ref)]),
        )
        assert r.status_code == 202, r.text
        gateway.relay()

    for actor, step, disposition in JOURNEY:
        scan(actor, step, disposition, order if step == BizStep.DELIVERING else ZERO32)
    escrow.requestReturn(order_id, 5, 0, {"from": buyer})
    scan("carrier", BizStep.ACCEPTING, Disposition.RETURNED, rma)
    scan("warehouse", BizStep.RECEIVING, Disposition.RETURNED, rma)
    r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, Facts.PACKAGING_INTACT, Grade.B))
    assert r.status_code == 202, r.text
    gateway.relay()
    escrow.acceptInspection(order_id, {"from": buyer})
    scan("charity", BizStep.RECEIVING, Disposition.DONATED)
    gateway.services.indexer.index_once()

    view = unit_view(gateway.services, GTIN, "IDX-V")
    assert view.unit_id == "0x" + unit.hex()
    assert [e.label for e in view.timeline] == [
        "Made",
        "Shipped",
        "Departed",
        "Cleared customs",
        "Delivered",
        "Picked up for return",
        "Received at return center",
        "Received by charity",
    ]
    assert [e.step for e in view.timeline][:2] == ["commissioning", "shipping"]
    assert view.timeline[3].step_uri == "urn:returntrace:bizstep:customs_clearing"
    assert view.timeline[-1].disposition == "donated" and view.timeline[-1].signer_role == "charity"
    assert view.timeline[0].signer == gateway.actors["brand"].address and view.timeline[0].signer_role == "brand"
    assert view.timeline[1].location == f"{gateway.actors['brand'].gln:013d}"
    assert view.brand == gateway.actors["brand"].address and view.hygiene_sealed
    assert view.digital_link.endswith(f"/01/{GTIN}/21/IDX-V")
    v = view.verification
    assert v.verified and v.reason is None
    assert v.block == gateway.services.indexer.indexed_block()
    assert v.onchain_count == v.rebuilt_count == 8 == registry.eventCount(unit)
    rs = view.return_status
    assert (rs.order_id, rs.status, rs.settlement.grade, rs.settlement.disposition) == (
        order_id,
        "settled",
        "B",
        "donate",
    )
    assert view.closed and view.fate["kind"] == "donated"
    assert unit_json(view)["verification"]["verified"] is True


def test_unknown_unit_is_none_and_a_unit_not_indexed_yet_says_so(gateway):
    assert unit_view(gateway.services, GTIN, "NOBODY") is None
    gateway.commission("IDX-LATE")
    gateway.relay()
    view = unit_view(gateway.services, GTIN, "IDX-LATE")  # on-chain, not indexed yet
    assert view is not None and view.timeline == []
    assert not view.verification.verified and view.verification.reason.startswith("not indexed yet")


def test_escrow_orders_are_indexed_with_status_and_settlement(gateway, shop, deployment, escrow):
    order_id = shop.returned(reason=1)  # defective
    shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    gateway.services.indexer.index_once()
    unit = shop.unit(order_id)
    (serial,) = rows(gateway, "SELECT serial FROM idx_units WHERE unit_id = ?", "0x" + unit.hex())[0]
    view = unit_view(gateway.services, GTIN, serial)
    rs = view.return_status
    assert rs.order_id == order_id and rs.market == "EU" and rs.status == "settled"
    assert rs.currency == "native" and int(rs.price) == escrow.order(order_id)["price"]
    assert rs.reason == "defective" and rs.requested_at > 0
    assert rs.inspection["facts"] == ["seal_intact", "packaging_intact"] and rs.inspection["derivedGrade"] == "A"
    s = rs.settlement
    assert s.grade == "A" and s.statutory and int(s.refund) > 0 and s.disposition == "restock"
    assert [e["name"] for e in rs.events] == ["OrderPlaced", "ReturnRequested", "InspectionSubmitted", "OrderSettled"]
    # The delivery and receiving scans carry the order's references, as the escrow computes them.
    assert order_ref(chain.id, escrow.address, order_id) == bytes(escrow.orderRef(order_id))
    assert rma_ref(bytes(escrow.orderRef(order_id))) == bytes(escrow.rmaRef(order_id))
    assert [e.label for e in view.timeline] == ["Made", "Delivered", "Received at return center"]
    assert view.timeline[1].biz_transaction == "0x" + bytes(escrow.orderRef(order_id)).hex()
    assert view.verification.verified


def test_indexer_takes_2000_events_in_one_round(gateway, builder):
    """2,000 events in 20 transactions of 100, all indexed by one index_once, and verified.
    (Speed is measured by bench/gateway.py, not here.)"""
    items = [builder.commission_item(f"T{i:04d}", GTIN_INT) for i in range(100)]
    builder.commission("brand", items)
    units = [gs1.unit_id(GTIN_INT, i["serial"]) for i in items]
    for _ in range(19):
        builder.record("carrier", [builder.event(u, BizStep.ARRIVING, "carrier") for u in units])
    gateway.services.indexer.index_once()
    assert rows(gateway, "SELECT COUNT(*) FROM idx_events")[0][0] == 2000
    assert unit_view(gateway.services, GTIN, "T0042").verification.verified


def test_unit_view_among_100k_indexed_events_shows_only_its_own(gateway, builder, actors):
    """A real unit with 20 events among 100,000 indexed events (5,000 synthetic units of 20): its
    view holds exactly its 20 events and verifies. (Latency is measured by bench/gateway.py.)"""
    from api.store.index import IndexBatch

    brand, carrier = actors["brand"], actors["carrier"]
    builder.commission("brand", [builder.commission_item("PERF-1", GTIN_INT)])
    unit = gs1.unit_id(GTIN_INT, "PERF-1")
    builder.record("carrier", [builder.event(unit, BizStep.ARRIVING, "carrier") for _ in range(19)])
    state = gateway.services
    state.indexer.index_once()
    cursor = state.index.cursor()

    # 100,000 more events: 5,000 units of 20, written the way the indexer writes (rows are not on-chain).
    for chunk in range(10):
        batch = IndexBatch(to_block=cursor.block, block_hash=cursor.block_hash)
        for n in range(chunk * 500, (chunk + 1) * 500):
            uid = "0x" + gs1.unit_id(GTIN_INT, f"SYN{n:06d}").hex()
            batch.units[uid] = {
                "unit_id": uid,
                "gtin": GTIN,
                "serial": f"SYN{n:06d}",
                "brand": brand.address,
                "event_count": 20,
                "last_record": "0x" + "11" * 32,
                "first_block": 1,
                "last_block": 1,
            }
            for seq in range(1, 21):
                batch.events.append(
                    (
                        uid,
                        seq,
                        "commission" if seq == 1 else "event",
                        carrier.address,
                        2,
                        6,
                        3,
                        carrier.gln,
                        1_700_000_000 + seq,
                        None,
                        None,
                        1 + n // 50,
                        "0x" + f"{n:032x}{seq:032x}",
                        seq,
                        "0x" + "22" * 32,
                        "0x" + "33" * 32,
                        None,
                        None,
                        None,
                    )
                )
        state.index.write(batch)
    assert rows(gateway, "SELECT COUNT(*) FROM idx_events")[0][0] >= 100_000 + 20

    view = unit_view(state, GTIN, "PERF-1")
    assert view.verification.verified and len(view.timeline) == 20
    assert {e.signer for e in view.timeline[1:]} == {carrier.address}
    r = gateway.client.get(f"/01/{GTIN}/21/PERF-1", headers={"accept": "application/json"})
    assert r.status_code == 200 and r.json()["verification"]["verified"]
    assert len(r.json()["timeline"]) == 20


def test_background_indexer_follows_the_chain_and_readyz_reports_no_lag(gateway_settings, deployment, actors):

    settings = gateway_settings.replace(index=True, index_interval=0.05)
    with TestClient(create_app(settings)) as client:
        gw = Gateway(client, deployment, actors)
        gw.commission("IDX-BG")
        gw.relay()
        deadline = time.monotonic() + 10
        while client.app.state.services.indexer.indexed_block() != chain.height and time.monotonic() < deadline:
            time.sleep(0.05)
        ready = client.get("/readyz").json()
        assert ready["indexer"] == {"indexedBlock": chain.height, "lagBlocks": 0}
        assert unit_view(client.app.state.services, GTIN, "IDX-BG").verification.verified
    assert not client.app.state.services.indexer._thread.is_alive()  # stopped with the app


def test_a_replaced_chain_is_indexed_again_from_the_deployment_block(gateway, registry, commission, record):
    """The blocks at the cursor are undone and replaced (a reorganisation, or a node restarted on
    a fresh chain): the index notices the changed block hash and rebuilds itself."""
    unit = commission("IDX-REORG")
    record(unit, BizStep.SHIPPING, "brand", Disposition.IN_TRANSIT)
    indexer = gateway.services.indexer
    indexer.index_once()
    assert unit_view(gateway.services, GTIN, "IDX-REORG").verification.onchain_count == 2

    chain.undo()  # the shipping scan's block is gone …
    record(unit, BizStep.STORING, "warehouse", Disposition.SELLABLE_ACCESSIBLE)  # … and another took its place
    indexer.index_once()
    view = unit_view(gateway.services, GTIN, "IDX-REORG")
    assert [e.step for e in view.timeline] == ["commissioning", "storing"]
    assert view.verification.verified
    assert rows(gateway, "SELECT COUNT(*) FROM idx_events WHERE biz_step = ?", int(BizStep.SHIPPING))[0][0] == 0
