"""Fixtures for parcels (SSCCs, aggregations signed and submitted like the other batches) and for the
brand's decommissioning of its stock (units a settled order sent to a partner: `destined`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from returntrace import gs1
from returntrace.vocab import AggregationAction
from scripts.builder import BATCH_FIELDS, chain_nonce


def sscc(n: int) -> int:
    """The n-th test SSCC: extension digit 3, the brand's company prefix 9506000, serial reference n."""
    return int(gs1.with_check_digit(f"39506000{n:09d}"))


@pytest.fixture
def aggregation(builder) -> Callable[..., dict]:
    """An unsigned aggregation: aggregation(sscc, children, action=ADD, actor="carrier", step=None,
    disposition=IN_PROGRESS, **fields)."""
    return builder.aggregation


@pytest.fixture
def sign_aggregations(builder) -> Callable[..., tuple[dict, bytes]]:
    """Signs aggregations as one AggregationBatch: sign_aggregations(actor_name, items, **batch_fields)."""

    def _sign(actor: str, items: list[dict], **batch_fields) -> tuple[dict, bytes]:
        signed = builder.batch("AggregationBatch", actor, items, **batch_fields)
        return signed.message, signed.signature

    return _sign


@pytest.fixture
def aggregate(builder, registry_domain, actors):
    """Packs or unpacks: one aggregation signed by `actor` in a batch of one; returns the transaction."""

    def _aggregate(parcel: int, children: list[bytes], action=AggregationAction.ADD, actor: str = "carrier", **fields):
        batch_fields = {k: fields.pop(k) for k in BATCH_FIELDS if k in fields}
        # Submitted at once: the signer's on-chain nonce, whatever failed before.
        batch_fields.setdefault("nonce", chain_nonce(registry_domain, actors[actor].address))
        return builder.aggregate(
            actor, [builder.aggregation(parcel, children, action, actor, **fields)], **batch_fields
        )

    return _aggregate


@pytest.fixture
def decommission_item(builder) -> Callable[..., dict]:
    """An unsigned decommissioning of one unit of GTIN: decommission_item(serial, gtin=GTIN, disposition=INACTIVE,
    actor="brand", **fields)."""
    return builder.decommission_item


@pytest.fixture
def sign_decommission(builder) -> Callable[..., tuple[dict, bytes]]:
    """Signs decommissionings as one DecommissionBatch: sign_decommission(actor_name, items, **batch_fields)."""

    def _sign(actor: str, items: list[dict], **batch_fields) -> tuple[dict, bytes]:
        signed = builder.batch("DecommissionBatch", actor, items, **batch_fields)
        return signed.message, signed.signature

    return _sign


@pytest.fixture
def decommission(builder, registry_domain, actors):
    """The brand's own closing of its stock (TraceRegistry.decommission): one unit of GTIN signed by
    `actor` in a batch of one; returns the transaction. `nonce` and `deadline` go to the batch,
    other keywords to the item."""

    def _decommission(serial: str, actor: str = "brand", **fields):
        batch_fields = {k: fields.pop(k) for k in BATCH_FIELDS if k in fields}
        # Submitted at once: the signer's on-chain nonce, whatever was refused before.
        batch_fields.setdefault("nonce", chain_nonce(registry_domain, actors[actor].address))
        return builder.decommission(actor, [builder.decommission_item(serial, actor=actor, **fields)], **batch_fields)

    return _decommission
