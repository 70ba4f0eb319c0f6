"""Evidence files: upload (content-addressed, Kubo-identical CIDs) and verified download.

The routes reach the services' `api.store.evidence.store.EvidenceStore` (``Services.evidence``)
through `api.http.deps.get_evidence_store` and take the upload limit from ``store.max_bytes``.

    POST /v1/evidence          multipart/form-data with one file part (its own Content-Type),
                               or the raw bytes with Content-Type image/jpeg, image/png,
                               application/pdf, text/plain or application/json
        201 {"cid", "size", "contentType", "digest", "pinnedRemote", "expiresAt"} and Location
        400 malformed upload   413 over the limit (Content-Length or streamed size)
        409 evidence_public: with ?order=, bytes already stored as public evidence (they stay public)
        409 evidence_claimed: without ?order=, the photo of a defect claim (upload it with ?order=)
        415 other content type, or bytes that are not what the type says
        429 rate_limited: the client's uploads past RT_UPLOAD_RATE / RT_UPLOAD_BURST (Retry-After)
        502 the configured IPFS node failed or assigned another CID
        507 staging_full: unreferenced uploads would pass the uploader's budget (Retry-After)
    GET /v1/evidence/{cid}     the bytes, re-hashed against the CID on the way out
        200 bytes with the stored content type (ETag = CID, immutable)
        400 malformed or non-evidence CID   404 unknown
        410 the stored copy no longer matches its CID (not served; see EvidenceCorrupted)
        502 the IPFS node failed, or sent bytes that do not match

Evidence a party uploads for an order (``POST /v1/evidence?order=<id>``, signed in as the order's
buyer or merchant side: api/http/auth) is private to that order: ``GET`` answers it only
to its parties and signed-in auditors (401 anonymous, 403 anyone else), never cached in public, never
given to the IPFS node (not even when the same bytes are uploaded again without ``order``). The CID the
chain carries is a hash: it reveals nothing of the file, but it names it, so a defect claim's photo must be
private to its order: the intake refuses a claim whose photo is held here otherwise (409
evidence_not_private), and this route a public upload of a photo a claim names (409 evidence_claimed).
Lifecycle evidence stays public.

An upload is staged (api/store/evidence/staging.py) until a confirmed signed message, a signed document or an
indexed chain record carries its digest: ``expiresAt`` (Unix seconds) says when it is deleted unless one does
by then, null once one does. It counts against the shared budget, or against its own for a signed-in
accredited actor or buyer of an order (`_budget_owner`). The binding of a private file to its order is not
a reference: the uploader alone made it, and it would let any party of an order keep any number of files; it
stays when the file expires (the same bytes uploaded again are private again).

``digest`` is the 0x-hex sha2-256 digest inside the CID: the ``bytes32 evidence`` that goes on
chain (`returntrace.cid.digest_of`). Errors are raised as EvidenceError and answered in the
gateway's one shape, ``{"error": code, "detail": text, ...}``, by api/http/errors.py.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from returntrace import cid as cids

from ...chain.parties import Standing
from ...errors import ApiError
from ...services import Services
from ...store.cases import CaseStore
from ...store.evidence.claim_photos import claim_orders
from ...store.evidence.staging import SHARED, Staged, Staging
from ...store.evidence.store import (
    ALLOWED_CONTENT_TYPES,
    EvidenceError,
    EvidenceTooLarge,
    UnsupportedContentType,
    normalize_content_type,
)
from ..auth.access import order_party
from ..auth.session import OptionalStanding
from ..deps import EvidenceStoreDep, ServicesDep
from ..limits import rate_limited
from ..responses import EvidenceOut

router = APIRouter(tags=["evidence"])

# Room for the boundaries and part headers of a multipart upload beyond the file itself.
MULTIPART_OVERHEAD = 64 * 1024
MAX_FIELD_BYTES = 8 * 1024  # non-file form fields are read and ignored, up to this size each
_SNIFF = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"))


class BadUpload(EvidenceError):
    status, code = 400, "invalid_upload"


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise BadUpload("Content-Length is not a number")
    return int(value)


def _too_large(size: int | str, limit: int) -> EvidenceTooLarge:
    return EvidenceTooLarge(f"evidence is {size} bytes; the limit is {limit}", maxBytes=limit)


async def _read_raw(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(f"more than {limit}", limit)
    return bytes(body)


class _Part:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.data = bytearray()
        self.complete = False

    @property
    def disposition(self) -> dict[bytes, bytes]:
        return parse_options_header(self.headers.get("content-disposition", ""))[1]

    @property
    def is_file(self) -> bool:
        d = self.disposition
        return b"filename" in d or d.get(b"name") == b"file"


async def _read_multipart(request: Request, content_type: str, limit: int) -> tuple[bytes, str | None]:
    """The one file part of a multipart/form-data body and its declared Content-Type, read as a
    stream: the upload is refused as soon as the file passes ``limit`` bytes."""
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        raise BadUpload("multipart/form-data without a boundary")
    parts: list[_Part] = []
    field = bytearray()
    value = bytearray()
    ended = False

    def begin() -> None:
        parts.append(_Part())

    def header_field(data: bytes, start: int, end: int) -> None:
        field.extend(data[start:end])

    def header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def header_end() -> None:
        parts[-1].headers[field.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
        field.clear()
        value.clear()

    def part_data(data: bytes, start: int, end: int) -> None:
        part = parts[-1]
        part.data.extend(data[start:end])
        if part.is_file:
            if len(part.data) > limit:
                raise _too_large(f"more than {limit}", limit)
        elif len(part.data) > MAX_FIELD_BYTES:
            raise BadUpload(f"form field over {MAX_FIELD_BYTES} bytes")

    def part_end() -> None:
        parts[-1].complete = True

    def on_end() -> None:
        nonlocal ended
        ended = True

    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": begin,
                "on_header_field": header_field,
                "on_header_value": header_value,
                "on_header_end": header_end,
                "on_part_data": part_data,
                "on_part_end": part_end,
                "on_end": on_end,
            },
        )
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit + MULTIPART_OVERHEAD:
                raise _too_large(f"more than {limit}", limit)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise BadUpload(f"malformed multipart body: {exc}") from None
    if not ended:
        raise BadUpload("truncated multipart body")
    files = [p for p in parts if p.is_file and p.complete]
    if not files:
        raise BadUpload('no file part (send the file as a part named "file")')
    if len(files) > 1:
        raise BadUpload("one file per upload")
    part = files[0]
    return bytes(part.data), part.headers.get("content-type")


def _sniff(data: bytes) -> str | None:
    return next((ctype for magic, ctype in _SNIFF if data.startswith(magic)), None)


@router.post(
    "/v1/evidence",
    status_code=201,
    response_model=EvidenceOut,
    summary="Store an evidence file; answer its CID and on-chain digest",
    responses={
        201: {"description": "Stored (again: uploads are idempotent); kept until `expiresAt` unless referenced"},
        400: {"description": "Malformed upload"},
        409: {
            "description": "With `order`: bytes already public (`evidence_public`); without: the photo of a defect "
            "claim, which must be private to its order (`evidence_claimed`)"
        },
        413: {"description": "Over the size limit"},
        415: {"description": f"Not one of {', '.join(sorted(ALLOWED_CONTENT_TYPES))}"},
        429: {"description": "Too many uploads from this client (Retry-After)"},
        502: {"description": "The IPFS node failed or disagreed on the CID"},
        507: {"description": "Too many unreferenced uploads are waiting (Retry-After)"},
    },
    dependencies=[Depends(rate_limited(lambda s: s.upload_limit, "evidence uploads"))],
)
async def upload_evidence(
    request: Request,
    store: EvidenceStoreDep,
    response: Response,
    services: ServicesDep,
    who: OptionalStanding,
    order: int | None = Query(None, ge=0, le=2**63 - 1, description="private to this order's parties"),
) -> EvidenceOut:
    if order is not None:
        await run_in_threadpool(partial(order_party, adding=True), services.chain, order, who)
    limit = store.max_bytes
    header = request.headers.get("content-type", "")
    declared = _declared_length(request)
    if header.split(";", 1)[0].strip().lower() == "multipart/form-data":
        if declared is not None and declared > limit + MULTIPART_OVERHEAD:
            raise _too_large(declared, limit)
        data, part_type = await _read_multipart(request, header, limit)
        if part_type is None or part_type.split(";", 1)[0].strip().lower() == "application/octet-stream":
            part_type = _sniff(data)
            if part_type is None:
                raise UnsupportedContentType("give the file part a Content-Type", allowed=sorted(ALLOWED_CONTENT_TYPES))
        content_type = normalize_content_type(part_type)
    else:
        content_type = normalize_content_type(header)  # 415 before reading any of the body
        if declared is not None and declared > limit:
            raise _too_large(declared, limit)
        data = await _read_raw(request, limit)
    staging = services.staging
    if order is not None and who is not None:
        cases = services.cases.store
        staged = await run_in_threadpool(_put_private, staging, cases, data, content_type, order, who.account)
    else:
        staged = await run_in_threadpool(_put_public, services, who, data, content_type)
    stored = staged.evidence
    response.headers["Location"] = f"/v1/evidence/{stored.cid}"
    return EvidenceOut(
        cid=stored.cid,
        size=stored.size,
        contentType=stored.content_type,
        digest=stored.digest_hex,
        pinnedRemote=stored.pinned_remote,
        expiresAt=None if staged.expires_at is None else int(staged.expires_at),
    )


def _budget_owner(services: Services, who: Standing | None) -> str:
    """Whose staging budget a public upload counts in: a signed-in accredited actor or buyer of an indexed
    order has one of its own; anyone else shares one (Staging). A private one is its party's (_put_private)."""
    if who is None:
        return SHARED
    if who.roles:
        return who.account
    with services.index.read() as r:
        return who.account if r.has_bought(who.account) else SHARED


def _put_public(services: Services, who: Standing | None, data: bytes, content_type: str) -> Staged:
    """Stores `data` as public evidence, unless it is the photo of a defect claim: the claim put its digest
    on-chain, which names its CID, so the buyer's photo would be anyone's to download (409
    evidence_claimed: upload it private to the order). Bytes private to an order already stay private, and
    off the IPFS node."""
    cid = cids.cid_v1(data)
    claims = claim_orders(services.index, services.outbox, "0x" + cids.digest_of(cid).hex())
    if claims:
        raise ApiError(
            409,
            "evidence_claimed",
            f"{cid} is the photo of order {claims[0]}'s defect claim, whose digest is on-chain (or on its way): as "
            f"public evidence anyone could download it. Upload it with POST /v1/evidence?order={claims[0]}, signed "
            "in as the buyer",
            cid=cid,
        )
    private = bool(services.cases.store.private_orders(cid))
    return services.staging.put(data, content_type, publish=not private, owner=_budget_owner(services, who))


def _put_private(
    staging: Staging, cases: CaseStore, data: bytes, content_type: str, order: int, account: str
) -> Staged:
    """Stores `data` private to `order`, unless the same bytes are public evidence already: anyone could
    download those, and a party of any order re-uploading them would hide them from everyone else.
    Never published to the IPFS node: it serves anyone who asks by CID."""
    cid = cids.cid_v1(data)
    if staging.store.has(cid) and not cases.private_orders(cid):
        raise ApiError(
            409,
            "evidence_public",
            f"{cid} is public evidence already (uploaded without an order): it stays public, and cannot be made "
            f"private to order {order}",
            cid=cid,
        )
    staged = staging.put(data, content_type, publish=False, owner=account)
    cases.make_private(staged.evidence.cid, order, account)
    return staged


@router.get(
    "/v1/evidence/{cid}",
    summary="An evidence file, verified against its CID",
    response_class=Response,
    responses={
        200: {"description": "The file, with the content type it was uploaded with"},
        400: {"description": "Malformed CID, or not an evidence CID"},
        404: {"description": "Unknown CID"},
        410: {"description": "The stored copy no longer matches its CID and is not served"},
        502: {"description": "The IPFS node failed or sent bytes that do not match"},
    },
)
async def get_evidence(
    cid: str, request: Request, store: EvidenceStoreDep, services: ServicesDep, who: OptionalStanding
) -> Response:
    canonical = store.canonical(cid)
    private = services.cases.store.private_orders(canonical)
    if private:
        await run_in_threadpool(_may_read_any, services, private, who)
    etag = f'"{canonical}"'
    if etag in request.headers.get("if-none-match", "") and store.has(canonical):
        return Response(status_code=304, headers={"ETag": etag})
    data, content_type = await run_in_threadpool(store.get, canonical)
    return Response(
        data,
        media_type=content_type,
        headers={
            "ETag": etag,
            "Cache-Control": "private, no-store" if private else "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def _may_read_any(services: ServicesDep, order_ids: list[int], who: OptionalStanding) -> None:
    """Passes if `who` is a party of one of the orders the file is private to; else the first refusal."""
    refusal = None
    for order_id in order_ids:
        try:
            order_party(services.chain, order_id, who, judging=True)
            return
        except ApiError as exc:  # keep the first reason
            refusal = refusal or exc
    assert refusal is not None
    raise refusal
