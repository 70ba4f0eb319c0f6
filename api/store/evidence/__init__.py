"""Evidence files (inspection photos, reports): Kubo-identical CIDs, a verified local store,
an optional IPFS node. See `returntrace.cid` and `api.store.evidence.store`.

The app factory builds one ``EvidenceStore(settings.evidence_dir, settings.ipfs_api,
settings.max_upload_bytes)``; routes get it through `api.http.deps.get_evidence_store`.
"""

from __future__ import annotations

from returntrace.cid import cid_v1, digest_of

from .store import EvidenceError, EvidenceStore, StoredEvidence

__all__ = ["EvidenceError", "EvidenceStore", "StoredEvidence", "cid_v1", "digest_of"]
