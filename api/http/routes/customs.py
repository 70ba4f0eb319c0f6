"""Customs evidence for a returned unit (issue 12 §5): what a declarant shows customs to claim relief
from duty on goods that come back (api/read/customs_evidence.py).

    GET /01/{gtin}/21/{serial}/customs-evidence              JSON
    GET /01/{gtin}/21/{serial}/customs-evidence?format=html  the printable page (also for Accept: text/html)

The declaration reference, its salt and the declarant are served only to a reader signed in as the
GTIN's brand, a key of its organisation (BRAND or MERCHANT_STAFF), or the declarant the brand named
(api/http/auth/access.py, may_read_declaration); everyone else sees the on-chain commitment to it.
Refusals: 400 invalid_gtin | invalid_serial, 404 unknown_unit, 409 no_export | declaration_not_recorded |
no_cross_border_return, 503 chain_unavailable.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from returntrace import gs1
from returntrace.customs_regimes import utc_day
from returntrace.documents import DOCUMENTS

from ...chain.guard import ChainUnavailable
from ...errors import ApiError
from ...read.customs_evidence import evidence
from ..auth.access import may_read_declaration
from ..auth.session import OptionalStanding
from ..deps import ServicesDep
from ..errors import PageError
from ..pages import i18n, page_language, render
from ..pages.i18n import N_
from ..qvalues import names_html
from ..responses import CustomsEvidenceOut, customs_evidence_json
from .resolver import PAGE_CONTENT

router = APIRouter(tags=["resolver"])

HEADING = N_("No customs evidence for this unit")


def _wants_html(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "html"
    return names_html(request.headers.get("accept"))


@router.get(
    "/01/{gtin}/21/{serial:path}/customs-evidence",
    response_model=CustomsEvidenceOut,
    responses={200: {"content": {"text/html": PAGE_CONTENT["text/html"]}}},
    summary="Customs evidence for a returned unit (JSON, or the printable page)",
)
def customs_evidence(
    request: Request,
    services: ServicesDep,
    who: OptionalStanding,
    gtin: str,
    serial: str,
    format: str | None = Query(None, pattern="^(json|html)$", description="html: the printable page"),
) -> Response:
    as_html = _wants_html(request, format)
    try:
        gtin14, serial = gs1.normalize_gtin(gtin), gs1.validate_serial(serial)
        view = services.unit_views.view(gtin14, serial)
        if view is None:
            raise ApiError(404, "unknown_unit", f"No unit with GTIN {gtin14} and serial {serial} is recorded.")
        subject = DOCUMENTS["CustomsDeclaration"].subject_of({"gtin": int(gtin14), "serial": serial})
        declaration = services.documents.store.current("CustomsDeclaration", subject)
        authorised = declaration is not None and services.pages.guard.guarded(
            lambda: may_read_declaration(services.chain, int(gtin14), declaration.message["declarant"], who)
        )
        answer = evidence(view, declaration, services.pages.guard.guarded(services.reader.block_time), authorised)
    except gs1.GS1Error as exc:
        raise PageError(400, "invalid_link", str(exc), N_("This code is not valid"), as_json=not as_html) from exc
    except ChainUnavailable as exc:
        raise PageError(503, "chain_unavailable", str(exc), N_("Try again in a moment"), as_json=not as_html) from exc
    except ApiError as exc:
        if not as_html:
            raise
        raise PageError(exc.status, exc.code, exc.detail, HEADING, as_json=False, gtin=gtin, serial=serial) from exc
    headers = {"Vary": "Accept, Cookie", "Cache-Control": "private, no-store" if authorised else "no-cache"}
    if not as_html:
        return JSONResponse(customs_evidence_json(answer), headers=headers)
    with i18n.use(page_language(request)):
        return render(request, "customs_evidence.html", {"e": answer, "day": _day}, headers=headers)


def _day(timestamp: Any) -> str:
    return utc_day(int(timestamp)) if timestamp is not None else "—"
