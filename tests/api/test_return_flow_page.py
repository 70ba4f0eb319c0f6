"""The buyer's return flow page: its own route with a nonce-based policy for its one vendored
script, linked from the unit page, which stays script-free. (The flow itself, in a browser:
tests/api/test_return_flow_browser.py.)"""

from __future__ import annotations

import re

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
    assert scripts == [f'<script nonce="{nonce}" src="/assets/return-flow.js" defer>']
    assert first.headers["cache-control"] == "no-store"
    again = gateway.client.get(f"/return/{GTIN}/{unit['serial']}")
    assert _nonce(again.headers["content-security-policy"]) != nonce
    # The automated-assistant notice and the EU model withdrawal form are on the page; no amount is.
    assert "automated assistant" in first.text and "Article 50" in first.text
    assert "hereby give notice that I/We (*) withdraw from my/our (*) contract of sale" in first.text
    assert "ETH" not in first.text


def test_the_script_is_served_from_the_gateway(gateway):
    r = gateway.client.get("/assets/return-flow.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    for call in ("eth_requestAccounts", "eth_signTypedData_v4", "/v1/assistant/assess", "/v1/messages/"):
        assert call in r.text
    assert "innerHTML" not in r.text and "http" not in r.text.replace("https://", "")  # no markup, no other origin


def test_an_unknown_or_malformed_unit_has_no_flow(gateway):
    r = gateway.client.get(f"/return/{GTIN}/NEVER-MADE")
    assert r.status_code == 404 and "Unknown product unit" in r.text
    assert gateway.client.get("/return/123/ABC").status_code == 400
