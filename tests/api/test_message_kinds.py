"""Every message kind in the registry (api/write/kinds.py, returntrace/kinds.py) is served at its
path, signed by the builder under its contract's domain, relayed to its contract function and
indexed from its contract's logs; and its EIP-712 type is the type its contract hashes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account

from api.write.kinds import KINDS
from returntrace import eip712, gs1, kinds
from returntrace.escrow import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from tests.api.indexing import rows
from tests.support import MARKET_EU

SSCC = int(gs1.with_check_digit("09506000000054321"))
EVIDENCE = "0x" + "ab" * 32


def _commissioned(gateway, serial: str) -> bytes:
    (unit,) = gateway.commission(serial)
    gateway.relay()
    return unit


def _delivered(shop) -> int:
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    return order_id


# One valid message of each kind, built on the chain's current state: (gateway, shop) -> body.
SAMPLES: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "EventBatch": lambda g, shop: g.events_body(
        "brand",
        [g.event(_commissioned(g, "KIND-E"), BizStep.SHIPPING, "brand", Disposition.IN_TRANSIT)],
    ),
    "CommissionBatch": lambda g, shop: g.commission_body(["KIND-C"]),
    "AggregationBatch": lambda g, shop: g.body(
        "AggregationBatch",
        "carrier",
        aggregations=[g.builder.aggregation(SSCC, [_commissioned(g, "KIND-A")])],
    ),
    "DecommissionBatch": lambda g, shop: (
        _commissioned(g, "KIND-D"),
        g.decommission_body(["KIND-D"]),
    )[1],
    "Inspection": lambda g, shop: g.inspection_body(
        shop.returned(), Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A
    ),
    "ReturnRequest": lambda g, shop: g.body("ReturnRequest", "buyer", orderId=_delivered(shop), reason=0, remedy=0),
    "DefectClaim": lambda g, shop: g.body("DefectClaim", "buyer", orderId=_delivered(shop), evidence=EVIDENCE),
}


def test_every_kind_has_a_sample_here():
    assert set(SAMPLES) == set(KINDS), "a new kind needs a sample message above"


def test_the_gateway_relays_every_signed_kind_but_the_holders_redemption():
    assert set(kinds.KINDS) - set(KINDS) == {"Redemption"}


def test_every_kind_is_served_at_its_path_with_its_body(gateway):
    openapi = gateway.app.openapi()
    published = gateway.client.get("/v1/eip712").json()["messages"]
    for name, entry in KINDS.items():
        post = openapi["paths"][entry.path]["post"]
        assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/" + entry.body.__name__)
        assert post["summary"] == entry.summary
        assert published[name]["post"] == entry.path


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_is_signed_relayed_and_indexed(name, gateway, shop, deployment):
    entry = KINDS[name]
    contract = getattr(deployment, entry.contract)
    # Signed: the builder's domain for the kind is its contract's, the one the gateway checks under.
    domain = gateway.builder.domain(name)
    assert domain == gateway.services.chain.domain_for(name) and domain.verifying_contract == contract.address
    body = SAMPLES[name](gateway, shop)
    r = gateway.post(entry.path, body)
    assert r.status_code == 202, r.text
    message = gateway.services.outbox.get(r.json()["id"])
    assert message.kind == name and message.item_count == len(entry.kind.items_of(body))
    assert (
        Account._recover_hash(domain.digest(name, message.body), signature=bytes.fromhex(body["signature"][2:]))
        == message.signer
    )

    # Relayed: to the entry's function of its contract.
    gateway.relay()
    confirmed = gateway.client.get(f"/v1/messages/{message.id}").json()
    assert confirmed["status"] == "confirmed", confirmed
    tx = gateway.services.chain.w3.eth.get_transaction(confirmed["txHash"])
    assert tx["to"] == contract.address
    assert contract.decode_input(tx["input"])[0].startswith(entry.call + "(")

    # Indexed: the contract's logs of that transaction are in the index.
    gateway.services.indexer.index_once()
    found = rows(gateway, "SELECT count(*) FROM idx_events WHERE tx_hash = ?", confirmed["txHash"])[0][0]
    found += rows(gateway, "SELECT count(*) FROM idx_escrow_events WHERE tx_hash = ?", confirmed["txHash"])[0][0]
    assert found >= 1, f"no log of {name}'s transaction was folded into the index"


@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_every_kinds_type_hash_is_its_contracts(name, deployment):
    """The contract's type-hash getters (get...TypeHash, get...TypeHashes: item and batch) hash the
    registry's type strings: a field renamed, retyped or moved on one side fails here."""
    kind = kinds.KINDS[name]
    contract = getattr(deployment, kind.contract)
    getters = [
        f["name"]
        for f in contract.abi
        if f.get("type") == "function" and f["name"].startswith("get") and "TypeHash" in f["name"]
    ]
    hashes: set[bytes] = set()
    for getter in getters:
        value = getattr(contract, getter)()
        hashes |= {bytes(v) for v in value} if isinstance(value, tuple) else {bytes(value)}
    assert eip712.type_hash(name) in hashes, f"{kind.contract} hashes no type equal to {eip712.type_string(name)}"
    if kind.item is not None:
        assert eip712.type_hash(kind.item[0]) in hashes
