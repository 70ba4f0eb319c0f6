"""Integers at the edges of their types: auditor queries, path parameters and forged cursors with
numbers SQLite's INTEGER cannot hold (400 out_of_range, never 500)."""

from __future__ import annotations

import base64

import pytest

from api.db.index import EventFilter
from api.routes.audit import _fingerprint

HUGE = [2**63, 2**64, 10**30]


# ---------------------------------------------------------------------------------------------
# query and path parameters, cursors: 400 out_of_range


def _out_of_range(r) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "out_of_range", r.text


@pytest.mark.parametrize("param", ["fromBlock", "toBlock", "from", "to", "limit"])
def test_audit_numbers_the_store_cannot_hold_are_400_out_of_range(gateway, param):
    for value in HUGE:
        for path in ("/v1/audit/events", "/v1/audit/epcis"):
            _out_of_range(gateway.client.get(path, params={param: str(value)}))


def _answer(r) -> tuple[int, str | None]:
    return r.status_code, r.json().get("error")


def test_times_below_the_store_and_at_the_ends_of_datetime(gateway):
    for path in ("/v1/audit/events", "/v1/audit/epcis"):
        for param in ("from", "to"):
            for text in (str(-(2**63) - 1), "1" * 5000, "-" + "9" * 5000):
                _out_of_range(gateway.client.get(path, params={param: text}))
            for text in (str(-(2**63)), str(2**63 - 1), "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
                assert gateway.client.get(path, params={param: text}).status_code == 200, text
            # Not numbers: "²".isdigit() is True, but int() refuses it.
            for text in ("99999-01-01", "²", "--5", "٣"):
                assert _answer(gateway.client.get(path, params={param: text})) == (400, "invalid_time"), text


def test_biz_steps_that_are_not_ascii_numbers_or_too_large_are_400(gateway):
    for path in ("/v1/audit/events", "/v1/audit/epcis"):
        for text in ("²", "٣", "1" * 5000):
            assert _answer(gateway.client.get(path, params={"bizStep": text}))[0] == 400, text
        assert _answer(gateway.client.get(path, params={"bizStep": "1" * 5000})) == (400, "out_of_range")
        assert _answer(gateway.client.get(path, params={"bizStep": "²"})) == (400, "invalid_biz_step")


def test_order_ids_the_store_cannot_hold_are_400_out_of_range(gateway):
    for value in HUGE:
        _out_of_range(gateway.client.post(f"/v1/orders/{value}/release-refund-on-receipt"))
    r = gateway.client.post("/v1/orders/0/release-refund-on-receipt")
    assert (r.status_code, r.json()["error"]) == (400, "invalid_order"), r.text


def test_a_forged_cursor_with_huge_numbers_is_400(gateway):
    f = EventFilter(block_from=1)
    for block, log_index in [(2**63, 0), (0, 2**63), (10**30, 10**30), (-(2**63) - 1, 0)]:
        cursor = base64.urlsafe_b64encode(f"{block}.{log_index}.{_fingerprint(f)}".encode()).decode().rstrip("=")
        for path in ("/v1/audit/events", "/v1/audit/epcis"):
            _out_of_range(gateway.client.get(path, params={"fromBlock": 1, "cursor": cursor}))
    # The same forgery with numbers in range is a valid position: the page after it (empty here).
    cursor = base64.urlsafe_b64encode(f"{2**63 - 1}.0.{_fingerprint(f)}".encode()).decode().rstrip("=")
    r = gateway.client.get("/v1/audit/events", params={"fromBlock": 1, "cursor": cursor})
    assert r.status_code == 200 and r.json()["events"] == [], r.text
