"""The signed documents the gateway accepted (returntrace/documents.py), each with its signature and
the block at which the signer's authority was checked: accepted data, not derived, so they live in
the outbox's file (RT_DATABASE), which operators back up, and never in the index, which is rebuilt
from the chain.

Documents are kept per deployment (the chain id and registry their domain binds them to): a file
that served another deployment keeps that one's documents, never serves them for this one. A
document is stored once (its EIP-712 digest is its id). The one in force for a subject is the
latest by `issuedAt`; the earlier ones stay, so a page served yesterday can still be proved.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from returntrace import cid as cids

from .connections import SqliteFile, chunks

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,            -- 0x EIP-712 digest
    deployment TEXT NOT NULL,       -- "<chain id>:<registry address>", the domain it is signed under
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    signer TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    message TEXT NOT NULL,          -- JSON, as signed
    signature TEXT NOT NULL,
    block_number INTEGER NOT NULL,  -- where the signer's authority was checked
    block_hash TEXT NOT NULL,
    accepted_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_subject ON documents (deployment, kind, subject, issued_at);
-- The files documents name by CID (a product's image and instructions), by 0x-hex digest: the staged
-- uploads they keep (api/store/evidence/staging.py), looked up without reading every document.
CREATE TABLE IF NOT EXISTS document_files (
    digest TEXT NOT NULL,
    document_id TEXT NOT NULL,
    PRIMARY KEY (digest, document_id)
);
"""


_COLUMNS = "id, kind, subject, signer, issued_at, message, signature, block_number, block_hash, accepted_at"
_SUBJECT = _COLUMNS.split(", ").index("subject")


@dataclass(frozen=True)
class Document:
    id: str
    kind: str
    subject: str
    signer: str
    issued_at: int
    message: dict[str, Any]
    signature: str
    block_number: int
    block_hash: str
    accepted_at: float


class SqliteDocuments(SqliteFile):
    def __init__(self, path: Path, deployment: str) -> None:
        super().__init__(path, _SCHEMA)  # the outbox's file: its write lock is shared with the outbox's writers
        self.deployment = deployment
        if "document_files" in self.created:
            self._list_files()

    def _list_files(self) -> None:
        """Lists the files of documents stored before document_files existed (idempotent: another process
        opening the file at the same time may too)."""
        rows = self._read().execute("SELECT id, message FROM documents").fetchall()
        with self._tx() as db:
            db.executemany(
                "INSERT OR IGNORE INTO document_files (digest, document_id) VALUES (?, ?)",
                [(digest, doc_id) for doc_id, message in rows for digest in _file_digests(json.loads(message))],
            )

    def put(self, document: Document) -> tuple[Document, bool]:
        """Stores a checked document once. Returns (the stored one, whether it is new)."""
        with self._tx() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id = ?", (document.id,)).fetchone()
            if row is not None:
                return _document(row), False
            stored = Document(**{**document.__dict__, "accepted_at": time.time()})
            db.execute(
                f"INSERT INTO documents (deployment, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.deployment,
                    stored.id,
                    stored.kind,
                    stored.subject,
                    stored.signer,
                    stored.issued_at,
                    json.dumps(stored.message, sort_keys=True),
                    stored.signature,
                    stored.block_number,
                    stored.block_hash,
                    stored.accepted_at,
                ),
            )
            db.executemany(
                "INSERT OR IGNORE INTO document_files (digest, document_id) VALUES (?, ?)",
                [(digest, stored.id) for digest in _file_digests(stored.message)],
            )
            return stored, True

    def get(self, document_id: str) -> Document | None:
        with self._readers.transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE id = ? AND deployment = ?",
                (document_id.lower(), self.deployment),
            ).fetchone()
        return None if row is None else _document(row)

    def current(self, kind: str, subject: str) -> Document | None:
        """The document in force for a subject: the latest issued (the first accepted of equals)."""
        return self.current_of(kind, [subject]).get(subject)

    def current_of(self, kind: str, subjects: Iterable[str]) -> dict[str, Document]:
        """current() of many subjects in one read transaction (a page names every step's signer and
        place): {subject: its document in force}, for the subjects that have one."""
        wanted = sorted(set(subjects))
        found: dict[str, tuple] = {}
        with self._readers.transaction() as db:
            for chunk in chunks(wanted):
                for row in db.execute(
                    f"SELECT {_COLUMNS} FROM documents WHERE deployment = ? AND kind = ? AND subject IN"
                    f" ({', '.join('?' * len(chunk))}) ORDER BY issued_at DESC, accepted_at ASC",
                    (self.deployment, kind, *chunk),
                ):
                    found.setdefault(row[_SUBJECT], row)  # each subject's first row in that order
        return {subject: _document(row) for subject, row in found.items()}

    def current_of_kind(self, kind: str) -> list[Document]:
        """The document in force for every subject of a kind (rate cards of every carrier, for example)."""
        with self._readers.transaction() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM documents d WHERE deployment = ? AND kind = ? AND id = (SELECT id FROM"
                " documents e WHERE e.deployment = d.deployment AND e.kind = d.kind AND e.subject = d.subject"
                " ORDER BY issued_at DESC, accepted_at ASC LIMIT 1) ORDER BY subject",
                (self.deployment, kind),
            ).fetchall()
        return [_document(row) for row in rows]

    def evidence_referenced(self, digests: list[str]) -> set[str]:
        """Those of `digests` (0x-hex) whose file a document names by CID (a product's image and instructions),
        in any deployment's documents: staged uploads they keep (api/store/evidence/staging.py)."""
        found: set[str] = set()
        with self._readers.transaction() as db:
            for chunk in chunks(sorted({d.lower() for d in digests})):
                rows = db.execute(
                    f"SELECT DISTINCT digest FROM document_files WHERE digest IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
                found.update(row[0] for row in rows)
        return found


def _file_digests(message: Any) -> set[str]:
    """The 0x-hex digests of the files a document's message names by CID (`cid` and `image`, at any depth)."""
    found: set[str] = set()
    if isinstance(message, dict):
        for key, value in message.items():
            if key in ("cid", "image") and isinstance(value, str):
                # Checked when accepted; a file of a document of an older check is skipped, not fatal.
                with contextlib.suppress(ValueError):
                    found.add("0x" + cids.digest_of(value).hex())
            else:
                found |= _file_digests(value)
    elif isinstance(message, list):
        for item in message:
            found |= _file_digests(item)
    return found


def _document(row: tuple) -> Document:
    """A row of _COLUMNS, in the dataclass's field order; the message is stored as JSON."""
    values = dict(zip(_COLUMNS.split(", "), row, strict=True))
    values["message"] = json.loads(values["message"])
    return Document(**values)
