"""The buyer's return flow page: its own route with a nonce-based policy for its one vendored
script, linked from the unit page, which stays script-free. (The flow itself, in a browser:
tests/api/test_return_flow_browser.py.)"""

from __future__ import annotations

import html
import json
import re

from api.http.pages import i18n
from api.http.pages.return_flow_text import CODE_TEXT, FLOW_TEXT
from api.http.pages.signed_in import ROLE_TEXT
from tests.api.test_assistant_api import sold
from tests.support import GTIN, MARKET_EU


def _nonce(csp: str) -> str:
    found = re.search(r"script-src 'nonce-([A-Za-z0-9_-]+)'", csp)
    assert found, csp
    return found.group(1)


def test_the_unit_page_links_to_the_flow_and_runs_no_script(gateway, shop):
    _, unit = sold(shop, MARKET_EU)
    gateway.services.indexer.index_once()
    r = gateway.client.get(f"/01/{GTIN}/21/{unit['serial']}")
    assert r.status_code == 200
    assert f'href="/return/{GTIN}/{unit["serial"]}">Return or exchange</a>' in r.text
    assert "<script" not in r.text.lower() and "script-src" not in r.headers["content-security-policy"]


def test_the_flow_page_runs_only_its_own_script_by_a_fresh_nonce(gateway, shop):
    _, unit = sold(shop, MARKET_EU)
    first = gateway.client.get(f"/return/{GTIN}/{unit['serial']}")
    assert first.status_code == 200, first.text
    csp = first.headers["content-security-policy"]
    nonce = _nonce(csp)
    assert "connect-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-eval" not in csp
    scripts = re.findall(r"<script[^>]*>", first.text)
    assert scripts == [
        f'<script nonce="{nonce}" src="/assets/wallet.js" defer>',  # the pieces shared with the station
        f'<script nonce="{nonce}" src="/assets/return-flow.js" defer>',
    ]
    assert first.headers["cache-control"] == "no-store"
    again = gateway.client.get(f"/return/{GTIN}/{unit['serial']}")
    assert _nonce(again.headers["content-security-policy"]) != nonce
    # The automated-assistant notice and the EU model withdrawal form are on the page; no amount is.
    assert "automated assistant" in first.text and "Article 50" in first.text
    assert "hereby give notice that I/We (*) withdraw from my/our (*) contract of sale" in first.text
    assert "ETH" not in first.text


def test_the_script_is_served_from_the_gateway(gateway):
    served = [gateway.client.get(path) for path in ("/assets/wallet.js", "/assets/return-flow.js")]
    for r in served:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
        assert "innerHTML" not in r.text and "http" not in r.text.replace("https://", "")  # no markup, no other origin
    text = "".join(r.text for r in served)
    for call in ("eth_requestAccounts", "eth_signTypedData_v4", "/v1/assistant/assess", "/v1/messages/"):
        assert call in text


def test_an_unknown_or_malformed_unit_has_no_flow(gateway):
    r = gateway.client.get(f"/return/{GTIN}/NEVER-MADE")
    assert r.status_code == 404 and "Unknown product unit" in r.text
    assert gateway.client.get("/return/123/ABC").status_code == 400


def _flow_text(page: str) -> dict[str, str]:
    """The script's words as the page hands them over (JSON in the root element's data-text)."""
    found = re.search(r"<div id=\"return-flow\"[^>]* data-text='([^']*)'>", page)
    assert found, page
    return json.loads(html.unescape(found.group(1)))


def test_the_flow_page_and_its_script_speak_the_buyers_language(gateway, shop):
    _, unit = sold(shop, MARKET_EU)
    url = f"/return/{GTIN}/{unit['serial']}"
    r = gateway.client.get(url, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert r.status_code == 200 and r.headers["content-language"] == "de" and "Accept-Language" in r.headers["vary"]
    assert '<html lang="de">' in r.text and 'id="languages"' in r.text and 'href="?lang=fr"' in r.text
    assert "<h1>Zurückgeben oder umtauschen</h1>" in r.text and "Wallet verbinden" in r.text
    assert "automatisierten Assistenten" in r.text and "Artikel 50" in r.text  # the AI Act notice, translated
    assert "script-src 'nonce-" in r.headers["content-security-policy"]  # the flow's own policy, not the pages'
    words = _flow_text(r.text)
    assert words.keys() == FLOW_TEXT.keys() | CODE_TEXT.keys() | ROLE_TEXT.keys()  # role.*: the signed-in bar's
    assert words["reading"] == "Wird gelesen…" and words["confirmed"] == "In der Blockchain gespeichert. Block {block}."
    with i18n.use(i18n.LANGUAGES["de"]):
        assert words == {key: i18n._(text) for key, text in (FLOW_TEXT | CODE_TEXT | ROLE_TEXT).items()}
    # The codes the gateway answers with are read in words, not as codes: the nine reasons, the on-chain one.
    assert words["reason.size_fit"] != CODE_TEXT["reason.size_fit"] and "size" not in words["reason.size_fit"]
    assert words["onchain.no_longer_needed"] != CODE_TEXT["onchain.no_longer_needed"]
    # The EU model withdrawal form in the Directive's German version, not the English one.
    assert "Muster-Widerrufsformular" in r.text and "Hiermit widerrufe(n) ich/wir (*)" in r.text
    assert "hereby give notice" not in r.text and '<pre class="card form" lang="de">' in r.text
    # The switch wins over Accept-Language; English is the source text.
    french = gateway.client.get(f"{url}?lang=fr", headers={"Accept-Language": "de"})
    assert _flow_text(french.text)["choose"] == "Choisir"
    assert "Modèle de formulaire de rétractation" in french.text
    assert _flow_text(gateway.client.get(url).text) == FLOW_TEXT | CODE_TEXT | ROLE_TEXT
    # Chinese is not an EU language: the form is the Directive's English text, and the page says so.
    chinese = gateway.client.get(f"{url}?lang=zh")
    assert '<pre class="card form" lang="en">' in chinese.text and "hereby give notice" in chinese.text
