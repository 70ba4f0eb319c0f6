"""Quality-value lists: the `Accept` and `Accept-Language` headers' `item;q=0.8, item` (RFC 9110 12.4.2).

One parser for both negotiations the gateway does: the resolver's page-or-JSON choice
(routes/resolver.py) and the pages' language (pages/i18n.py).
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
