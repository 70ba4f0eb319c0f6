"""The buyer's return flow: its page and its one script (issue 11 §3).

    GET /return/{gtin}/{serial}      the "Return or exchange" page, linked from the unit page
    GET /assets/return-flow.js       its script (our own, vendored: no CDN)
    GET /assets/wallet.js            the pieces it shares with the inspection station's script

The unit page stays script-free under its strict policy (api/http/pages HTML_HEADERS); this page runs
one script, allowed by a nonce drawn for each response, and talks only to this gateway
(`connect-src 'self'`): /v1/assistant/assess for the options of the connected wallet, /v1/evidence
for a defect's photo, the intake for the signed message, /v1/messages/{id} for its status. The page
itself holds no amount: the options come to the connected account only if it bought the order
(until wallet sign-in lands, the account the wallet connects is taken at its word; the signature the
intake checks is what binds the request to the buyer).

The page speaks the buyer's language (`?lang=`, else Accept-Language: api/http/pages/i18n.py); the script's
own words come in that language from the page (pages/return_flow_text.py), never from the script.

Signed in, the page shows the account and how it stands to the unit's order (its buyer, seller side,
an auditor, or none of them) beside a "Sign out" form (pages/signed_in.py), at load when the browser
holds a session and once the wallet signs in on the page.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from returntrace import gs1
from returntrace.assistant import MAX_TEXT_CHARS

from ...chain.guard import ChainUnavailable
from ..deps import ServicesDep
from ..errors import PageError
from ..pages import REFERRER_POLICY, i18n, page_language, render
from ..pages.return_flow_text import flow_text
from ..pages.signed_in import order_role, page_viewer, sign_out_slot, signed_in
from ..pages.withdrawal_form import withdrawal_form
from .assistant import NOTICE

router = APIRouter(tags=["return desk"])

ASSETS = Path(__file__).resolve().parents[1] / "pages" / "assets"
SCRIPT = ASSETS / "return-flow.js"


def flow_headers(nonce: str) -> dict[str, str]:
    """The flow page's policy: its own script by nonce, requests and forms (the sign-out) to this gateway
    only, nothing framed."""
    return {
        "Content-Security-Policy": f"default-src 'none'; script-src 'nonce-{nonce}'; connect-src 'self'; "
        "style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": REFERRER_POLICY,
        "Cache-Control": "no-store",  # the nonce is per response
    }


@router.get(
    "/return/{gtin}/{serial:path}",  # a serial may hold "/" (GS1 character set 82)
    response_class=HTMLResponse,
    summary="The buyer's return or exchange flow for a unit (page)",
)
def return_page(request: Request, services: ServicesDep, gtin: str, serial: str) -> Response:
    try:
        gtin14, serial = gs1.normalize_gtin(gtin), gs1.validate_serial(serial)
    except gs1.GS1Error as exc:
        raise PageError(
            400, "invalid_link", str(exc), "This code is not valid", as_json=False, gtin=gtin, serial=serial
        ) from exc
    desk = services.options
    unit_id = gs1.unit_id(gtin14, serial)
    try:
        latest = desk.latest()
        known = desk.unit_exists(unit_id, latest)
        chain_time = desk.reads.block_time(latest)  # what the script dates a rating by, not the device's clock
    except ChainUnavailable as exc:
        raise PageError(
            503, "chain_unavailable", str(exc), "Try again in a moment", as_json=False, gtin=gtin14, serial=serial
        ) from exc
    if not known:
        raise PageError(
            404,
            "unknown_unit",
            f"No unit with GTIN {gtin14} and serial {serial} is recorded.",
            "Unknown product unit",
            as_json=False,
            gtin=gtin14,
            serial=serial,
        )
    nonce = secrets.token_urlsafe(18)
    account, standing = page_viewer(request, services)
    role = None
    if standing is not None:

        def read_role() -> str | None:  # how the signed-in account stands to the unit's latest order (None: none)
            order_id = desk.reads.last_order_of(unit_id, latest)
            return order_role(services.chain, order_id, standing) if order_id else None

        try:
            role = services.pages.guard.guarded(read_role)
        except ChainUnavailable:
            role = None
    with i18n.use(page_language(request)):
        bar = sign_out_slot(request) if account is None else signed_in(request, account, role)
        form_language, form = withdrawal_form(i18n.current().code)
        context = {
            "gtin": gtin14,
            "serial": serial,
            "unit_page": gs1.digital_link("", gtin14, serial),
            "nonce": nonce,
            "notice": i18n._(NOTICE),
            "max_chars": MAX_TEXT_CHARS,
            "withdrawal_form": form,  # the Directive's text in the page's language, else English
            "withdrawal_form_language": form_language,
            "flow_text": flow_text(),
            "chain_time": chain_time,
            "signed_in": bar,
        }
        return render(request, "return.html", context, headers=flow_headers(nonce))


def script(path: Path) -> Response:
    """One of the pages' own scripts (api/http/pages/assets)."""
    return Response(
        path.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/assets/return-flow.js", include_in_schema=False)
def return_flow_script() -> Response:
    return script(SCRIPT)


@router.get("/assets/wallet.js", include_in_schema=False)
def wallet_script() -> Response:
    """The pieces the flow and the station share: words, amounts, sign-in, signing, following."""
    return script(ASSETS / "wallet.js")
