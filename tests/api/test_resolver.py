"""The GS1 Digital Link resolver: URL forms, GTIN normalisation, JSON or HTML, 400/404, QR codes.

The unit data comes from UnitView objects built by tests/views.py (the indexer's `unit_view` is swapped out
through the route's dependency), so these tests pin what the page and the JSON say for a given
view; test_consumer_page_browser.py runs the real thing end to end.
"""

from __future__ import annotations

import re
import struct
import zlib
from html import unescape
from urllib.parse import quote

import pytest
import segno

from api.http.auth.session import optional_account
from api.http.routes import resolver
from api.read.views import UnitView
from returntrace import gs1
from tests.api.people import buyer_page
from tests.api.test_responses import served_in_both_namings
from tests.support import GTIN
from tests.views import CHROME, CID, RETURNED_LABELS, returned_view, text_of

GTIN13 = GTIN[1:]  # 9506000134352
GTIN12 = gs1.with_check_digit("61414100003")
GTIN8 = gs1.with_check_digit("9638507")


class FakeIndex:
    """Stands in for api.read.unit_views.unit_view; records what the resolver asked for."""

    def __init__(self, *views: UnitView) -> None:
        self.views = {(v.gtin, v.serial): v for v in views}
        self.calls: list[tuple[str, str]] = []

    def __call__(self, state, gtin14: str, serial: str) -> UnitView | None:
        self.calls.append((gtin14, serial))
        return self.views.get((gtin14, serial))


@pytest.fixture
def index(gateway):
    fake = FakeIndex(returned_view(), returned_view(serial="AB/12"), returned_view(serial="UNVERIFIED", verified=False))
    buyer = gateway.actors["buyer"].address

    def the_buyer_signed_in(request, services, view) -> bool:
        """Stands in for the chain's order, which hand-built views do not have: theirs is `buyer`'s."""
        account = optional_account(request, services)
        return account is not None and account.account == buyer

    gateway.app.dependency_overrides[resolver.get_unit_view] = lambda: fake
    gateway.app.dependency_overrides[resolver.get_party_check] = lambda: the_buyer_signed_in
    yield fake
    gateway.app.dependency_overrides.pop(resolver.get_unit_view, None)
    gateway.app.dependency_overrides.pop(resolver.get_party_check, None)


def get(gateway, path, accept="text/html", **kw):
    return gateway.client.get(path, headers={"accept": accept} if accept else {}, **kw)


# --- URL forms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/01/{GTIN}/21/SN-0001",
        f"/01/{GTIN}/10/LOT-42/21/SN-0001",
        f"/01/{GTIN}/22/BLUE/21/SN-0001",
        f"/01/{GTIN}/22/BLUE/10/LOT-42/21/SN-0001",
        f"/01/{GTIN}/21/SN-0001/",
        f"/01/{GTIN}/21/SN-0001?linkType=gs1:pip",
        f"/01/{GTIN}/10/LOT-42/21/SN-0001?17=261231&linkType=all&context=x",
        f"/gtin/{GTIN}/lot/LOT-42/ser/SN-0001",  # Digital Link 1.1 alphabetic codes
        f"/01/{GTIN13}/21/SN-0001",
        f"/01/{GTIN}/21/SN%2D0001",  # percent-encoded where no encoding was needed
    ],
)
def test_every_form_of_the_link_resolves_to_the_unit(gateway, index, path):
    r = get(gateway, path, accept="application/json")
    assert r.status_code == 200, r.text
    assert (r.json()["gtin"], r.json()["serial"]) == (GTIN, "SN-0001")
    assert index.calls == [(GTIN, "SN-0001")]


@pytest.mark.parametrize("short", [GTIN13, GTIN12, GTIN8, int(GTIN)])
def test_gtin_8_12_13_are_looked_up_as_gtin_14(gateway, index, short):
    get(gateway, f"/01/{short}/21/SN-0001", accept="application/json")
    assert index.calls == [(str(short).zfill(14), "SN-0001")]
    assert len(index.calls[0][0]) == 14


def test_percent_encoded_serial_with_a_slash(gateway, index):
    r = get(gateway, f"/01/{GTIN}/21/AB%2F12", accept="application/json")
    assert r.status_code == 200 and r.json()["serial"] == "AB/12"
    assert index.calls == [(GTIN, "AB/12")]
    assert get(gateway, f"/01/{GTIN}/21/AB%2f12").status_code == 200  # lower-case hex too


# --- 400 and 404 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, code, reason",
    [
        ("/01/09506000134353/21/SN-0001", "invalid_gtin", "wrong check digit (expected 2)"),
        ("/01/9506000134353/21/SN-0001", "invalid_gtin", "wrong check digit"),
        ("/01/950600013435/21/SN-0001", "invalid_gtin", "wrong check digit"),
        ("/01/12345/21/SN-0001", "invalid_gtin", "8, 12, 13 or 14 digits"),
        ("/01/0950600013435X/21/SN-0001", "invalid_gtin", "8, 12, 13 or 14 digits"),
        ("/01/%EF%BC%90950600013435/21/SN-0001", "invalid_gtin", "8, 12, 13 or 14 digits"),  # full-width digit
        (f"/01/{GTIN}/21/has%20space", "invalid_serial", "character set 82"),
        (f"/01/{GTIN}/21/caf%C3%A9", "invalid_serial", "character set 82"),
        (f"/01/{GTIN}/21/" + "X" * 21, "invalid_serial", "1-20 characters"),
        (f"/01/{GTIN}/21/%FF", "invalid_link", "UTF-8"),
        (f"/01/{GTIN}/21/SN-0001/10/LOT", "invalid_link", "order 22, 10, 21"),
        (f"/01/{GTIN}/10/LOT/22/BLUE/21/SN-0001", "invalid_link", "order 22, 10, 21"),
        (f"/01/{GTIN}/21/A/21/B", "invalid_link", "order 22, 10, 21"),
        (f"/01/{GTIN}/17/261231/21/SN-0001", "invalid_link", "not a GTIN key qualifier"),
        (f"/01/{GTIN}/10/" + "L" * 21 + "/21/SN-0001", "invalid_link", "1-20 characters"),
        (f"/01/{GTIN}/21", "invalid_link", "no value"),
        (f"/01/{GTIN}/21//", "invalid_link", "empty"),
        ("/01/", "invalid_gtin", "no GTIN"),
    ],
)
def test_invalid_links_are_400_with_the_reason(gateway, index, path, code, reason):
    r = get(gateway, path, accept="application/json")
    assert r.status_code == 400, r.text
    assert r.json()["error"] == code and reason in r.json()["detail"], r.json()
    page = get(gateway, path)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "This code is not valid" in page.text and reason in unescape(page.text)
    assert index.calls == []


@pytest.mark.parametrize("path", [f"/01/{GTIN}", f"/01/{GTIN}/10/LOT-42", f"/01/{GTIN}/22/BLUE"])
def test_a_product_link_without_a_serial_is_the_products_return_policy(gateway, index, path):
    """Was a 404 `no_serial`: a GTIN without a serial names the product, whose page is its return policy
    (tests/api/test_product_page.py checks what it says); no unit is looked up."""
    r = get(gateway, path, accept="application/json")
    assert r.status_code == 200 and r.json()["gtin"] == GTIN
    page = get(gateway, path)
    assert page.status_code == 200 and "Return policy" in page.text
    assert index.calls == []


def test_unknown_unit_is_a_404_page_and_404_json(gateway, index):
    page = get(gateway, f"/01/{GTIN}/21/NOPE-1")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    text = text_of(page.text)
    assert "Unknown product unit" in text and "NOPE-1" in text and GTIN in text
    r = get(gateway, f"/01/{GTIN}/21/NOPE-1", accept="application/json")
    assert r.status_code == 404
    assert r.json() == {
        "error": "unknown_unit",
        "detail": f"No unit with GTIN {GTIN} and serial NOPE-1 is recorded.",
        "gtin": GTIN,
        "serial": "NOPE-1",
    }


def test_a_real_unit_from_the_index(gateway):
    from tests.api.indexing import journey

    journey(gateway, ["REAL-1"])
    path = f"/01/{GTIN13}/21/REAL-1"
    assert "not indexed yet" in text_of(get(gateway, path).text)  # on-chain, the indexer not run yet: said plainly
    gateway.services.indexer.index_once()
    view = get(gateway, path, accept="application/json").json()
    assert view["verification"]["verified"] is True and view["gtin"] == GTIN
    text = text_of(get(gateway, path).text)
    assert f"Verified on-chain at block {view['verification']['block']:,}" in text
    assert [step in text for step in ("Made", "Shipped", "Departed", "Cleared customs", "Delivered")] == [True] * 5
    assert get(gateway, f"/01/{GTIN}/21/REAL-2", accept="application/json").status_code == 404


# --- content negotiation ----------------------------------------------------------------------


def test_json_is_the_unit_view(gateway, index):
    r = get(gateway, f"/01/{GTIN}/21/SN-0001", accept="application/json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    served_in_both_namings(r.json(), returned_view())  # camelCase, and the deprecated snake_case names
    assert r.headers["vary"] == "Accept"
    assert r.headers["link"] == f'<http://127.0.0.1:8000/01/{GTIN}/21/SN-0001>; rel="canonical"'


def test_browsers_get_the_page(gateway, index):
    for accept in (CHROME, "*/*", None):
        r = get(gateway, f"/01/{GTIN}/21/SN-0001", accept=accept)
        assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8", accept
        assert r.headers["vary"] == "Accept, Accept-Language"  # the page speaks the browser's language
    assert gateway.client.head(f"/01/{GTIN}/21/SN-0001").status_code == 200


# --- the page ---------------------------------------------------------------------------------


def test_page_shows_product_banner_timeline_and_return(gateway, index):
    html = buyer_page(gateway, f"/01/{GTIN}/21/SN-0001").text
    text = text_of(html)
    assert "GTIN 09506000134352" in text and "Serial SN-0001" in text and "0xaaaa…aaaa" in text
    assert "Verified on-chain at block 120" in text
    labels = re.findall(r"<h3>(.*?)</h3>", html)
    assert labels == RETURNED_LABELS
    assert "Grade B — opened but unused" in text
    assert f'href="/v1/evidence/{CID}"' in html
    assert "Found: Packaging intact" in text and "Condition: not as new" in text
    assert "Donated 9 May 2026, 09:20 UTC Received by charity" in text
    assert (
        "Refunded 8 May 2026, 09:20 UTC 0.80 ETH back to the buyer The unit goes to: a local charity (donated)" in text
    )
    assert "Reason: No longer needed" in text
    # the return status
    assert "Order #7 (EU)" in text and "Status Settled" in text
    assert "Decided by The brand's EU return policy, grade B terms" in text
    assert "Refund 0.80 ETH" in text and "0.80 ETH back to the buyer" in text
    assert "Paid 1.05 ETH (delivery 0.05 ETH)" in text
    assert "Where the unit goes A local charity (donated)" in text


def test_page_is_self_contained_mobile_and_accessible(gateway, index):
    r = get(gateway, f"/01/{GTIN}/21/SN-0001")
    html = r.text
    assert html.startswith("<!doctype html>") and '<html lang="en">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<script" not in html.lower()
    external = [u for u in re.findall(r'(?:src|href)="([^"]+)"', html) if not u.startswith(("/", "?lang="))]
    assert external == [f"http://127.0.0.1:8000/01/{GTIN}/21/SN-0001"]  # only the canonical link, no CDN
    assert len(re.findall(r"<h1\b", html)) == 1 and "<h2" in html and "<h3" in html
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_unverified_unit_says_so_plainly(gateway, index):
    text = text_of(get(gateway, f"/01/{GTIN}/21/UNVERIFIED").text)
    assert "Not verified: the rebuilt history does not match the on-chain record" in text
    assert "Verified on-chain" not in text


def test_amounts_in_a_token_use_its_symbol_and_decimals(gateway, index, token):
    view = returned_view(serial="TOKEN-1", currency=token.address)
    view.return_status.price, view.return_status.delivery_fee = "25000000", "4990000"
    view.return_status.settlement.refund = "20000000"
    index.views[(GTIN, "TOKEN-1")] = view
    text = text_of(buyer_page(gateway, f"/01/{GTIN}/21/TOKEN-1").text)  # symbol and decimals read from the chain
    assert "Refund 20.00 tUSD" in text and "Paid 29.99 tUSD (delivery 4.99 tUSD)" in text


def test_user_data_is_escaped(gateway, index):
    view = returned_view(serial="X<b>1")
    view.timeline[0].label = "<script>alert(1)</script>"
    index.views[(GTIN, "X<b>1")] = view
    html = get(gateway, f"/01/{GTIN}/21/{quote('X<b>1', safe='')}").text
    assert "<script>" not in html and "&lt;script&gt;" in html and "X&lt;b&gt;1" in html


# --- QR codes ---------------------------------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, list[list[int]]]:
    """A small PNG decoder (greyscale or palette, 1-8 bits, no interlace): (width, height, grey rows)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, palette = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert color in (0, 3) and interlace == 0, (color, interlace)
        elif kind == b"PLTE":
            palette = [chunk[i] for i in range(0, len(chunk), 3)]  # red channel: black or white
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = (width * depth + 7) // 8
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1 : i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - 1] if x else 0
            b, c = prev[x], prev[x - 1] if x else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        per_byte = 8 // depth
        values = [(line[x // per_byte] >> (8 - depth * (x % per_byte + 1))) & ((1 << depth) - 1) for x in range(width)]
        rows.append([palette[v] if palette else v * 255 // ((1 << depth) - 1) for v in values])
        prev = line
    return width, height, rows


def modules_of_png(data: bytes) -> list[list[bool]]:
    """The dark/light modules of a QR code PNG with a 4-module quiet zone, sampled at module centres."""
    width, height, rows = png_pixels(data)
    assert width == height
    # the finder pattern starts at the quiet zone: the first dark pixel on the diagonal gives the scale
    first_dark = next(i for i in range(width) if rows[i][i] < 128)
    scale = first_dark // resolver.QR_BORDER
    size = width // scale - 2 * resolver.QR_BORDER
    centre = lambda m: (resolver.QR_BORDER + m) * scale + scale // 2  # noqa: E731
    return [[rows[centre(r)][centre(c)] < 128 for c in range(size)] for r in range(size)]


def expected_modules(uri: str) -> list[list[bool]]:
    code = segno.make_qr(uri, error=resolver.QR_ERROR_LEVEL, boost_error=False)
    return [[bool(v) for v in row] for row in code.matrix]


@pytest.mark.parametrize(
    "path, serial",
    [
        (f"/01/{GTIN}/21/SN-0001", "SN-0001"),
        (f"/01/{GTIN13}/10/LOT-42/21/SN-0001", "SN-0001"),  # the code always carries the canonical link
        (f"/01/{GTIN}/21/AB%2F12", "AB/12"),
    ],
)
def test_qr_png_encodes_the_canonical_digital_link(gateway, path, serial):
    r = gateway.client.get(path + "/qr.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and len(r.content) > 100
    uri = gs1.digital_link(gateway.services.settings.public_url, GTIN, serial)
    assert uri.startswith("http://127.0.0.1:8000/01/09506000134352/21/")
    assert modules_of_png(r.content) == expected_modules(uri)
    assert modules_of_png(r.content) != expected_modules(uri + "0")


def test_qr_svg_encodes_the_canonical_digital_link(gateway):
    r = gateway.client.get(f"/01/{GTIN}/21/AB%2F12/qr.svg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    uri = f"http://127.0.0.1:8000/01/{GTIN}/21/AB%2F12"
    assert f"<title>{uri}</title>" in r.text
    assert r.content == resolver.qr_image(uri, "svg")  # the same matrix segno draws for that URI
    path = re.search(r'<path class="qrline"[^>]* d="([^"]+)"', r.text)
    assert path and path.group(1) != re.search(
        r'd="([^"]+)"', resolver.qr_image(uri + "0", "svg").decode().split("qrline")[1]
    ).group(1)


def test_qr_of_an_invalid_link_is_400(gateway):
    r = gateway.client.get("/01/09506000134353/21/SN-0001/qr.svg", headers={"accept": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_gtin"
    assert gateway.client.get(f"/01/{GTIN}/21/SN-0001/qr.gif").status_code == 400


def test_qr_uses_the_configured_public_url(gateway):
    from dataclasses import replace

    services = gateway.services
    gateway.app.state.services = replace(
        services, settings=services.settings.replace(public_url="https://id.returntrace.example/")
    )
    try:
        r = gateway.client.get(f"/01/{GTIN}/21/SN-0001/qr.png")
    finally:
        gateway.app.state.services = services
    assert modules_of_png(r.content) == expected_modules(f"https://id.returntrace.example/01/{GTIN}/21/SN-0001")
