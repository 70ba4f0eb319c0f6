"""Signing in to the gateway as the test actors (Sign-In with Ethereum), for the case, evidence and
return-flow tests: `sign_in(client, signer)` answers the session token; `as_(token)` the header
that uses it. The test client's own cookie jar is emptied, so that each request says who it is."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from returntrace import siwe
from returntrace.vocab import Role
from scripts import deploy

signed = siwe.signature  # the wallet's personal_sign, for the tests that sign a message of their own
as_ = siwe.bearer


def sign_in_answer(client: TestClient, signer: deploy.Signer):
    """The gateway's answer to a sign-in with the message it writes for `signer`."""
    return siwe.sign_in(client, signer.address, signer.key)


def sign_in(client: TestClient, signer: deploy.Signer) -> str:
    answer = sign_in_answer(client, signer)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


@dataclass(frozen=True)
class Assessment:
    """The fields of the assistant's Assessment (returntrace.assistant) that a case keeps."""

    language: str = "en"
    reason: str | None = "defective"
    confidence: float = 0.42
    handoff: bool = True
    why: tuple[str, ...] = ("low_confidence",)
    urgent: bool = False


@pytest.fixture(scope="module")
def staff(deployment, admin):
    """`staff` of the brand's (the merchant's) organisation, `rival` staff of brand2's, `auditor` (RT_AUDITORS)."""
    made = {
        "staff": deploy.test_signer("desk-staff", Role.MERCHANT_STAFF, "950600000001"),
        "rival": deploy.test_signer("desk-rival-staff", Role.MERCHANT_STAFF, "950600000011"),
    }
    deploy.accredit(deployment.registry, admin, list(made.values()))
    for s in made.values():
        admin.transfer(s.account, "10 ether", silent=True)
    made["auditor"] = deploy.test_signer("desk-auditor", 0, "950600000019")
    return made


def buyer_page(gateway, path: str, signer: str = "buyer", **kw):
    """The consumer page at `path` as the order's buyer reads it, signed in: an order's amounts and
    return reason are for its parties only (issue 11 §3); anyone else gets the public page."""
    token = sign_in(gateway.client, gateway.actors[signer])
    return gateway.client.get(path, headers={"accept": "text/html", **as_(token)}, **kw)
