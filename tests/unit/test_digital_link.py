"""GS1 Digital Link paths as the resolver parses them, and content negotiation (moved from
tests/api/test_resolver.py, which serves them through a running gateway)."""

from __future__ import annotations

import pytest

from api.http import qvalues
from returntrace import gs1
from returntrace.digital_link import LinkError, parse_path
from tests.support import GTIN
from tests.views import CHROME, SAFARI

GTIN8 = gs1.with_check_digit("9638507")


def test_parse_path_keeps_the_qualifiers():
    link = parse_path(f"/01/{GTIN8}/22/V%2B1/10/L%2F1/21/S")
    assert (link.gtin, link.cpv, link.lot, link.serial, link.qr) == (GTIN8.zfill(14), "V+1", "L/1", "S", None)
    assert parse_path(f"/01/{GTIN}/21/S/qr.png").qr == "png"
    assert parse_path(f"/01/{GTIN}/21/qr.svg").serial == "qr.svg"  # a serial may be called that
    assert parse_path(f"/01/{GTIN}/21/AB%2F12").canonical_path() == f"/01/{GTIN}/21/AB%2F12"


def test_link_error_carries_status():
    with pytest.raises(LinkError) as exc:
        parse_path(f"/01/{GTIN}")
    assert exc.value.status == 404 and exc.value.code == "no_serial"


@pytest.mark.parametrize(
    "accept, wants_json",
    [
        (None, False),
        ("", False),
        ("*/*", False),
        (CHROME, False),
        (SAFARI, False),
        ("text/html", False),
        ("application/json", True),
        ("application/json, */*", True),
        ("application/json;q=0.9, text/html;q=0.8", True),
        ("text/html;q=0.5, application/json", True),
        ("application/*", True),
        ("application/json;q=0.5, text/html", False),
        ("application/json;q=0, */*", False),
        ("image/png", False),
        ("garbage", False),
        ("application/json;q=x, text/html", False),
        # A weight outside RFC 9110's 0..1, or not a plain decimal, is malformed: q=0, not more than 1.
        ("text/html, application/json;q=2", False),
        ("text/html, application/json;q=1e3", False),
        ("text/html;q=-1, application/json;q=0", False),
        ("text/html;q=nan, application/json;q=0.5", True),
        ("application/json;q=0.500", True),
    ],
)
def test_accept_header_picks_json_or_html(accept, wants_json):
    assert qvalues.prefers_json(accept) is wants_json
