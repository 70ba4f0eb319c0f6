"""Off-chain signed documents (returntrace/documents.py): accepted only from the kind's authority at
a stated block, under this deployment's documents domain, the latest issued in force; each served
with what proves it."""

from __future__ import annotations

import pytest
from brownie import chain
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from returntrace import eip712, messages
from scripts import deploy

GLN = 4012345000009


@pytest.fixture(scope="module")
def accreditor(deployment, admin) -> deploy.Signer:
    """A key holding the registry's ACCREDITOR_ROLE (granted by the admin, as governance would)."""
    signer = deploy.test_signer("documents-accreditor", 0, "401234500099")
    deployment.registry.grantRole(keccak(text="ACCREDITOR_ROLE"), signer.address, {"from": admin})
    return signer


def _name(gateway, who, name="Kinderhaus GmbH", **fields):
    return gateway.builder.document(
        "OrganizationName", who, organization=fields.pop("organization", GLN), name=name, country="DE", **fields
    )


def test_the_accreditor_names_an_organisation_and_the_proof_verifies(gateway, accreditor):
    r = gateway.post("/v1/documents/OrganizationName", _name(gateway, accreditor))
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["signer"] == accreditor.address and doc["subject"] == f"organization={GLN}"
    # The proof: the typed data recovers to the signer, and the authority held at the stated block.
    recovered = Account.recover_message(encode_typed_data(full_message=doc["typedData"]), signature=doc["signature"])
    assert recovered == accreditor.address
    role = keccak(text="ACCREDITOR_ROLE")
    assert gateway.d.registry.hasRole(role, accreditor.address, block_identifier=doc["checkedAt"]["number"])
    assert doc["typedData"]["domain"]["name"] == "ReturnTrace Documents"
    assert doc["typedData"]["domain"]["verifyingContract"] == gateway.d.registry.address

    again = gateway.post("/v1/documents/OrganizationName", {"message": doc["message"], "signature": doc["signature"]})
    assert again.status_code == 200 and again.json()["id"] == doc["id"]
    current = gateway.client.get("/v1/documents/OrganizationName", params={"organization": GLN})
    assert current.status_code == 200 and current.json()["message"]["name"] == "Kinderhaus GmbH"
    assert gateway.client.get(f"/v1/documents/by-id/{doc['id']}").json()["id"] == doc["id"]


def test_a_later_document_replaces_an_earlier_one_and_a_late_earlier_one_never_does(gateway, accreditor):
    now = chain.time()
    old = _name(gateway, accreditor, "Old Name", issued_at=now - 100)
    new = _name(gateway, accreditor, "New Name", issued_at=now - 10)
    assert gateway.post("/v1/documents/OrganizationName", new).status_code == 201
    r = gateway.post("/v1/documents/OrganizationName", old)
    assert r.status_code == 409 and r.json()["error"] == "superseded"
    same_time = _name(gateway, accreditor, "Other Name", issued_at=now - 10)
    r = gateway.post("/v1/documents/OrganizationName", same_time)
    assert r.status_code == 409 and r.json()["error"] == "issued_at_taken"
    current = gateway.client.get("/v1/documents/OrganizationName", params={"organization": GLN}).json()
    assert current["message"]["name"] == "New Name"


def test_an_actor_without_the_authority_is_refused_and_nothing_is_stored(gateway):
    r = gateway.post("/v1/documents/OrganizationName", _name(gateway, "brand"))
    assert r.status_code == 403 and r.json()["error"] == "not_authorised", r.text
    assert "ACCREDITOR_ROLE" in r.json()["detail"] and isinstance(r.json()["block"], int)
    assert gateway.client.get("/v1/documents/OrganizationName", params={"organization": GLN}).status_code == 404


def test_a_signature_by_another_key_or_for_another_deployment_is_refused(gateway, accreditor):
    body = _name(gateway, accreditor)
    body["message"]["name"] = "Tampered GmbH"
    r = gateway.post("/v1/documents/OrganizationName", body)
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature"

    # Signed for another chain, or under a contract's domain: not this deployment's documents domain.
    for domain in (
        eip712.documents_domain(chain.id + 1, gateway.d.registry.address),
        gateway.d.domain_of("registry"),
    ):
        body = messages.sign_document(
            domain,
            "OrganizationName",
            accreditor.key,
            accreditor.address,
            chain.time(),
            organization=GLN,
            name="X",
            country="DE",
        )
        r = gateway.post("/v1/documents/OrganizationName", body)
        assert r.status_code == 401 and r.json()["error"] == "invalid_signature", r.text


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"organization": -1}, 422, "invalid_document"),
        ({"organization": 2**64}, 422, "invalid_document"),
        ({"name": "x" * 4001}, 422, "invalid_document"),
        ({"extra": 1}, 422, "invalid_document"),
        ({"signer": "not-an-address"}, 422, "invalid_document"),
    ],
)
def test_a_message_that_does_not_fit_its_type_is_refused_with_the_field(gateway, accreditor, change, status, code):
    body = _name(gateway, accreditor)
    body["message"].update(change)
    r = gateway.post("/v1/documents/OrganizationName", body)
    assert r.status_code == status and r.json()["error"] == code, r.text
    assert r.json()["fields"]


def test_a_document_issued_in_the_future_an_unknown_kind_and_a_missing_subject_are_refused(gateway, accreditor):
    r = gateway.post("/v1/documents/OrganizationName", _name(gateway, accreditor, issued_at=chain.time() + 3600))
    assert r.status_code == 400 and r.json()["error"] == "issued_in_future"
    r = gateway.post("/v1/documents/Nonsense", _name(gateway, accreditor))
    assert r.status_code == 404 and r.json()["error"] == "unknown_document_kind"
    r = gateway.client.get("/v1/documents/OrganizationName")
    assert r.status_code == 400 and r.json()["error"] == "missing_subject"
    assert gateway.client.get("/v1/documents/by-id/0x" + "00" * 32).status_code == 404


def test_the_document_types_are_published_beside_the_messages(gateway):
    schema = gateway.client.get("/v1/eip712").json()["documents"]["OrganizationName"]
    assert schema["post"] == "/v1/documents/OrganizationName" and schema["authority"] == "accreditor"
    assert schema["domain"]["name"] == "ReturnTrace Documents"
    assert schema["typeString"] == eip712.type_string("OrganizationName")
