"""The staff's return desk, server-rendered: `/desk/cases` (the organisation's cases with their SLA)
and `/desk/cases/{id}` (the case, its log, and forms for notes, offers, escalation and closing).

No script runs but the sign-in's (static/desk-signin.js, served from here, allowed by a per-response
nonce); the forms post to this origin only, and the session cookie is SameSite=Strict, so another
site cannot post them for a signed-in member of staff; another origin of the same site (another port,
a sibling subdomain) gets the cookie sent, and is refused by the session (auth/session.py, cross_origin).
Signed in, each page shows the account and its role beside a "Sign out" form (pages/signed_in.py: POST
/v1/auth/sign-out ends the session on the gateway and sends the page back, to its sign-in).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from ...chain.parties import Standing
from ...errors import ApiError
from ..auth.session import OptionalStanding
from ..deps import CaseDeskDep
from ..qvalues import names_html
from ..routes.cases import case_view, find_case, staff_case
from . import REFERRER_POLICY, TEMPLATES
from .signed_in import signed_in

router = APIRouter(tags=["desk"], include_in_schema=False)
SCRIPT = Path(__file__).resolve().parent / "static" / "desk-signin.js"


def headers(nonce: str | None = None) -> dict[str, str]:
    script = f"'nonce-{nonce}'" if nonce else "'none'"
    return {
        "Content-Security-Policy": f"default-src 'none'; script-src {script}; connect-src 'self'; "
        "style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": REFERRER_POLICY,
        "Cache-Control": "no-store",
    }


def _time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y, %H:%M UTC")


def _sign_in(request: Request, refused: tuple[Standing, ApiError] | None = None) -> Response:
    """The sign-in page; with `refused` (who is signed in, and why the page is not for them), the same page
    at the refusal's status, saying why, with the way out: a browser otherwise kept an account the desk
    refuses (a buyer's, on a shared PC) for the session's hours, and no staff key could sign in over it."""
    nonce = secrets.token_urlsafe(16)
    context: dict[str, Any] = {"nonce": nonce}
    status = 200
    if refused is not None:
        who, exc = refused
        context |= {"refused": exc.detail, "signed_in": signed_in(request, who.account, None)}
        status = exc.status
    return TEMPLATES.TemplateResponse(request, "desk_signin.html", context, status_code=status, headers=headers(nonce))


def refused_page(request: Request, who: Standing, exc: ApiError) -> Response:
    """A desk page's refusal of a signed-in account: to a browser, the sign-in page with why and the sign-out
    control; to a program (JSON, or `*/*` alone), the refusal itself."""
    if not names_html(request.headers.get("accept")):
        raise exc
    return _sign_in(request, (who, exc))


@router.get("/desk/desk-signin.js")
def script() -> FileResponse:
    return FileResponse(SCRIPT, media_type="text/javascript", headers={"X-Content-Type-Options": "nosniff"})


@router.get("/desk/cases")
def cases_page(request: Request, who: OptionalStanding, desk: CaseDeskDep) -> Response:
    if who is None:
        return _sign_in(request)
    if not who.is_staff:
        refusal = ApiError(
            403, "not_staff", "the desk is for staff of a merchant's organisation (MERCHANT_STAFF or brand)"
        )
        return refused_page(request, who, refusal)
    cases = desk.record_disputes(desk.store.of_organization(who.organization))
    views = [case_view(desk, c, "staff") for c in cases]
    for v in views:
        v["due"] = _time(v["sla"]["dueAt"])
    context = {
        "cases": views,
        "organization": who.organization,
        "block": who.block,
        "signed_in": signed_in(request, who.account, "staff"),
    }
    return TEMPLATES.TemplateResponse(request, "desk_cases.html", context, headers=headers())


@router.get("/desk/cases/{case_id}")
def case_page(case_id: int, request: Request, who: OptionalStanding, desk: CaseDeskDep) -> Response:
    if who is None:
        return _sign_in(request)
    try:
        case, role = find_case(desk, case_id, who)
        if role == "buyer":  # the buyer follows their case in their own flow, not on the staff's desk
            raise ApiError(403, "not_staff", "the desk is for staff of the case's organisation and auditors")
    except ApiError as exc:
        if exc.status != 403:
            raise
        return refused_page(request, who, exc)
    view = case_view(desk, case, role)
    context: dict[str, Any] = {"c": view, "due": _time(case.due_at), "signed_in": signed_in(request, who.account, role)}
    if view["mediation"]:
        context["decide_by"] = _time(view["mediation"]["decideBy"])
    return TEMPLATES.TemplateResponse(request, "desk_case.html", context, headers=headers())


def _back(case_id: int) -> RedirectResponse:
    return RedirectResponse(f"/desk/cases/{case_id}", status_code=303)


def _staff(who: OptionalStanding) -> Any:
    if who is None:
        raise ApiError(401, "not_signed_in", "sign in first")
    return who


@router.post("/desk/cases/{case_id}/notes")
def note_form(case_id: int, who: OptionalStanding, desk: CaseDeskDep, text: str = Form(max_length=4000)) -> Response:
    who = _staff(who)
    desk.note(staff_case(desk, case_id, who), who.account, text)
    return _back(case_id)


@router.post("/desk/cases/{case_id}/offer")
def offer_form(case_id: int, who: OptionalStanding, desk: CaseDeskDep, kind: str = Form(max_length=60)) -> Response:
    who = _staff(who)
    desk.offer(staff_case(desk, case_id, who), who.account, {"kind": kind})
    return _back(case_id)


@router.post("/desk/cases/{case_id}/escalate")
def escalate_form(case_id: int, who: OptionalStanding, desk: CaseDeskDep) -> Response:
    who = _staff(who)
    desk.escalate(staff_case(desk, case_id, who), who.account)
    return _back(case_id)


@router.post("/desk/cases/{case_id}/close")
def close_form(case_id: int, who: OptionalStanding, desk: CaseDeskDep, outcome: str = Form(max_length=200)) -> Response:
    who = _staff(who)
    desk.close(staff_case(desk, case_id, who), who.account, outcome)
    return _back(case_id)
