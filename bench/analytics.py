"""The analytics dashboard's p95 latency on a 100,000-event index, against a plain page in the same run.

    make bench-analytics      # or: brownie run $PWD/bench/analytics.py; writes docs/benchmarks/analytics.md

1. The contracts are deployed on anvil (the gateway needs a deployment to start and to prove its
   index). A fresh index file is written straight, through the index's own write path
   (SqliteIndex.write), with synthetic rows (`synthetic_index`): products of 5 brands, units with
   their lifecycle events, orders with their escrow events (placed; a quarter returned, graded and
   settled), StorePoints redemptions: RT_BENCH_ANALYTICS_EVENTS (100,000) events in all. Its cursor is the
   chain's head, so the gateway keeps it (the proof against the chain then reports the escrow's
   order count, 0, against the synthetic orders: it is made, and costs, as for a real index).
2. The gateway app runs in this process (TestClient: no network between client and app); the
   brand of the most orders signs in with Sign-In with Ethereum.
3. RT_BENCH_ANALYTICS_REQUESTS (200) requests of `/desk/analytics` (the dashboard, every figure of the brand's
   ~4,000 orders) alternate with as many of `/readyz` (reads the index cursor and the chain head:
   the plain page); p50 and p95 of each, and the ratio of the p95s, the figure to compare across machines.

`synthetic_index` is also what tests/unit/test_analytics_reader.py writes (small) to check the reader.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_account import Account

from api.store.index import IndexBatch, SqliteIndex
from returntrace import siwe
from returntrace.analytics import OrderRow, Redemption
from returntrace.escrow import OrderStatus, SettlementPath

DAY = 86_400
START = 1_767_225_600  # 2026-01-01
BRANDS = [Account.from_key(bytes([i + 1]) * 32) for i in range(5)]  # synthetic brands (public test keys)
MERCHANTS = ["0x" + f"{i + 1:040x}" for i in range(3)]
NATIVE = "0x" + "0" * 40


def _hex(i: int) -> str:
    return "0x" + f"{i:064x}"


def synthetic_index(
    path: Path, cursor: tuple[int, str, str, int, int, str | None], events: int, seed: int = 1
) -> tuple[list[OrderRow], list[Redemption]]:
    """Writes an index of about `events` events (lifecycle and escrow) to `path`, bound to the
    deployment `cursor` (chain id, registry, escrow, first block, indexed block, its hash); returns
    the orders and the redemptions written, as the analytics read them."""
    rng = random.Random(seed)
    index = SqliteIndex(path)
    chain_id, registry, escrow, first_block, block, block_hash = cursor
    index.bind(chain_id, registry, escrow, first_block)
    gtins = [f"{9506000200000 + i:014d}" for i in range(50)]
    brand_of = {g: BRANDS[i % len(BRANDS)].address for i, g in enumerate(gtins)}
    batch = IndexBatch(to_block=block, block_hash=block_hash)
    batch.products = [
        {"gtin": g, "brand": brand_of[g], "class_flags": 0, "markets": 7, "block": 1, "log_index": i}
        for i, g in enumerate(gtins)
    ]
    written, truth, spent, order_id, log = 0, [], [], 0, 0
    while written < events:
        order_id += 1
        gtin = rng.choice(gtins[: 20 if rng.random() < 0.8 else 50])  # the first brands sell most
        unit = _hex(order_id)
        placed = START + rng.randrange(180 * DAY)
        price = rng.randrange(10**6, 10**8)
        fee = rng.randrange(10**5, 10**6)
        n_events = 3
        batch.units[unit] = {
            "unit_id": unit, "gtin": gtin, "serial": f"S{order_id}", "brand": brand_of[gtin],
            "event_count": n_events, "last_record": _hex(0), "first_block": 1, "last_block": 1,
        }  # fmt: skip
        for seq in range(1, n_events + 1):
            log += 1
            batch.events.append(
                (unit, seq, "event", brand_of[gtin], 1, seq, 0, 1, placed, None, None, 1, _hex(log), log,
                 _hex(log), _hex(log), None, None, None)
            )  # fmt: skip
        row: dict[str, Any] = {
            "order_id": order_id, "unit_id": unit, "buyer": MERCHANTS[0], "merchant": rng.choice(MERCHANTS),
            "market": rng.randrange(3), "policy_version": 1, "currency": NATIVE, "price": str(price),
            "delivery_fee": "0", "return_shipping_fee": str(fee), "hygiene_sealed": 0, "exception_confirmed": 0,
            "order_ref": _hex(order_id), "rma_ref": _hex(order_id + 10**9), "status": OrderStatus.ACTIVE.key,
            "placed_at": placed, "placed_block": 1, "placed_tx": _hex(order_id), "updated_block": 1,
        }  # fmt: skip
        log += 1
        batch.escrow_events.append(("OrderPlaced", order_id, unit, "{}", 1, placed, _hex(log), log))
        written += n_events + 1
        settled = claimed = replaced = None
        if rng.random() < 0.25:
            requested = placed + rng.randrange(14 * DAY)
            settled = requested + rng.randrange(1, 20 * DAY)
            grade, remedy = rng.randrange(1, 4), rng.randrange(2)
            voucher = price if remedy else 0
            row.update(
                status=OrderStatus.SETTLED.key, reason=rng.randrange(7), remedy=remedy, requested_at=requested,
                grade=grade, settlement_path=int(rng.choice(list(SettlementPath))), refund=str(0 if remedy else price),
                points=str(voucher + price // 20 * remedy), voucher=str(voucher), bonus=str(price // 20 * remedy),
                shipping_deducted=str(fee // 2), settled_disposition=grade - 1, merchant_amount="0",
            )  # fmt: skip
            for name, when in (("ReturnRequested", requested), ("OrderSettled", settled)):
                log += 1
                batch.escrow_events.append((name, order_id, unit, "{}", 1, when, _hex(log), log))
            written += 2
        elif order_id % 40 == 0:  # a defective unit replaced at the reissue desk (the indexer records it as Defective)
            claimed = placed + rng.randrange(1, 30 * DAY)
            replaced = claimed + rng.randrange(1, 10 * DAY)
            row.update(status=OrderStatus.REISSUED.key, reason=1)
            for name, when in (("DefectClaimed", claimed), ("ReissueCompleted", replaced)):
                log += 1
                batch.escrow_events.append((name, order_id, unit, "{}", 1, when, _hex(log), log))
            written += 2
        batch.orders[order_id] = row
        truth.append(
            OrderRow(
                order_id=order_id, gtin=gtin, brand=brand_of[gtin], merchant=row["merchant"], market=row["market"],
                currency=NATIVE, price=price, placed_at=placed, buyer=row["buyer"], return_shipping_fee=fee,
                reason=row.get("reason"), remedy=row.get("remedy"),
                requested_at=claimed if row["status"] == OrderStatus.REISSUED.key else row.get("requested_at"),
                grade=row.get("grade"), disposition=row.get("settled_disposition"),
                settlement_path=row.get("settlement_path"), settled_at=settled, refund=int(row.get("refund", 0)),
                reissued_at=replaced if row["status"] == OrderStatus.REISSUED.key else None,
                points=int(row.get("points", 0)), voucher=int(row.get("voucher", 0)), bonus=int(row.get("bonus", 0)),
                shipping_deducted=int(row.get("shipping_deducted", 0)),
            )
        )  # fmt: skip
        if order_id % 50 == 0:  # a merchant redeems some points now and then
            log += 1
            args = f'{{"merchant": "{row["merchant"]}", "currency": "{NATIVE}", "amount": 1000}}'
            batch.escrow_events.append(("PointsRedeemed", None, None, args, 1, placed, _hex(log), log))
            spent.append(Redemption(row["merchant"], NATIVE, 1000, placed))
            written += 1
    index.write(batch)
    index.close()
    return truth, spent


def _percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-p * len(ordered) // 100) - 1)]


def main() -> None:
    from brownie import accounts, web3
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings
    from bench.page import DOCS, Page
    from scripts import deploy

    events = int(os.environ.get("RT_BENCH_ANALYTICS_EVENTS", "100000"))
    requests = int(os.environ.get("RT_BENCH_ANALYTICS_REQUESTS", "200"))
    d = deploy.deploy_contracts(accounts[0])
    folder = Path(tempfile.mkdtemp(prefix="rt-bench-analytics-"))
    manifest = deploy.write_manifest(d, folder / "manifest.json")
    settings = Settings(rpc_url=web3.provider.endpoint_uri, manifest=manifest, database=folder / "gateway.sqlite3",
                        evidence_dir=folder / "evidence", relay=False, index=False)  # fmt: skip
    head = web3.eth.get_block("latest")
    cursor = (web3.eth.chain_id, d.registry.address, d.escrow.address, d.block, head["number"],
              "0x" + bytes(head["hash"]).hex())  # fmt: skip
    began = time.perf_counter()
    truth, _ = synthetic_index(settings.index_database, cursor, events)
    wrote = time.perf_counter() - began
    brand = BRANDS[0]
    mine = sum(1 for o in truth if o.brand == brand.address)
    page = Page()
    with TestClient(create_app(settings)) as client:
        token = siwe.sign_in(client, brand.address, brand.key).json()["token"]
        auth = {**siwe.bearer(token), "accept": "text/html"}
        assert client.get("/desk/analytics", headers=auth).status_code == 200  # warm: templates, catalogues
        timings: dict[str, list[float]] = {"/desk/analytics": [], "/readyz": []}
        for _ in range(requests):
            for path in timings:
                t = time.perf_counter()
                r = client.get(path, headers=auth)
                timings[path].append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
    p95 = {path: _percentile(v, 95) * 1000 for path, v in timings.items()}
    page.out(f"Index: {events:,} events written in {wrote:.1f} s ({len(truth):,} orders; the signed-in brand's: "
             f"{mine:,}), {requests} requests of each page, alternating.")  # fmt: skip
    page.out()
    page.grid(
        ["page", "p50 (ms)", "p95 (ms)"],
        [[f"`{path}`", f"{statistics.median(v) * 1000:.1f}", f"{p95[path]:.1f}"] for path, v in timings.items()],
    )
    page.out()
    page.out(f"**Dashboard p95 / plain page p95: {p95['/desk/analytics'] / p95['/readyz']:.1f}×**")
    head_lines = [
        "# Benchmark: the analytics dashboard",
        "",
        "`make bench-analytics` (bench/analytics.py says what it does). The dashboard (`/desk/analytics`,",
        "signed in as a brand) against `/readyz` (the index cursor and the chain head) in the same run;",
        "in-process requests (no network). The ratio is the figure to compare across machines.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}.",
        "",
    ]
    page.write(DOCS / "analytics.md", head_lines)
