"""Documents signed off-chain by an accredited key (returntrace/documents.py): post one, read the one
in force for a subject, or any by its id, each with its proof.

    POST /v1/documents/{kind}              {"message": {...}, "signature": "0x..."}
        201 new, 200 already stored (with a valid signature of it: 401 otherwise); the document with its proof
    GET  /v1/documents/{kind}?<subject fields>   the document in force for that subject
    GET  /v1/documents/by-id/{id}          one document by its EIP-712 digest
The types to sign are in GET /v1/eip712 under "documents"; refusals: api/write/documents.py.
A restricted kind (a customs declaration, a satisfaction rating) is read only by a signed-in reader its
rule names (api/http/auth/access.py, document_reader): 401 anonymous, 403 anyone else; a satisfaction
rating's 403 comes before the lookup, so it does not tell whether the order was rated (document_asker).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ...errors import ApiError
from ...store.documents import Document
from ...write.documents import DocumentIn
from ..auth.access import document_asker, document_reader
from ..auth.session import OptionalStanding
from ..deps import ChainDep, DocumentDeskDep
from ..responses import DocumentOut

router = APIRouter(tags=["documents"])


@router.post("/v1/documents/{kind}", response_model=DocumentOut, status_code=201, summary="Post a signed document")
def post_document(kind: str, body: DocumentIn, desk: DocumentDeskDep, response: Response) -> DocumentOut:
    document, new = desk.accept(kind, body)
    response.status_code = 201 if new else 200
    response.headers["Location"] = f"/v1/documents/by-id/{document.id}"
    return DocumentOut.model_validate(desk.proof(document))


def _served(
    document: Document, desk: DocumentDeskDep, chain: ChainDep, who: OptionalStanding, response: Response
) -> DocumentOut:
    """The document with its proof, to its readers only when its kind is restricted (never cached then)."""
    if desk.kind(document.kind).restricted:
        document_reader(chain, document.kind, document.message, who)
        response.headers["Cache-Control"] = "private, no-store"
    return DocumentOut.model_validate(desk.proof(document))


@router.get("/v1/documents/by-id/{document_id}", response_model=DocumentOut, summary="A document by its id")
def get_document(
    document_id: str, desk: DocumentDeskDep, chain: ChainDep, who: OptionalStanding, response: Response
) -> DocumentOut:
    document = desk.store.get(document_id)
    if document is None:
        raise ApiError(404, "unknown_document", f"no document {document_id}")
    return _served(document, desk, chain, who, response)


@router.get("/v1/documents/{kind}", response_model=DocumentOut, summary="The document in force for a subject")
def current_document(
    kind: str, request: Request, desk: DocumentDeskDep, chain: ChainDep, who: OptionalStanding, response: Response
) -> DocumentOut:
    entry = desk.kind(kind)
    missing = [name for name in entry.subject if name not in request.query_params]
    if missing:
        raise ApiError(400, "missing_subject", f"a {kind} is looked up by {list(entry.subject)}; missing {missing}")
    if entry.restricted:  # not even whether one exists, to anyone but its readers
        document_asker(chain, kind, request.query_params, who)
    subject = entry.subject_of(dict(request.query_params))
    document = desk.store.current(kind, subject)
    if document is None:
        raise ApiError(404, "unknown_document", f"no {kind} of {subject}")
    return _served(document, desk, chain, who, response)
