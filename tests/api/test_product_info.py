"""Names instead of numbers: the brand's signed ProductInfo and the accreditor's OrganizationName
(returntrace/documents.py) shown on the product and unit pages in the page's language, each with its
proof one tap away; product information that is unsigned, forged or signed by anyone but the GTIN's
brand is refused."""

from __future__ import annotations

import re

import pytest
from eth_utils import keccak

from returntrace.escrow import Facts, Grade
from scripts import deploy
from tests.api.test_return_options import _serial_of
from tests.support import GTIN, GTIN_INT, MARKET_EU
from tests.views import text_of

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def accreditor(deployment, admin) -> deploy.Signer:
    signer = deploy.test_signer("pages-accreditor", 0, "401234500099")
    deployment.registry.grantRole(keccak(text="ACCREDITOR_ROLE"), signer.address, {"from": admin})
    return signer


def upload(gateway, content: bytes, content_type: str) -> str:
    r = gateway.client.post("/v1/evidence", content=content, headers={"Content-Type": content_type})
    assert r.status_code in (200, 201), r.text
    return r.json()["cid"]


def product_info(gateway, who="brand", **fields):
    image = upload(gateway, PNG, "image/png")
    manual_de = upload(gateway, b"Anleitung: Gurt vor jeder Fahrt pruefen.", "text/plain")
    manual_en = upload(gateway, b"Instructions: check the harness before every ride.", "text/plain")
    info = {
        "gtin": GTIN_INT,
        "names": [
            {"lang": "en", "text": "Baby bottle 250 ml"},
            {"lang": "de", "text": "Babyflasche 250 ml"},
            {"lang": "zh-Hans", "text": "婴儿奶瓶 250 毫升"},
        ],
        "image": image,
        "size": "250 ml",
        "material": "Polypropylene, silicone teat",
        "ageFromMonths": 0,
        "ageToMonths": 36,
        "instructions": [{"lang": "en", "cid": manual_en}, {"lang": "de", "cid": manual_de}],
        "video": "https://video.example/baby-bottle",
        **fields,
    }
    return gateway.builder.document("ProductInfo", who, **info)


def name(gateway, accreditor, gln: int, text: str):
    body = gateway.builder.document("OrganizationName", accreditor, organization=gln, name=text, country="DE")
    r = gateway.post("/v1/documents/OrganizationName", body)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_brand_signs_its_product_info_and_the_pages_show_it_in_their_language(gateway):
    r = gateway.post("/v1/documents/ProductInfo", product_info(gateway))
    assert r.status_code == 201, r.text
    doc = r.json()
    proof = f'href="/v1/documents/by-id/{doc["id"]}"'
    block = f"{doc['checkedAt']['number']:,}"

    html = gateway.client.get(f"/01/{GTIN}", headers={"accept": "text/html", "accept-language": "de"}).text
    text = text_of(html)
    assert "Name Babyflasche 250 ml" in text and "Größe 250 ml" in text
    assert "Material Polypropylene, silicone teat" in text and "Alter 0 Monate bis 3 Jahre" in text
    assert proof in html and f"Nachweis · Block {block}" in text
    assert f'src="/v1/evidence/{doc["message"]["image"]}"' in html
    # the instructions in the page's language first, each language named in it
    manuals = re.findall(r'<a href="/v1/evidence/(\w+)" hreflang="([\w-]+)">([^<]+)</a>', html)
    assert [(tag, label) for _, tag, label in manuals] == [
        ("de", "Anleitung auf Deutsch"),
        ("en", "Anleitung auf Englisch"),
    ]
    assert 'href="https://video.example/baby-bottle"' in html

    zh = text_of(gateway.client.get(f"/01/{GTIN}?lang=zh", headers={"accept": "text/html"}).text)
    assert "婴儿奶瓶 250 毫升" in zh
    es = text_of(gateway.client.get(f"/01/{GTIN}?lang=es", headers={"accept": "text/html"}).text)
    assert "Baby bottle 250 ml" in es  # no Spanish name: English, the brand's fallback
    fr = gateway.client.get(f"/01/{GTIN}?lang=fr", headers={"accept": "text/html"}).text
    assert '<dd lang="en">Baby bottle 250 ml</dd>' in fr  # the name keeps its own language for screen readers


def test_pages_name_the_brand_the_actors_and_the_locations_with_proof(gateway, shop, accreditor, actors):
    brand = name(gateway, accreditor, actors["brand"].gln, "Kinderhaus GmbH")
    carrier = name(gateway, accreditor, actors["carrier"].gln, "Blitz Logistik AG")
    warehouse = name(gateway, accreditor, actors["warehouse"].gln, "Rücknahme Nord GmbH")
    deploy.accredit_return_center(gateway.d, "warehouse", 1 << MARKET_EU)
    order = shop.buy(market=MARKET_EU)
    shop.deliver(order)
    shop.request_return(order)
    shop.receive(order)
    shop.inspect(order, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    gateway.services.indexer.index_once()

    html = gateway.client.get(f"/01/{GTIN}/21/{_serial_of(gateway, shop.unit(order))}").text
    text = text_of(html)
    assert f"Brand Kinderhaus GmbH proof · block {brand['checkedAt']['number']:,}" in text
    assert "0xa59a…A801" not in text  # the brand's address is no longer what a reader sees
    assert f"By Blitz Logistik AG proof · block {carrier['checkedAt']['number']:,} (carrier)" in text
    for doc in (brand, carrier, warehouse):
        assert f'href="/v1/documents/by-id/{doc["id"]}"' in html
    assert f'title="GLN {actors["warehouse"].gln}"' in html  # the number one hover away
    eu = text_of(re.search(r'id="market-EU".*?</section>', html, flags=re.S).group(0))
    assert "Accredited return centre: Rücknahme Nord GmbH" in eu

    product = text_of(gateway.client.get(f"/01/{GTIN}").text)
    assert "Brand Kinderhaus GmbH" in product and "Accredited return centre: Rücknahme Nord GmbH" in product


@pytest.mark.parametrize(
    ("who", "change", "status", "code"),
    [
        ("brand2", {}, 403, "not_brand_of_product"),  # a brand, but not this GTIN's
        ("carrier", {}, 403, "not_authorised"),  # not a brand at all
        ("brand", {"video": "http://video.example/x"}, 422, "invalid_document"),
        ("brand", {"image": "not-a-cid"}, 422, "invalid_document"),
        ("brand", {"names": []}, 422, "invalid_document"),
        ("brand", {"names": [{"lang": "Deutsch", "text": "Flasche"}]}, 422, "invalid_document"),
        ("brand", {"ageFromMonths": 36, "ageToMonths": 12}, 422, "invalid_document"),
        ("brand", {"gtin": int("09506000999996")}, 404, "unknown_product"),
    ],
)
def test_product_info_is_refused_unless_its_brand_signed_it_right(gateway, who, change, status, code):
    before = gateway.client.get("/v1/documents/ProductInfo", params={"gtin": GTIN_INT}).json()
    r = gateway.post("/v1/documents/ProductInfo", product_info(gateway, who, **change))
    assert (r.status_code, r.json()["error"]) == (status, code), r.text
    assert gateway.client.get("/v1/documents/ProductInfo", params={"gtin": GTIN_INT}).json() == before  # none stored


def test_forged_or_unsigned_product_info_is_refused(gateway):
    body = product_info(gateway)
    forged = {**body, "message": {**body["message"], "material": "Glass"}}  # changed after the brand signed
    r = gateway.post("/v1/documents/ProductInfo", forged)
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature"
    r = gateway.post("/v1/documents/ProductInfo", {"message": body["message"], "signature": "0x" + "00" * 65})
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature"
    r = gateway.post("/v1/documents/ProductInfo", {"message": body["message"]})
    assert r.status_code == 422
    assert "Glass" not in text_of(gateway.client.get(f"/01/{GTIN}").text)
