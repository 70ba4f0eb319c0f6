"""Gas figures: lifecycle events in batches of 1, 10 and 100, on new units (commissioning) and on
existing units, and the escrow's purchase, return request, inspection + settlement and withdraw.

    make bench          # starts anvil, deploys fresh contracts, prints the tables

Per-event figures divide the whole transaction's gas (21,000 base and calldata included) by the
number of events in it.
"""

from __future__ import annotations

from brownie import accounts, chain

from returntrace import eip712
from returntrace.vocab import BizStep, Disposition, Role
from scripts import deploy

BATCHES = (1, 10, 100)
TYPICAL_SUPPLY_CHAIN_UPDATE = 124_000  # a string-storing open-source supply-chain contract (DESIGN.md)


def _row(label: str, gas: int, n: int) -> str:
    return f"| {label:<52} | {n:>5} | {gas:>11,} | {gas // n:>9,} |"


def _header(title: str) -> None:
    print(f"\n{title}\n")
    print(f"| {'what':<52} | {'batch':>5} | {'tx gas':>11} | {'per event':>9} |")
    print(f"|{'-' * 54}|{'-' * 7}|{'-' * 13}|{'-' * 11}|")


def registry_figures(d: deploy.Deployment) -> dict[str, int]:
    relayer = accounts[1]
    reg, dom = d.registry, d.registry_domain
    brand, carrier = d.actors["brand"], d.actors["carrier"]
    results: dict[str, int] = {}
    serial = 0
    _header("TraceRegistry — gas per lifecycle event")
    for n in BATCHES:
        items = [deploy.commission_item(d, f"BENCH{serial + i:06d}") for i in range(n)]
        serial += n
        units = [deploy.unit_of(c) for c in items]
        tx = reg.commission([deploy.signed_batch(dom, "CommissionBatch", brand, "units", items, reg.getNonce(brand.address))], {"from": relayer})
        results[f"new_{n}"] = tx.gas_used // n
        print(_row("new units: brand commissions, one signature", tx.gas_used, n))

        events = [deploy.event_item(carrier, u, BizStep.DEPARTING, Disposition.IN_TRANSIT) for u in units]
        tx = reg.record([deploy.signed_batch(dom, "EventBatch", carrier, "events", events, reg.getNonce(carrier.address))], {"from": relayer})
        results[f"existing_session_{n}"] = tx.gas_used // n
        print(_row("existing units: one signed scanning session", tx.gas_used, n))

        # Every event signed on its own (many scanners posting single scans to the gateway).
        batches = []
        for i, unit in enumerate(units):
            s = d.extra_signers[i % len(d.extra_signers)]
            step = BizStep.ARRIVING if s.roles & Role.CARRIER else BizStep.STORING
            event = deploy.event_item(s, unit, step, Disposition.IN_PROGRESS)
            batches.append(deploy.signed_batch(dom, "EventBatch", s, "events", [event], reg.getNonce(s.address) + i // len(d.extra_signers)))
        tx = reg.record(batches, {"from": relayer})
        results[f"existing_single_{n}"] = tx.gas_used // n
        print(_row(f"existing units: each event signed alone ({min(n, len(d.extra_signers))} signers)", tx.gas_used, n))
    print(f"\nFor scale: a typical string-storing supply-chain contract spends ~{TYPICAL_SUPPLY_CHAIN_UPDATE:,} gas per update.")
    return results


def main() -> None:
    d = deploy.deploy_demo_world(accounts[0], extra_signers=10)
    registry_figures(d)
    if hasattr(deploy, "escrow_figures"):
        deploy.escrow_figures(d)
