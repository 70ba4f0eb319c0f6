"""Gateway throughput and latency: many signers post signed scanning sessions concurrently to a
running gateway (its own process, relayer and indexer on) against anvil; then the consumer page's
latency for a unit with 20 events while the index holds ≥ 100,000 events.

    make bench-gateway        # or: brownie run $PWD/bench/gateway.py

Environment: RT_BENCH_EVENTS (default 100000), RT_BENCH_SIGNERS (20), RT_BENCH_SESSION (100 events
per signed message), RT_BENCH_CLIENTS (16 concurrent posters), RT_BENCH_PAGE_REQUESTS (500).
"""

from __future__ import annotations

import os
import shutil
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from brownie import accounts, chain, web3

from returntrace.vocab import BizStep, Role
from scripts import deploy
from scripts.builder import Builder
from scripts.gateway import GatewayProcess, wait_until
from tools import brownie_anvil

EVENTS = int(os.environ.get("RT_BENCH_EVENTS", "100000"))
SIGNERS = int(os.environ.get("RT_BENCH_SIGNERS", "20"))
SESSION = int(os.environ.get("RT_BENCH_SESSION", "100"))
CLIENTS = int(os.environ.get("RT_BENCH_CLIENTS", "16"))
PAGE_REQUESTS = int(os.environ.get("RT_BENCH_PAGE_REQUESTS", "500"))
UNITS = max(SESSION, EVENTS // 20)  # about 20 events per unit, like a unit with a full history


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _commission_units(d: deploy.Deployment) -> list[bytes]:
    b = Builder(d, accounts[1], silent=True)
    units: list[bytes] = []
    for start in range(0, UNITS, 200):
        items = [b.commission_item(f"B{i:07d}") for i in range(start, min(UNITS, start + 200))]
        b.commission("brand", items)
        units += [b.unit_of(c) for c in items]
    return units


def _sessions(d: deploy.Deployment, units: list[bytes]) -> list[list[dict]]:
    """Per signer, its signed messages in nonce order (EVENTS events in all)."""
    b = Builder(d)
    per_signer: list[list[dict]] = [[] for _ in d.extra_signers]
    made = 0
    cursor = 0
    i = 0
    while made < EVENTS:
        s_index = i % len(d.extra_signers)
        s = d.extra_signers[s_index]
        step = BizStep.ARRIVING if s.roles & Role.CARRIER else BizStep.STORING
        n = min(SESSION, EVENTS - made)
        events = []
        for _ in range(n):
            events.append(b.event(units[cursor % len(units)], step, s))
            cursor += 1
        signed = b.batch("EventBatch", s, events, nonce=len(per_signer[s_index]), deadline=chain.time() + 7200)
        per_signer[s_index].append(signed.body)
        made += n
        i += 1
    return per_signer


def main() -> None:
    brownie_anvil.patch()  # brownie on anvil: no false "Tx dropped without known replacement"
    d = deploy.deploy_demo_world(accounts[0], extra_signers=SIGNERS)
    print(f"commissioning {UNITS:,} units …")
    units = _commission_units(d)
    print(f"signing {EVENTS:,} events in sessions of {SESSION} by {SIGNERS} signers …")
    per_signer = _sessions(d, units)

    relayer = deploy.test_signer("gateway-relayer", 0, "950600000010")
    accounts[0].transfer(relayer.account, "1000 ether", silent=True)
    manifest = deploy.write_manifest(d)
    folder = deploy.ROOT / "data" / "bench"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {
        "RT_RPC_URL": web3.provider.endpoint_uri,
        "RT_MANIFEST": str(manifest),
        "RT_DATABASE": str(folder / "gateway.sqlite3"),
        "RT_EVIDENCE_DIR": str(folder / "evidence"),
        "RT_RELAYER_KEY": "0x" + relayer.key.hex(),
        "RT_BATCH_MAX_EVENTS": "1000",
    }
    gateway = GatewayProcess(env, folder / "gateway.log").start()
    try:
        http = httpx.Client(base_url=gateway.url, timeout=60, limits=httpx.Limits(max_connections=CLIENTS * 2))
        accept_latency: list[float] = []
        ids: list[str] = []
        lock = threading.Lock()

        def post_all(messages: list[dict]) -> None:
            for body in messages:  # one signer's messages in nonce order
                t = time.perf_counter()
                r = http.post("/v1/events", json=body)
                elapsed = time.perf_counter() - t
                if r.status_code != 202:
                    raise RuntimeError(f"{r.status_code}: {r.text}")
                with lock:
                    accept_latency.append(elapsed)
                    ids.append(r.json()["id"])

        print(f"posting with {CLIENTS} concurrent clients …")
        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(post_all, per_signer))
        accepted_at = time.perf_counter()

        def all_confirmed() -> bool:
            depth = http.get("/readyz").json()["outbox"]
            if depth["failed"]:
                raise RuntimeError(f"{depth['failed']} messages failed")
            return depth["accepted"] == 0 and depth["submitted"] == 0

        wait_until(all_confirmed, 1800, "every message confirmed", interval=0.2)
        confirmed_at = time.perf_counter()
        states = [http.get(f"/v1/messages/{i}").json() for i in ids]
        confirm_latency = [s["updatedAt"] - s["acceptedAt"] for s in states]
        blocks = {s["block"] for s in states}

        print(
            f"\nGateway intake and relaying — {EVENTS:,} events, {len(ids):,} signed messages of ≤ {SESSION} "
            f"events, {SIGNERS} signers, {CLIENTS} clients\n"
        )
        print("| figure | value |\n|---|---|")
        print(f"| accepted | {EVENTS / (accepted_at - start):,.0f} events/s |")
        print(
            f"| confirmed on-chain (first post → last confirmation) | {EVENTS / (confirmed_at - start):,.0f} events/s |"
        )
        print(
            f"| POST latency p50 / p95 / p99 | {_pct(accept_latency, 50) * 1000:.0f} / "
            f"{_pct(accept_latency, 95) * 1000:.0f} / {_pct(accept_latency, 99) * 1000:.0f} ms |"
        )
        print(
            f"| accepted → confirmed p50 / p95 / p99 | {_pct(confirm_latency, 50):.2f} / "
            f"{_pct(confirm_latency, 95):.2f} / {_pct(confirm_latency, 99):.2f} s |"
        )
        print(f"| transactions | {len(blocks)} blocks |")

        wait_until(
            lambda: http.get("/readyz").json().get("indexer", {}).get("lagBlocks") == 0,
            600,
            "the indexer to catch up",
            interval=0.5,
        )
        unit_serial = "B0000000"
        link = f"/01/{deploy.DEMO_GTIN:014d}/21/{unit_serial}"
        view = http.get(link, headers={"accept": "application/json"}).json()
        page_latency = []
        for _ in range(PAGE_REQUESTS):
            t = time.perf_counter()
            r = http.get(link, headers={"accept": "text/html"})
            page_latency.append(time.perf_counter() - t)
            assert r.status_code == 200
        print(
            f"\nConsumer page — unit with {len(view['timeline'])} events, "
            f"verified={view['verification']['verified']}, index holding {EVENTS + UNITS:,} events; "
            f"{PAGE_REQUESTS} sequential requests\n"
        )
        print("| figure | value |\n|---|---|")
        print(
            f"| page latency p50 / p95 / p99 | {_pct(page_latency, 50) * 1000:.1f} / "
            f"{_pct(page_latency, 95) * 1000:.1f} / {_pct(page_latency, 99) * 1000:.1f} ms |"
        )
        print(f"| mean | {statistics.mean(page_latency) * 1000:.1f} ms |")
    finally:
        gateway.stop()
