"""The signed message kinds, one entry each: what the library and the test builder need without the
gateway — the kind's EIP-712 type (and its items' struct, for a batch), the field naming its signer,
and the contract that verifies it, which gives the domain it is signed under and the nonces it
spends.

returntrace.eip712 builds its TYPES and SIGNER_FIELD from these entries; the gateway's part of each
kind it relays (path, request body, contract call, batching, gas, follow-ups, checks) is
api/write/kinds.py, one entry per kind named here. Adding a kind: docs/contributors.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Field = tuple[str, str]  # (EIP-712 type, name), in signing order

# The deployment's contracts that verify signed messages: the short name that kinds, the outbox
# and the test deployment use (each its own domain and nonce space), and the manifest's name.
CONTRACT_NAMES = {
    "registry": "TraceRegistry",
    "escrow": "ReturnEscrow",
    "desk": "ReissueDesk",
    "points": "StorePoints",
}

# Signed messages name their signer, nonce and deadline.
_TAIL: tuple[Field, ...] = (("uint256", "nonce"), ("uint64", "deadline"))
# What every signed scan (a unit's event, a parcel's packing) states besides its object: step,
# disposition, where, when, evidence, business transaction (api/write/schemas.py, _Observation).
_OBSERVATION: tuple[Field, ...] = (
    ("uint8", "bizStep"),
    ("uint8", "disposition"),
    ("uint64", "location"),
    ("uint40", "eventTime"),
    ("bytes32", "evidence"),
    ("bytes32", "bizTransaction"),
)


@dataclass(frozen=True)
class Kind:
    """A signed message the contracts accept."""

    name: str  # the EIP-712 primary type
    contract: str  # a key of CONTRACT_NAMES: verifies it, so its domain and nonce space
    signer: str  # the field naming the signer
    fields: tuple[Field, ...]
    item: tuple[str, tuple[Field, ...]] | None = None  # a batch's item struct (name, fields), signed inside it

    @property
    def items(self) -> str | None:
        """The field holding a batch's items ("events", "units", ...); None for a single request."""
        if self.item is None:
            return None
        (name,) = [n for t, n in self.fields if t == f"{self.item[0]}[]"]
        return name

    def items_of(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """The items a message carries (events, units), or the message itself."""
        return message[self.items] if self.items else [message]


def _batch(name: str, items: str, item: str, item_fields: tuple[Field, ...]) -> Kind:
    """A registry batch: a signer, its items, a nonce and a deadline."""
    return Kind(
        name,
        "registry",
        "signer",
        (("address", "signer"), (f"{item}[]", items), *_TAIL),
        (item, item_fields),
    )


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _batch(
            "CommissionBatch",
            "units",
            "Commission",
            (
                ("uint64", "gtin"),
                ("string", "serial"),
                ("uint64", "location"),
                ("uint40", "eventTime"),
                ("bytes32", "evidence"),
            ),
        ),
        _batch(
            "EventBatch",
            "events",
            "LifecycleEvent",
            (("bytes32", "unitId"), *_OBSERVATION),
        ),
        _batch(
            "AggregationBatch",
            "aggregations",
            "Aggregation",
            (
                ("uint64", "sscc"),
                ("bytes32[]", "childIds"),
                ("uint8", "action"),
                *_OBSERVATION,
            ),
        ),
        _batch(
            "DecommissionBatch",
            "units",
            "Decommission",
            (
                ("uint64", "gtin"),
                ("string", "serial"),
                ("uint8", "disposition"),
                ("uint64", "location"),
                ("uint40", "eventTime"),
                ("bytes32", "evidence"),
            ),
        ),
        Kind(
            "ReturnRequest",
            "escrow",
            "buyer",
            (
                ("address", "buyer"),
                ("uint256", "orderId"),
                ("uint8", "reason"),
                ("uint8", "remedy"),
                *_TAIL,
            ),
        ),
        Kind(
            "DefectClaim",
            "desk",
            "buyer",
            (("address", "buyer"), ("uint256", "orderId"), ("bytes32", "evidence"), *_TAIL),
        ),
        Kind(
            "Inspection",
            "escrow",
            "inspector",
            (
                ("address", "inspector"),
                ("uint256", "orderId"),
                ("uint8", "facts"),
                ("uint8", "grade"),
                ("uint96", "diminishedValue"),
                ("bytes32", "evidence"),
                *_TAIL,
            ),
        ),
        # Signed by a holder, redeemed by the merchant at its till: the gateway does not relay it.
        Kind(
            "Redemption",
            "points",
            "holder",
            (
                ("address", "holder"),
                ("address", "merchant"),
                ("address", "currency"),
                ("uint256", "amount"),
                *_TAIL,
            ),
        ),
    )
}
