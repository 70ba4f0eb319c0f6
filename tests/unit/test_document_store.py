"""The document store keeps each deployment's documents apart, and the latest issued in force."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from api.store.documents import Document, SqliteDocuments
from returntrace import cid as cids


def _doc(id_: str, subject: str, issued_at: int, name: str) -> Document:
    return Document(
        id=id_,
        kind="OrganizationName",
        subject=subject,
        signer="0x" + "11" * 20,
        issued_at=issued_at,
        message={"name": name},
        signature="0x00",
        block_number=7,
        block_hash="0x" + "22" * 32,
        accepted_at=0.0,
    )


def test_a_file_that_served_another_deployment_never_serves_its_documents_for_this_one(tmp_path):
    path = tmp_path / "gateway.sqlite3"
    old, new = SqliteDocuments(path, "1:0xold"), SqliteDocuments(path, "1:0xnew")
    stored, fresh = old.put(_doc("0xa", "organization=1", 100, "Old"))
    assert fresh and stored.accepted_at > 0
    assert new.get("0xa") is None and new.current("OrganizationName", "organization=1") is None
    assert old.current("OrganizationName", "organization=1") == stored
    old.close(), new.close()


def test_the_latest_issued_is_in_force_and_each_subject_has_its_own(tmp_path):
    docs = SqliteDocuments(tmp_path / "gateway.sqlite3", "1:0xreg")
    docs.put(_doc("0xa", "organization=1", 100, "First"))
    docs.put(_doc("0xb", "organization=1", 200, "Second"))
    docs.put(_doc("0xc", "organization=2", 50, "Other"))
    assert docs.put(_doc("0xb", "organization=1", 200, "Second"))[1] is False  # stored once
    assert [d.message["name"] for d in docs.current_of_kind("OrganizationName")] == ["Second", "Other"]
    assert docs.get("0xa").message == {"name": "First"}  # earlier ones stay, to prove old pages
    docs.close()


def test_many_subjects_read_at_once_answer_as_each_read_alone(tmp_path):
    docs = SqliteDocuments(tmp_path / "gateway.sqlite3", "1:0xreg")
    docs.put(_doc("0xa", "organization=1", 100, "First"))
    docs.put(_doc("0xb", "organization=1", 200, "Second"))
    docs.put(_doc("0xd", "organization=1", 200, "Second, accepted later"))  # equal issuedAt: the first accepted
    docs.put(_doc("0xc", "organization=2", 50, "Other"))
    subjects = [f"organization={n}" for n in (2, 1, 3, 1)] + [f"organization={n}" for n in range(10, 1200)]
    found = docs.current_of("OrganizationName", subjects)  # past one statement's 500 parameters
    assert {s: d.message["name"] for s, d in found.items()} == {"organization=1": "Second", "organization=2": "Other"}
    assert all(docs.current("OrganizationName", s) == d for s, d in found.items())
    assert docs.current("OrganizationName", "organization=3") is None
    assert docs.current_of("ProductInfo", subjects) == {}
    docs.close()


def test_the_files_a_document_names_are_found_by_digest_and_listed_for_documents_stored_before(tmp_path):
    """A product's image and instructions keep their staged uploads (api/store/evidence/staging.py): found
    by digest without reading every document, for documents stored before that list existed too."""
    image, manual = cids.cid_v1(b"a photo"), cids.cid_v1(b"a manual")
    digest = {c: "0x" + cids.digest_of(c).hex() for c in (image, manual)}
    info = replace(
        _doc("0xd", "gtin=1", 100, "Bottle"),
        kind="ProductInfo",
        message={"image": image, "instructions": [{"lang": "en", "cid": manual}], "video": "not a cid"},
    )
    path = tmp_path / "gateway.sqlite3"
    docs = SqliteDocuments(path, "1:0xreg")
    docs.put(info)
    unknown = "0x" + "ab" * 32
    assert docs.evidence_referenced([digest[image], digest[manual], unknown]) == {digest[image], digest[manual]}
    with sqlite3.connect(path) as db:  # a file written before the list: documents, and no list
        db.execute("DROP TABLE document_files")
    docs.close()
    again = SqliteDocuments(path, "1:0xreg")
    assert again.evidence_referenced([digest[image], digest[manual]]) == {digest[image], digest[manual]}
    again.close()
