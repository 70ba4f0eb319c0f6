"""Fixtures for parcels (SSCCs, aggregations signed and submitted like the other batches) and for the
brand's decommissioning of its stock (units a settled order sent to a partner: `destined`, tests/conftest.py)."""

from __future__ import annotations

from typing import Callable

import pytest
from brownie import chain

from returntrace import eip712, gs1
from returntrace.vocab import AggregationAction, BizStep, Disposition

from scripts import deploy
from tests.support import GTIN_INT, ZERO32


def sscc(n: int) -> int:
    """The n-th test SSCC: extension digit 3, the brand's company prefix 9506000, serial reference n."""
    return int(gs1.with_check_digit(f"39506000{n:09d}"))


@pytest.fixture
def aggregation(actors) -> Callable[..., dict]:
    """An unsigned aggregation: aggregation(sscc, children, action=ADD, actor="carrier", step=None, disposition=IN_PROGRESS, **fields)."""

    def _aggregation(parcel: int, children: list[bytes], action=AggregationAction.ADD, actor: str = "carrier", step: BizStep | None = None, disposition=Disposition.IN_PROGRESS, **fields) -> dict:
        item = deploy.aggregation_item(actors[actor], parcel, children, action, step, disposition)
        item.update(fields)
        return item

    return _aggregation


@pytest.fixture
def sign_aggregations(registry_domain, sign, actors) -> Callable[..., tuple[dict, bytes]]:
    """Signs aggregations as one AggregationBatch: sign_aggregations(actor_name, items, **batch_fields)."""

    def _sign(actor: str, items: list[dict], **batch_fields) -> tuple[dict, bytes]:
        return sign(registry_domain, "AggregationBatch", actors[actor], aggregations=items, **batch_fields)

    return _sign


@pytest.fixture
def aggregate(registry, aggregation, sign_aggregations, relayer, actors):
    """Packs or unpacks: one aggregation signed by `actor` in a batch of one; returns the transaction."""

    def _aggregate(parcel: int, children: list[bytes], action=AggregationAction.ADD, actor: str = "carrier", **fields):
        batch_fields = {k: fields.pop(k) for k in ("nonce", "deadline") if k in fields}
        # Submitted at once: the signer's on-chain nonce, whatever failed before.
        batch_fields.setdefault("nonce", registry.getNonce(actors[actor].address))
        item = aggregation(parcel, children, action, actor, **fields)
        message, sig = sign_aggregations(actor, [item], **batch_fields)
        return registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})

    return _aggregate


@pytest.fixture
def decommission_item(actors) -> Callable[..., dict]:
    """An unsigned decommissioning of one unit of GTIN: decommission_item(serial, gtin=GTIN, disposition=INACTIVE, actor="brand", **fields)."""

    def _item(serial: str, gtin: int = GTIN_INT, disposition: int = Disposition.INACTIVE, actor: str = "brand", **fields) -> dict:
        fields.setdefault("location", actors[actor].gln)
        fields.setdefault("eventTime", chain.time())
        fields.setdefault("evidence", ZERO32)
        return {"gtin": int(gtin), "serial": serial, "disposition": int(disposition), **fields}

    return _item


@pytest.fixture
def sign_decommission(registry_domain, sign, actors) -> Callable[..., tuple[dict, bytes]]:
    """Signs decommissionings as one DecommissionBatch: sign_decommission(actor_name, items, **batch_fields)."""

    def _sign(actor: str, items: list[dict], **batch_fields) -> tuple[dict, bytes]:
        return sign(registry_domain, "DecommissionBatch", actors[actor], units=items, **batch_fields)

    return _sign


@pytest.fixture
def decommission(registry, decommission_item, sign_decommission, relayer, actors):
    """The brand's own closing of its stock (TraceRegistry.decommission): one unit of GTIN signed by
    `actor` in a batch of one; returns the transaction. `nonce` and `deadline` go to the batch,
    other keywords to the item."""

    def _decommission(serial: str, actor: str = "brand", **fields):
        batch_fields = {k: fields.pop(k) for k in ("nonce", "deadline") if k in fields}
        # Submitted at once: the signer's on-chain nonce, whatever was refused before.
        batch_fields.setdefault("nonce", registry.getNonce(actors[actor].address))
        message, sig = sign_decommission(actor, [decommission_item(serial, actor=actor, **fields)], **batch_fields)
        return registry.decommission([eip712.call_args("DecommissionBatch", message, sig)], {"from": relayer})

    return _decommission
