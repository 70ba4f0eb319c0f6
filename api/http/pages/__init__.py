"""Pages for people: the consumer page's words, GS1 Digital Link paths, their templates and languages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from . import i18n

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
TEMPLATES.env.add_extension("jinja2.ext.i18n")
# The active language of the request (i18n.use): `{{ _("…", name=value) }}` in a template.
TEMPLATES.env.install_gettext_callables(gettext=i18n._, ngettext=i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
TEMPLATES.env.globals["current_language"] = i18n.current  # <html lang>, on every page rendered here

REFERRER_POLICY = "same-origin"
# The pages run no script and load nothing from elsewhere; styles are inline.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri "
    "'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # Nothing to other origins; to this one, the Origin of the pages' own POSTs (a browser writes "null" under
    # no-referrer, and the session's cross-origin rule needs the real one where no Sec-Fetch-Site comes).
    "Referrer-Policy": REFERRER_POLICY,
}


def page_language(request: Request) -> i18n.Language:
    """The language a page speaks: `?lang=` (the page's switch), else the browser's Accept-Language."""
    return i18n.negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page in the current language (i18n.use), with its language switch and the headers every
    translated page carries."""
    lang = i18n.current()
    vary = ", ".join(v for v in ((headers or {}).get("Vary"), "Accept-Language") if v)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {**context, "languages": list(i18n.LANGUAGES.values())},
        status_code=status_code,
        # A page with its own policy (the return flow's script nonce) passes it in `headers`.
        headers={**HTML_HEADERS, **(headers or {}), "Vary": vary, "Content-Language": lang.tag},
    )
