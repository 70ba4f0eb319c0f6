"""Fixtures for parcels: SSCCs, and aggregations signed and submitted like the other batches."""

from __future__ import annotations

from typing import Callable

import pytest

from returntrace import eip712, gs1
from returntrace.vocab import AggregationAction, BizStep, Disposition

from scripts import deploy


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
