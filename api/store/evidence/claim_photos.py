"""The photos of defect claims, private to their orders.

A defect claim puts the SHA-256 digest of its photo on-chain (the ReissueDesk's DefectClaimed), and the
digest names the photo's CID: were the photo public evidence here, anyone reading the chain could download
the buyer's photo (cached publicly for a year, and given to the IPFS node). So the gateway takes a claim
only when the photo it holds under that digest is private to the claim's order (api/write/intake.py), and
refuses a public upload of a photo a claim already names (api/http/routes/evidence.py).

`make_private` brings the photos of claims made before those rules under them, once
(scripts/private_claim_photos.py; docs/operations.md, Evidence store and IPFS): every claim the gateway
knows, indexed from the chain or accepted here and not failed, whose photo the store holds as public
evidence is made private to the claim's order, and every private file is unpinned from the IPFS node
(the local copy stays). A file private to an order already is never given to another order by it: a
claim names a digest, and anyone can name a digest once it is on-chain, so a stranger's claim naming a
buyer's private photo would otherwise hand the photo to the stranger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..cases import SYSTEM, CaseStore
from ..index import SqliteIndex
from ..outbox import Outbox
from .store import EvidenceStore, RemoteNodeError


def claim_orders(index: SqliteIndex, outbox: Outbox, digest: str) -> list[int]:
    """The orders whose defect claim names `digest` (0x-hex): indexed from the chain, or accepted here and
    not failed (on its way, or confirmed and not indexed yet)."""
    with index.read() as r:
        indexed = r.defect_claims(digest)
    return sorted({order_id for order_id, _ in indexed + outbox.defect_claims(digest)})


def known_claims(index: SqliteIndex, outbox: Outbox) -> dict[str, list[int]]:
    """Every defect claim the gateway knows, as photo digest -> the orders whose claim names it."""
    with index.read() as r:
        indexed = r.defect_claims()
    out: dict[str, set[int]] = {}
    for order_id, digest in indexed + outbox.defect_claims():
        out.setdefault(digest.lower(), set()).add(order_id)
    return {digest: sorted(orders) for digest, orders in out.items()}


@dataclass(frozen=True)
class Left:
    """A claim's photo left as it is, and why."""

    cid: str
    orders: tuple[int, ...]  # the claims naming it
    private_to: tuple[int, ...]  # the orders it is private to already


@dataclass
class Report:
    """What `make_private` changed (or, in a dry run, would change)."""

    dry_run: bool
    claims: int = 0  # claims known (digest, order)
    photos: int = 0  # distinct photos of theirs the store holds
    made_private: dict[str, tuple[int, ...]] = field(default_factory=dict)  # CID -> the orders it is private to now
    left: list[Left] = field(default_factory=list)  # held, private to other orders only: not given to the claims'
    unpinned: list[str] = field(default_factory=list)  # private files the IPFS node let go (or would)
    failed: dict[str, str] = field(default_factory=dict)  # CID -> what the IPFS node answered

    @property
    def changed(self) -> bool:
        return bool(self.made_private or self.unpinned)


def make_private(
    claims: dict[str, list[int]], cases: CaseStore, evidence: EvidenceStore, dry_run: bool = False
) -> Report:
    """Makes each held public photo of `claims` (digest -> orders, `known_claims`) private to the orders whose
    claims name it, and unpins every private file from the IPFS node, keeping the local copies. Idempotent: a
    second run finds the photos private and the node holding none of them pinned, and changes nothing. With
    `dry_run`, changes nothing and reports what it would change (asking the node which files it pins)."""
    report = Report(dry_run, claims=sum(len(orders) for orders in claims.values()))
    for digest, orders in sorted(claims.items()):
        for cid in evidence.cids_for_digest(digest):
            report.photos += 1
            private_to = cases.private_orders(cid)
            if private_to:
                if not set(orders) <= set(private_to):
                    report.left.append(Left(cid, tuple(orders), tuple(private_to)))
                continue
            if dry_run or cases.make_public_private(cid, orders, SYSTEM):
                report.made_private[cid] = tuple(orders)
    _unpin(sorted(set(cases.private_cids()) | set(report.made_private)), evidence, report)
    return report


def _unpin(private: Iterable[str], evidence: EvidenceStore, report: Report) -> None:
    """Unpins the private files the IPFS node pins (none without a node): it serves anyone by CID."""
    if not evidence.ipfs_api:
        return
    for cid in private:
        try:
            if evidence.pinned(cid) if report.dry_run else evidence.unpublish(cid):
                report.unpinned.append(cid)
        except RemoteNodeError as exc:
            report.failed[cid] = exc.detail
