"""Who is signed in, shown on the pages that use a session, next to their "Sign out" control
(templates/signed_in.html): the account shortened (the whole of it in the title), the role the page
uses, and a plain form that posts to `POST /v1/auth/sign-out` with the page itself as `next`, so the
gateway ends the session (not only the cookie) and shows the page again, signed out. A form, not a
script: the desk's case pages run none, and a form works on every page (`form-action 'self'`).

    context["signed_in"] = signed_in(request, account, "inspector")   # the bar, shown
    context["signed_in"] = sign_out_slot(request)                      # hidden, for a script to show
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ...chain.client import Chain
from ...chain.guard import ChainUnavailable
from ...chain.parties import Standing
from ...errors import ApiError
from ..auth.access import order_party
from ..auth.session import optional_account, optional_standing
from . import HTML_HEADERS
from .consumer_page import short_address
from .i18n import N_, _

# A script-free page's policy (pages HTML_HEADERS) with the one form it then holds: the sign-out, to this gateway.
SIGNED_IN_POLICY = HTML_HEADERS["Content-Security-Policy"].replace("form-action 'none'", "form-action 'self'")

# The role each page acts on, in the words the bar shows.
ROLE_WORDS: dict[str, str] = {
    "staff": N_("staff of the merchant's organisation"),
    "auditor": N_("auditor"),
    "brand": N_("brand"),
    "inspector": N_("inspector"),
    "not_inspector": N_("not an accredited inspector"),
    "buyer": N_("the order's buyer"),
    "merchant": N_("the order's seller"),
    "party": N_("a party to the order"),
    "not_party": N_("not a party to this order"),
}


def here(request: Request) -> str:
    """The page's own path and query as the browser asked for it: where the sign-out form sends it back."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def signed_in(request: Request, account: str, role: str | None) -> dict[str, Any]:
    """The bar for `account` acting as `role` (a key of ROLE_WORDS; None: not known, the account only)."""
    return {
        "account": account,
        "short": short_address(account),
        "role": _(ROLE_WORDS[role]) if role else "",
        "role_key": role or "",
        "next": here(request),
    }


def sign_out_slot(request: Request) -> dict[str, Any]:
    """The bar, hidden: a page whose script signs in without reloading shows it once signed in."""
    return {"account": None, "short": "", "role": "", "role_key": "", "next": here(request)}


# The same, as a page's script reads them (its data-text: "role.<key>"; wallet.js showSignedIn).
ROLE_TEXT: dict[str, str] = {f"role.{key}": text for key, text in ROLE_WORDS.items()}


def role_words() -> dict[str, str]:
    """The role words in the current language, for a page's script (its data-text)."""
    return {key: _(text) for key, text in ROLE_TEXT.items()}


def order_role(chain: Chain, order_id: int, who: Standing) -> str:
    """How `who` stands to the order: "buyer", "merchant" (its merchant side), "auditor" or "not_party"."""
    try:
        order = order_party(chain, order_id, who)
    except ApiError:  # not a party (403) or no such order (404)
        return "not_party"
    if who.account == order.buyer:
        return "buyer"
    return "merchant" if order.is_merchant_side(who) else "auditor"


def page_viewer(request: Request, services: Any) -> tuple[str | None, Standing | None]:
    """The account a page's session cookie (or bearer) signs in, and its standing at the head block; the
    standing None when the node does not answer (the page still shows the account and its sign-out)."""
    account = optional_account(request, services)
    if account is None:
        return None, None
    try:
        return account.account, services.pages.guard.guarded(lambda: optional_standing(account, services))
    except ChainUnavailable:
        return account.account, None
