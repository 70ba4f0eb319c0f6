"""Sign-In with Ethereum on the running gateway (api/http/auth): the nonce and the message it writes,
the session (cookie and bearer), and each refusal — wrong domain, wrong chain, expired, a nonce used
twice or never handed out, a signature by another key — opens nothing."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.http.auth import siwe
from api.http.auth.siwe import Expected
from api.http.limits import client_of
from api.main import create_app
from api.store.buckets import TokenBuckets
from tests.api.people import as_, sign_in, sign_in_answer, signed


def _nonce(client, signer) -> dict:
    return client.get("/v1/auth/nonce", params={"address": signer.address}).json()


def _post(client, text: str, key: bytes):
    answer = client.post("/v1/auth/siwe", json={"message": text, "signature": signed(text, key)})
    client.cookies.clear()
    return answer


def test_a_signed_in_account_has_a_session_with_its_standing_at_a_stated_block(gateway, actors):
    client, brand = gateway.client, actors["brand"]
    nonce = _nonce(client, brand)
    assert (nonce["domain"], nonce["uri"], nonce["chainId"]) == ("127.0.0.1:8000", "http://127.0.0.1:8000", 31337)
    answer = client.post(
        "/v1/auth/siwe", json={"message": nonce["message"], "signature": signed(nonce["message"], brand.key)}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["account"] == brand.address
    cookie = answer.headers["set-cookie"]
    assert "rt_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # http public URL; https turns it on (next test)
    # The cookie alone is a session...
    me = client.get("/v1/auth/session")
    assert me.status_code == 200 and me.json()["account"] == brand.address
    assert me.json()["organization"] == brand.gln and me.json()["staff"] is True
    assert me.json()["block"] == gateway.services.chain.w3.eth.block_number
    # ... and so is the token as a bearer; signing out ends both.
    client.cookies.clear()
    token = answer.json()["token"]
    assert client.get("/v1/auth/session", headers=as_(token)).status_code == 200
    assert client.delete("/v1/auth/session", headers=as_(token)).json() == {"signedOut": True}
    r = client.get("/v1/auth/session", headers=as_(token))
    assert (r.status_code, r.json()["error"]) == (401, "not_signed_in")


def test_signing_out_ends_the_cookies_session_as_well_as_the_bearers(gateway, actors):
    """A client that sends both (a browser session's cookie, an API token as bearer) and signs out is told it
    is signed out and its cookie is deleted: the cookie's session must end too, not stay live on the gateway
    for whoever copied the cookie until RT_SESSION_HOURS."""
    client = gateway.client
    bearer = sign_in(client, actors["brand"])
    cookie = sign_in(client, actors["brand"])
    client.cookies.set("rt_session", cookie)
    r = client.delete("/v1/auth/session", headers=as_(bearer))
    assert r.json() == {"signedOut": True} and 'rt_session=""' in r.headers["set-cookie"]
    client.cookies.clear()
    for token in (bearer, cookie):
        r = client.get("/v1/auth/session", headers=as_(token))
        assert (r.status_code, r.json()["error"]) == (401, "not_signed_in")


def _https_gateway(gateway_settings) -> TestClient:
    settings = gateway_settings.replace(public_url="https://desk.example")
    return TestClient(create_app(settings), base_url="https://desk.example")


def _https_sign_in(client, signer) -> tuple[str, str]:
    nonce = _nonce(client, signer)
    answer = client.post(
        "/v1/auth/siwe", json={"message": nonce["message"], "signature": signed(nonce["message"], signer.key)}
    )
    assert answer.status_code == 200, answer.text
    client.cookies.clear()  # each request below says which cookie it sends
    return answer.json()["token"], answer.headers["set-cookie"]


def test_on_https_the_session_cookie_is_secure_and_host_bound(gateway_settings, actors):
    """On https the cookie is `__Host-rt_session`: Secure, Path=/ and no Domain, so a browser accepts that
    name only from this host over https."""
    with _https_gateway(gateway_settings) as client:
        assert _nonce(client, actors["buyer"])["domain"] == "desk.example"
        token, cookie = _https_sign_in(client, actors["buyer"])
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert cookie.startswith(f"__Host-rt_session={token};")
        assert {"secure", "httponly", "path=/", "samesite=strict"} <= set(attributes)
        assert not any(a.startswith("domain") for a in attributes)
        me = client.get("/v1/auth/session", headers={"cookie": f"__Host-rt_session={token}"})
        assert me.status_code == 200 and me.json()["account"] == actors["buyer"].address


def test_on_https_a_planted_plain_cookie_is_no_session(gateway_settings, actors):
    """The attack: a sibling subdomain, or a plain-http page of the same host, sets `rt_session` in the
    victim's browser to the attacker's own session, so that what the victim then uploads and says lands in
    the attacker's account. On https the gateway reads only the __Host- cookie, which neither can set."""
    with _https_gateway(gateway_settings) as client:
        attackers, _ = _https_sign_in(client, actors["stranger"])
        r = client.get("/v1/auth/session", headers={"cookie": f"rt_session={attackers}"})
        assert (r.status_code, r.json()["error"]) == (401, "not_signed_in")
        r = client.get("/v1/auth/session", headers={"cookie": f"__Host-rt_session={attackers}"})
        assert r.status_code == 200  # the same token under the host-bound name is a session: the name decides


def test_on_https_signing_out_deletes_the_host_bound_cookie_and_a_plain_one(gateway_settings, actors):
    """A __Host- cookie is replaced only by a Set-Cookie that is Secure with Path=/ and no Domain; a plain
    `rt_session` (set by an earlier release, or planted) is deleted and its session ended too."""
    with _https_gateway(gateway_settings) as client:
        mine, _ = _https_sign_in(client, actors["buyer"])
        older, _ = _https_sign_in(client, actors["buyer"])
        r = client.delete("/v1/auth/session", headers={"cookie": f"__Host-rt_session={mine}; rt_session={older}"})
        assert r.json() == {"signedOut": True}
        deleted = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
        assert set(deleted) == {"__Host-rt_session", "rt_session"}
        for name in deleted:
            assert "max-age=0" in deleted[name] and "secure" in deleted[name] and "path=/" in deleted[name]
        for token in (mine, older):
            r = client.get("/v1/auth/session", headers=as_(token))
            assert (r.status_code, r.json()["error"]) == (401, "not_signed_in")


def _message(nonce: str, address: str, *, domain="127.0.0.1:8000", chain=31337, issued=None, tail="") -> str:
    issued = issued or datetime.now(UTC)
    return (
        f"{domain} wants you to sign in with your Ethereum account:\n{address}\n\nSign in.\n\n"
        f"URI: http://127.0.0.1:8000/\nVersion: 1\nChain ID: {chain}\nNonce: {nonce}\n"
        f"Issued At: {issued.strftime('%Y-%m-%dT%H:%M:%SZ')}{tail}"
    )


def test_every_refusal_names_its_reason_and_opens_no_session(gateway, actors):
    client, buyer, stranger = gateway.client, actors["buyer"], actors["stranger"]
    cases = {
        "siwe_wrong_domain": lambda n: _message(n, buyer.address, domain="evil.example"),
        "siwe_wrong_chain": lambda n: _message(n, buyer.address, chain=1),
        "siwe_expired": lambda n: _message(
            n,
            buyer.address,
            tail=f"\nExpiration Time: {(datetime.now(UTC) - timedelta(seconds=5)).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        ),
        "siwe_nonce_unknown": lambda n: _message("neverHandedOut123", buyer.address),
    }
    for code, make in cases.items():
        answer = _post(client, make(_nonce(client, buyer)["nonce"]), buyer.key)
        assert (answer.status_code, answer.json()["error"]) == (401, code), answer.text
        assert "set-cookie" not in answer.headers
    text = _message(_nonce(client, buyer)["nonce"], buyer.address)
    answer = _post(client, text, stranger.key)  # the buyer's message, signed by someone else
    assert (answer.status_code, answer.json()["error"]) == (401, "siwe_bad_signature")
    answer = client.post("/v1/auth/siwe", json={"message": "hello", "signature": "0x00"})
    assert (answer.status_code, answer.json()["error"]) == (400, "siwe_malformed")
    assert gateway.services.sessions._read().execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    # The refused signature left the nonce alone: the buyer's own signature still signs in, once.
    assert _post(client, text, buyer.key).status_code == 200
    again = _post(client, text, buyer.key)
    assert (again.status_code, again.json()["error"]) == (401, "siwe_nonce_unknown")


def test_a_session_ends_with_the_signed_expiration_time(gateway, actors):
    buyer = actors["buyer"]
    expires = datetime.now(UTC) + timedelta(minutes=5)
    text = _message(
        _nonce(gateway.client, buyer)["nonce"],
        buyer.address,
        tail=f"\nExpiration Time: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
    )
    answer = _post(gateway.client, text, buyer.key)
    assert answer.status_code == 200
    assert abs(answer.json()["expiresAt"] - expires.replace(microsecond=0).timestamp()) < 1


def test_the_message_the_gateway_writes_is_what_the_verifier_accepts(gateway, actors):
    assert sign_in_answer(gateway.client, actors["stranger"]).json()["account"] == actors["stranger"].address
    expected = Expected.of(gateway.services.settings.public_url, 31337)
    text = _nonce(gateway.client, actors["stranger"])["message"]
    assert siwe.parse(text).domain == expected.domain
    assert sign_in(gateway.client, actors["buyer"])


def test_a_client_asking_for_nonces_without_end_is_refused_and_nothing_more_is_stored(gateway, actors):
    """Each nonce is a stored row until used or expired: past its bucket a client gets 429, no row."""
    client, brand = gateway.client, actors["brand"]
    services = gateway.services
    gateway.app.state.services = dataclasses.replace(services, signin_limit=TokenBuckets(rate=0.01, burst=2))
    handed = [client.get("/v1/auth/nonce", params={"address": brand.address}) for _ in range(3)]
    assert [r.status_code for r in handed] == [200, 200, 429], handed[2].text
    assert handed[2].json()["error"] == "rate_limited"
    assert "too many sign-in nonces" in handed[2].json()["detail"]
    assert 1 <= int(handed[2].headers["retry-after"]) <= 100
    with sqlite3.connect(services.settings.cases_database) as db:
        assert db.execute("SELECT COUNT(*) FROM siwe_nonces").fetchone()[0] == 2
    # The nonces handed out before the limit still sign in.
    first = handed[0].json()
    assert _post(client, first["message"], brand.key).status_code == 200


def test_nonces_from_many_addresses_stop_at_the_store_bound_and_resume_as_they_expire(gateway, actors):
    """An attacker with many addresses stays within each bucket: the store's bound still holds."""
    client, services = gateway.client, gateway.services
    settings = services.settings.replace(signin_max_nonces=2)
    gateway.app.state.services = dataclasses.replace(services, settings=settings)
    handed = [client.get("/v1/auth/nonce") for _ in range(3)]
    assert [r.status_code for r in handed] == [200, 200, 503], handed[2].text
    assert handed[2].json()["error"] == "sign_in_busy"
    assert 1 <= int(handed[2].headers["retry-after"]) <= siwe.MAX_AGE.total_seconds()
    with sqlite3.connect(settings.cases_database) as db:
        assert db.execute("SELECT COUNT(*) FROM siwe_nonces").fetchone()[0] == 2
        db.execute("UPDATE siwe_nonces SET expires_at = 0")  # both expire
    assert client.get("/v1/auth/nonce").status_code == 200


@pytest.mark.parametrize(
    ("host", "client"),
    [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # the same subscriber: one bucket
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
    ],
)
def test_a_bucket_is_an_ipv4_address_or_an_ipv6_network(host, client):
    request = Request({"type": "http", "client": (host, 1234), "headers": []})
    assert client_of(request) == client
