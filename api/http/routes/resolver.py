"""GS1 Digital Link resolver: the URL in a unit's QR code, its consumer page and the QR code itself.

    GET /01/{gtin}/21/{serial}                   the unit: HTML page, or UnitView JSON for Accept: application/json
    GET /01/{gtin}/10/{lot}/21/{serial}          the same with the key qualifiers GS1 allows before the serial
    GET /01/{gtin}/22/{cpv}/21/{serial}            (consumer product variant 22, batch/lot 10; order 22, 10, 21)
    GET /01/{gtin}/22/{cpv}/10/{lot}/21/{serial}
    GET /01/{gtin}/21/{serial}/qr.svg|qr.png     QR code of the unit's canonical Digital Link URI
    GET /01/{gtin}                               the product: its return policy in each market it is sold in

See returntrace/digital_link.py for the accepted forms and api/http/pages/consumer_page.py for what the page says.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from returntrace import gs1
from returntrace.digital_link import LinkError, UnitLink, parse_path

from ...chain.guard import ChainUnavailable
from ...chain.pages import PageReads
from ...read.views import UnitView
from ...services import Services
from ..auth.session import cookie_name, optional_account, optional_standing
from ..deps import get_services, public_url
from ..errors import PageError
from ..pages import i18n, page_language, render
from ..pages.consumer_page import NATIVE, Currency, build_page, build_parcel_page, name_steps
from ..pages.i18n import N_, _
from ..pages.policy_page import build_policy_page, order_section
from ..pages.protection_offer import consumer_offers
from ..pages.signed_in import SIGNED_IN_POLICY, order_role, signed_in
from ..qvalues import prefers_json
from ..responses import ParcelViewOut, UnitViewOut, parcel_json, unit_json

router = APIRouter(tags=["resolver"])

UnitViewFn = Callable[[Any, str, str], UnitView | None]
Endpoint = Callable[..., Response]

QR_MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
QR_ERROR_LEVEL = "m"  # 15 % of the code may be damaged (a scuffed label) and it still reads
QR_SVG_SCALE, QR_PNG_SCALE, QR_BORDER = 4, 8, 4  # border: the 4-module quiet zone ISO/IEC 18004 asks for


def unit_view(services: Services, gtin14: str, serial: str) -> UnitView | None:
    """The verified view of unit (GTIN, serial): None for a unit nobody commissioned; raises
    `returntrace.gs1.GS1Error` (a ValueError) for a malformed GTIN or serial; never raises because
    the chain is down (api/read/unit_views.py)."""
    return services.unit_views.view(gtin14, serial)


def get_unit_view() -> UnitViewFn:
    """The indexer's verified view of a unit; tests override this dependency."""
    return unit_view


UnitViewDep = Annotated[UnitViewFn, Depends(get_unit_view)]
# Whether the signed-in viewer is the order's party: its role ("buyer", "merchant", "auditor") or False.
PartyFn = Callable[[Request, Services, UnitView], bool | str | None]


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    root = request.scope.get("root_path") or ""
    return path[len(root) :] if root and path.startswith(root) else path


def _link_error(exc: LinkError, as_json: bool) -> PageError:
    if exc.status == 404:
        return PageError(
            404,
            exc.code,
            exc.reason,
            N_("No unit in this link"),
            as_json=as_json,
            advice=N_("This page shows single product units; the code you scanned names a product, not one unit."),
        )
    return PageError(
        exc.status,
        exc.code,
        exc.reason,
        N_("This code is not valid"),
        as_json=as_json,
        advice=N_(
            "The link does not hold a valid GS1 product code. If you typed it, check it; if you scanned it "
            "from a product, the label may be damaged or not genuine."
        ),
    )


def currency_lookup(pages: PageReads) -> Callable[[str], Currency]:
    """Symbol and decimals of the order's currency: the native coin, or an ERC-20's read from the chain
    (base units of the token while it cannot be read)."""

    def currency_of(currency: str) -> Currency:
        if not currency or currency == "native" or currency.strip("0x") == "":
            return NATIVE
        found = pages.token(currency)
        return (
            Currency(*found)
            if found
            else Currency(_("units of %(token)s") % {"token": f"{currency[:6]}…{currency[-4:]}"}, 0)
        )

    return currency_of


def _block_time_lookup(pages: PageReads) -> Callable[[int], int | None]:
    """When a block was mined, for escrow steps whose event time the index did not give."""
    return pages.block_time


def qr_image(uri: str, kind: str) -> bytes:
    """The QR code of `uri` as SVG or PNG (segno, error correction M, 4-module quiet zone)."""
    code = segno.make_qr(uri, error=QR_ERROR_LEVEL, boost_error=False)
    out = io.BytesIO()
    if kind == "svg":
        code.save(
            out,
            kind="svg",
            scale=QR_SVG_SCALE,
            border=QR_BORDER,
            dark="#000",
            light="#fff",
            title=uri,
            desc="GS1 Digital Link QR code",
        )
    else:
        code.save(out, kind="png", scale=QR_PNG_SCALE, border=QR_BORDER, dark="#000", light="#fff")
    return out.getvalue()


def _qr(request: Request, link: UnitLink) -> Response:
    uri = gs1.digital_link(public_url(request), link.gtin, link.serial)
    return Response(
        qr_image(uri, link.qr or "svg"),
        media_type=QR_MEDIA[link.qr or "svg"],
        headers={
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            "Link": f'<{uri}>; rel="describes"',
        },
    )


RESOLVER_DOC = """A unit's GS1 Digital Link: the URL its QR code carries.

Forms: `/01/{gtin}/21/{serial}`, optionally with `/22/{variant}` and `/10/{lot}` before `/21/` (in that
order); GTIN-8/12/13/14; percent-encoded values; any query string (`linkType`, data attributes) is
ignored. `Accept: application/json` gets the UnitView JSON, anything else the consumer page (HTML).
The page shows an order's amounts and return reason only to a viewer signed in (session cookie or
Bearer) as its buyer, merchant side or an auditor; the JSON is the same public on-chain data for all.
Append `/qr.svg` or `/qr.png` for the QR code of the canonical link `{public_url}/01/{gtin14}/21/{serial}`
(served for any valid GTIN + serial, so labels can be printed before the unit is commissioned).

A GTIN without a serial (`/01/{gtin}`, with or without `/22/` and `/10/`) names the product: its page is
the return policy in each market the registry says it is sold in, read from ReturnPolicies at a stated
block (JSON: those terms as read).

Errors: 400 `invalid_gtin`, `invalid_serial`, `invalid_link`; 404 `unknown_unit`, `unknown_product`;
503 `chain_unavailable` (the product page's terms could not be read)."""


def _resolve(request: Request, unit_view: UnitViewFn, is_party: PartyFn) -> Response:
    as_json = prefers_json(request.headers.get("accept"))
    try:
        link = parse_path(_raw_path(request))
    except LinkError as exc:
        if exc.gtin is not None:
            return _product(request, exc.gtin, as_json)
        raise _link_error(exc, as_json) from None
    if link.qr:
        return _qr(request, link)

    services = get_services(request)
    view = unit_view(services, link.gtin, link.serial)
    canonical = gs1.digital_link(public_url(request), link.gtin, link.serial)
    if view is None:
        raise PageError(
            404,
            "unknown_unit",
            f"No unit with GTIN {link.gtin} and serial {link.serial} is recorded.",
            N_("Unknown product unit"),
            as_json=as_json,
            advice=N_(
                "It may not be registered yet, or the code may have been copied. If you bought it, ask the seller."
            ),
            message=N_("Nothing about a unit with this GTIN and serial is recorded on the blockchain."),
            gtin=link.gtin,
            serial=link.serial,
        )
    headers = {
        "Vary": "Accept",
        "Cache-Control": "no-cache",
        "Link": f'<{view.digital_link or canonical}>; rel="canonical"',
    }
    if as_json:  # the auditors' and integrators' API: the order's public on-chain data, for anyone
        return JSONResponse(unit_json(view), headers=headers)
    party = is_party(request, services, view)
    viewer = optional_account(request, services)
    if cookie_name(request) in request.cookies:  # the page differs by session; without one it stays one cacheable page
        headers["Vary"] = "Accept, Cookie"
    if party or viewer is not None:  # the amounts, or who is signed in: this viewer's page only
        headers["Cache-Control"] = "private, no-store"
    if viewer is not None:  # its sign-out form posts to this gateway (pages/signed_in.py)
        headers["Content-Security-Policy"] = SIGNED_IN_POLICY
    with i18n.use(page_language(request)):
        page = build_page(
            view,
            currency_lookup(services.pages),
            _block_time_lookup(services.pages),
            services.names,
            party=bool(party),
        )
        page.digital_link = page.digital_link or canonical
        page.policy = _order_policy(services, view)
        context: dict[str, Any] = {"page": page, "qr_base": gs1.digital_link("", link.gtin, link.serial)}
        if viewer is not None:
            # None: no order this gateway can check, or the node is down: the bar names the account only.
            role = party if isinstance(party, str) else "party" if party else None if party is None else "not_party"
            context["signed_in"] = signed_in(request, viewer.account, role)
        return render(request, "unit.html", context, headers=headers)


def order_viewer_is_party(request: Request, services: Services, view: UnitView) -> bool | str | None:
    """Whether the signed-in viewer may read the order's amounts and return reason: its buyer, merchant
    side or an auditor (order_party, at the head block), answered as that role ("buyer", "merchant",
    "auditor": the page's sign-out bar names it); False for anonymous and anyone else. None (the page stays
    public, the bar names no role) when it cannot tell: no order, a previous deployment's order (its escrow
    is not the one order_party reads), or a node that does not answer."""
    rs = view.return_status
    if rs is None or (view.deployment or {}).get("readOnly"):
        return None
    account = optional_account(request, services)
    if account is None:
        return False

    def may_read() -> bool | str:
        who = optional_standing(account, services)
        if who is None:
            return False
        role = order_role(services.chain, rs.order_id, who)  # not a party or no such order: an answer
        return False if role == "not_party" else role

    try:  # behind the pages' guard: a node that does not answer leaves the page public, never a 500
        return services.pages.guard.guarded(may_read)
    except ChainUnavailable:
        return None


def get_party_check() -> PartyFn:
    """Whether the viewer is the order's party; tests of hand-built views (no such order on the chain) override it."""
    return order_viewer_is_party


PartyDep = Annotated[PartyFn, Depends(get_party_check)]


def _currency_name(services: Services) -> Callable[[str], str]:
    lookup = currency_lookup(services.pages)
    return lambda address: lookup("native" if int(address, 16) == 0 else address).symbol


def _order_policy(services: Services, view: UnitView) -> Any:
    """The order's return policy with its dates, read from the chain now; None without an order, for a
    previous deployment's unit, or while the node does not answer (the rest of the page still shows)."""
    rs = view.return_status
    if rs is None or (view.deployment or {}).get("readOnly"):
        return None
    try:
        terms = services.product_terms.order_terms(rs.order_id, bytes.fromhex(view.unit_id.removeprefix("0x")))
    except ChainUnavailable:
        return None
    return order_section(terms, _currency_name(services), services.names) if terms is not None else None


def _product(request: Request, gtin14: str, as_json: bool) -> Response:
    """The product's page: its return policy per market, from the chain at the latest block."""
    services = get_services(request)
    try:
        terms = services.product_terms.terms(gtin14)
    except ChainUnavailable as exc:
        raise PageError(
            503,
            "chain_unavailable",
            f"the product's terms could not be read from the chain: {exc}",
            N_("The return policy cannot be read right now"),
            as_json=as_json,
            advice=N_("The blockchain node did not answer. Try again in a minute."),
        ) from exc
    if terms is None:
        raise PageError(
            404,
            "unknown_product",
            f"No brand registered GTIN {gtin14}.",
            N_("Unknown product"),
            as_json=as_json,
            advice=N_("No brand has registered this product. If you bought it, ask the seller."),
            gtin=gtin14,
        )
    canonical = f"{public_url(request)}/01/{gtin14}"
    headers = {"Vary": "Accept", "Cache-Control": "no-cache", "Link": f'<{canonical}>; rel="canonical"'}
    if as_json:
        return JSONResponse(jsonable_encoder(asdict(terms)), headers=headers)
    with i18n.use(page_language(request)):
        with services.index.read() as reader:  # the buyer's optional cover, where the market's law allows it
            offers = consumer_offers(reader, terms, currency_lookup(services.pages))
        page = build_policy_page(terms, _currency_name(services), canonical, services.names, offers)
        return render(request, "product.html", {"page": page}, headers=headers)


# The page, the QR code or the JSON, by the path and the Accept header: documented, served as a Response.
PAGE_CONTENT: dict[str, dict[str, Any]] = {"text/html": {}, "image/svg+xml": {}, "image/png": {}}


def _resolver_route(path: str, **openapi: Any) -> Callable[[Endpoint], Endpoint]:
    """Route GET and HEAD `path` to one endpoint, as every resolver URL is routed. GET is documented by
    `openapi` and as serving the page, the QR code or the JSON (PAGE_CONTENT); HEAD, undocumented, is
    answered as GET is, for link checkers and scanners that want the headers only."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.head(path, include_in_schema=False)(endpoint)
        return router.get(path, responses={200: {"content": PAGE_CONTENT}}, **openapi)(endpoint)

    return register


@_resolver_route(
    "/01/{link_path:path}",
    response_model=UnitViewOut,
    summary="Resolve a unit's GS1 Digital Link (page, JSON or QR code)",
    description=RESOLVER_DOC,
)
def resolve(request: Request, unit_view: UnitViewDep, is_party: PartyDep, link_path: str) -> Response:
    return _resolve(request, unit_view, is_party)


@_resolver_route("/gtin/{link_path:path}", include_in_schema=False)
def resolve_alpha(request: Request, unit_view: UnitViewDep, is_party: PartyDep, link_path: str) -> Response:
    """Digital Link 1.1's alphabetic form (/gtin/…/ser/…), deprecated in 1.2 but still printed."""
    return _resolve(request, unit_view, is_party)


PARCEL_DOC = """A parcel's GS1 Digital Link (AI 00, SSCC): `/00/{sscc18}`.

The page shows the parcel's history verified against its on-chain record and its current content,
proved on-chain (each member's `parentOf` is the parcel and there are `parcelSize` of them), each
unit linking to its own page. `Accept: application/json` gets the ParcelView; `/00/{sscc}/qr.svg`
the QR code of the canonical link. Errors: 400 `invalid_sscc`, 404 `unknown_parcel`."""


@_resolver_route(
    "/00/{link_path:path}",
    response_model=ParcelViewOut,
    summary="Resolve a parcel's GS1 Digital Link (page, JSON or QR code)",
    description=PARCEL_DOC,
)
def resolve_parcel(request: Request, link_path: str) -> Response:
    as_json = prefers_json(request.headers.get("accept"))
    raw, _, qr = link_path.partition("/")
    if qr not in ("", "qr.svg", "qr.png"):
        raise PageError(
            400,
            "invalid_link",
            f"/00/{link_path} is not /00/<sscc> or /00/<sscc>/qr.svg",
            N_("This code is not valid"),
            as_json=as_json,
        )
    try:
        sscc18 = gs1.sscc18(raw) if raw.isascii() and raw.isdigit() and len(raw) == 18 else gs1.sscc18("x")
    except gs1.GS1Error as exc:
        raise PageError(
            400,
            "invalid_sscc",
            f"{raw!r}: {exc}",
            N_("This code is not valid"),
            as_json=as_json,
            advice=N_(
                "The link does not hold a valid SSCC (18 digits with a GS1 check digit). If you scanned it "
                "from a parcel label, the label may be damaged."
            ),
        ) from None
    canonical = gs1.parcel_link(public_url(request), sscc18)
    if qr:
        kind = qr.split(".")[1]
        return Response(
            qr_image(canonical, kind),
            media_type=QR_MEDIA[kind],
            headers={
                "Cache-Control": "public, max-age=86400",
                "X-Content-Type-Options": "nosniff",
                "Link": f'<{canonical}>; rel="describes"',
            },
        )
    view = get_services(request).unit_views.parcel_view(sscc18)
    if view is None:
        raise PageError(
            404,
            "unknown_parcel",
            f"No parcel with SSCC {sscc18} is recorded.",
            N_("Unknown parcel"),
            as_json=as_json,
            advice=N_("Nothing was packed into a parcel with this code yet, or the gateway has not indexed it."),
        )
    headers = {"Vary": "Accept", "Cache-Control": "no-cache", "Link": f'<{canonical}>; rel="canonical"'}
    if as_json:
        return JSONResponse(parcel_json(view), headers=headers)
    with i18n.use(page_language(request)):
        page = build_parcel_page(view)
        name_steps(page.steps, get_services(request).names)
        return render(request, "parcel.html", {"page": page}, headers=headers)
