"""Evidence files (inspection photos, reports): Kubo-identical CIDs, a verified local store,
an optional IPFS node. See `api.evidence.cid` and `api.evidence.store`.

The app factory sets ``app.state.evidence = EvidenceStore(settings.evidence_dir,
settings.ipfs_api, settings.max_upload_bytes)``; routes get it through `get_evidence_store`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .cid import cid_v1, digest_of
from .store import EvidenceError, EvidenceStore, StoredEvidence

__all__ = [
    "EvidenceError",
    "EvidenceStore",
    "EvidenceStoreDep",
    "StoredEvidence",
    "cid_v1",
    "digest_of",
    "get_evidence_store",
]


def get_evidence_store(request: Request) -> EvidenceStore:
    """The gateway's `EvidenceStore`, from ``request.app.state.evidence``."""
    store = getattr(request.app.state, "evidence", None)
    if store is None:
        # A wiring mistake, not a client error: fail loudly.
        raise RuntimeError("app.state.evidence is not set: the app factory must create the EvidenceStore")
    return store


EvidenceStoreDep = Annotated[EvidenceStore, Depends(get_evidence_store)]
