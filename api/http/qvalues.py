"""Quality-value lists: the `Accept` and `Accept-Language` headers' `item;q=0.8, item` (RFC 9110 12.4.2).

One parser for both negotiations the gateway does: page or JSON (`prefers_json` for routes that serve
people a page by default, the resolver's; `names_html` for those that answer JSON unless a browser asks
for a page, the customs evidence's and the desk's refusals) and the pages' language (pages/i18n.py).
"""

from __future__ import annotations

import re

# RFC 9110's qvalue is 0..1 with at most three decimals; more decimals are tolerated, but not what
# float() would also read (1e3, inf, nan, -1, 1_0): each of those is malformed.
_WEIGHT = re.compile(r"[0-9]+(\.[0-9]*)?")


def quality_values(header: str | None) -> list[tuple[str, float]]:
    """The items of a quality-value list, lower-cased, with their weights, in the client's order.

    No weight is q=1; a malformed one, or one above 1, counts as q=0 ("not acceptable"); the last `q`
    parameter of an item wins, other parameters are ignored. Empty items are left out; what each
    caller accepts beyond that (a media range's slash) is its own business."""
    items: list[tuple[str, float]] = []
    for part in (header or "").split(","):
        item, *params = [p.strip() for p in part.split(";")]
        if not item:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                weight = value.strip()
                q = float(weight) if _WEIGHT.fullmatch(weight) and float(weight) <= 1 else 0.0
        items.append((item.lower(), q))
    return items


def prefers_json(accept: str | None) -> bool:
    """True when the Accept header ranks application/json above text/html.

    Browsers and QR scanner apps (text/html or */*) get the page; an equal rank goes to the type the
    client named explicitly over one it only matched through a wildcard; no Accept at all: the page."""
    if not accept:
        return False
    best: dict[str, tuple[float, int]] = {"json": (0.0, -1), "html": (0.0, -1)}
    targets = {"json": ("application", "json"), "html": ("text", "html")}
    for media, q in quality_values(accept):
        if "/" not in media:
            continue
        typ, _, sub = media.partition("/")
        for name, (t, s) in targets.items():
            if (name == "html" and (typ, sub) == ("application", "xhtml+xml")) or (typ, sub) == (t, s):
                spec = 2
            elif typ == t and sub == "*":
                spec = 1
            elif (typ, sub) == ("*", "*"):
                spec = 0
            else:
                continue
            if spec > best[name][1]:  # the most specific range decides a type's q (RFC 9110 12.5.1)
                best[name] = (q, spec)
    (qj, sj), (qh, sh) = best["json"], best["html"]
    return qj > qh or (qj == qh and qj > 0 and sj > sh)


def names_html(accept: str | None) -> bool:
    """True when the client names HTML and ranks it above JSON (a browser): for routes whose answer is JSON
    unless a person's browser asks for a page (`*/*` alone, as programs send, keeps the JSON)."""
    return bool(accept) and "html" in (accept or "") and not prefers_json(accept)
