"""The inspection station (issue 12 §2): what an inspection would do, and the inspector's page.

    GET /v1/inspection-preview?gtin=…&serial=…&facts=…&diminishedValue=…
        the grade the facts give, what the buyer and the merchant get, the order's grade terms and
        the Inspection message prefilled for the signed-in inspector (api/read/inspections.py)
    GET /station                   the inspector's page (tablet): scan, tick the facts, add photos, sign
    GET /assets/station.js         its script (with /assets/wallet.js, shared with the return flow)

The page shows who is signed in (the account and whether it is an accredited inspector) and a "Sign out"
form (pages/signed_in.py: POST /v1/auth/sign-out ends the session on the gateway), at load when the
browser holds a session and once its wallet signs in: a shared tablet is not left signed in unseen.

The preview is for whoever grades the return or may read the order: an accredited inspector
(signed in with Ethereum; the message is prefilled for it), or the order's buyer, merchant side or an
auditor (the same preview, no message). The page holds nothing private: it reads the preview with
the session the inspector's wallet opens.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from returntrace import gs1
from returntrace.escrow import Facts
from returntrace.vocab import Role

from ...chain.guard import ChainUnavailable
from ...errors import ApiError
from ...read.inspections import PreviewRefused
from ..auth.access import order_party
from ..auth.session import OptionalStanding
from ..deps import ServicesDep
from ..pages import i18n, page_language, render
from ..pages.signed_in import page_viewer, sign_out_slot, signed_in
from ..pages.station_text import FACTS, station_text
from ..responses import InspectionPreviewOut
from .return_flow import ASSETS, flow_headers, script

router = APIRouter(tags=["inspection station"])


@router.get(
    "/v1/inspection-preview",
    response_model=InspectionPreviewOut,
    summary="What an inspection stating these facts would do, before signing",
)
def inspection_preview(
    services: ServicesDep,
    who: OptionalStanding,
    gtin: Annotated[str, Query(description="the returned unit's GTIN-8/12/13/14")],
    serial: Annotated[str, Query(description="its serial (AI 21)")],
    facts: Annotated[int, Query(description="the facts bits: 1 seal intact, 2 packaging intact, 4 used, 8 defective")],
    diminishedValue: Annotated[int, Query(description="the attested diminished value, base units")] = 0,  # noqa: N803
) -> InspectionPreviewOut:
    try:
        unit = gs1.unit_id(gs1.normalize_gtin(gtin), gs1.validate_serial(serial))
    except gs1.GS1Error as exc:
        raise ApiError(400, "invalid_unit", str(exc)) from exc
    if not 0 <= facts <= Facts.ALL:
        raise ApiError(
            400, "invalid_facts", f"facts {facts} has bits beyond SEAL_INTACT|PACKAGING_INTACT|USED|DEFECTIVE"
        )
    if who is None:
        raise ApiError(401, "not_signed_in", "the preview is for the inspector or the order's parties: sign in")
    desk = services.inspections
    try:
        at = desk.latest()
        order_id = desk.order_of(unit, at)
        inspector = who.account if who.roles & Role.INSPECTOR else None
        if inspector is None:
            order_party(services.chain, order_id, who)  # 403 unless a party or an auditor
        return InspectionPreviewOut.model_validate(
            desk.preview(order_id, facts, diminishedValue, inspector, at).as_json()
        )
    except PreviewRefused as exc:
        raise ApiError(exc.status, exc.code, exc.detail) from exc
    except ValueError as exc:
        raise ApiError(400, "invalid_diminished_value", str(exc)) from exc
    except ChainUnavailable as exc:
        raise ApiError(503, "chain_unavailable", f"the chain node did not answer: {exc}") from exc


@router.get("/station", response_class=HTMLResponse, summary="The inspection station (page, for an inspector's tablet)")
def station_page(request: Request, services: ServicesDep) -> Response:
    nonce = secrets.token_urlsafe(18)
    account, standing = page_viewer(request, services)
    with i18n.use(page_language(request)):
        if account is None:
            bar = sign_out_slot(request)  # shown by the script once the wallet signs in
        else:
            role = None if standing is None else "inspector" if standing.roles & Role.INSPECTOR else "not_inspector"
            bar = signed_in(request, account, role)
        context = {"nonce": nonce, "station_text": station_text(), "facts": FACTS, "signed_in": bar}
        return render(request, "station.html", context, headers=flow_headers(nonce))


@router.get("/assets/station.js", include_in_schema=False)
def station_script() -> Response:
    return script(ASSETS / "station.js")
