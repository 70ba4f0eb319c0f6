"""The photos of defect claims, private to their orders.

A defect claim puts the SHA-256 digest of its photo on-chain (the ReissueDesk's DefectClaimed), and the
digest names the photo's CID: were the photo public evidence here, anyone reading the chain could download
the buyer's photo (cached publicly for a year, and given to the IPFS node). So the gateway takes a claim
only when the photo it holds under that digest is private to the claim's order (api/write/intake.py), and
refuses a public upload of a photo a claim already names (api/http/routes/evidence.py).
"""

from __future__ import annotations

from ..index import SqliteIndex
from ..outbox import Outbox


def claim_orders(index: SqliteIndex, outbox: Outbox, digest: str) -> list[int]:
    """The orders whose defect claim names `digest` (0x-hex): indexed from the chain, or accepted here and
    not failed (on its way, or confirmed and not indexed yet)."""
    with index.read() as r:
        indexed = r.defect_claims(digest)
    return sorted({order_id for order_id, _ in indexed + outbox.defect_claims(digest)})
