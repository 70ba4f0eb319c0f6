"""A customs clearance names its declaration by a salted commitment (issue 9: never the reference
in plain text on a public chain): the contract's definition and returntrace.customs agree, the
scan carries it, the EPCIS export types it as a customs declaration, and only the holder of the
reference and its salt can open it."""

from __future__ import annotations

from api.read import epcis
from returntrace import customs
from returntrace.vocab import BizStep, Disposition
from tests.support import GTIN

DECLARATION = "26DE123456789012A1"  # an EU export declaration's MRN (format of UCC Annex B)


def test_the_commitment_is_the_contracts(registry):
    salt = customs.new_salt()
    assert bytes(registry.customsCommitment(DECLARATION, salt)) == customs.commitment(DECLARATION, salt)
    assert customs.commitment(DECLARATION, salt) != customs.commitment(DECLARATION, customs.new_salt())


def test_a_clearance_carries_the_commitment_and_the_export_types_it(gateway):
    (unit,) = gateway.commission("CUSTOMS-1")
    salt = customs.new_salt()
    ref = customs.commitment(DECLARATION, salt)
    cleared = gateway.event(unit, BizStep.CUSTOMS_CLEARING, "carrier", Disposition.IN_TRANSIT, bizTransaction=ref)
    r = gateway.post("/v1/events", gateway.events_body("carrier", [cleared]))
    assert r.status_code == 202, r.text
    gateway.relay()
    gateway.services.indexer.index_once()

    doc = gateway.client.get("/v1/audit/epcis", params={"serial": "CUSTOMS-1", "gtin": GTIN}).json()
    (event,) = [e for e in doc["epcisBody"]["eventList"] if e["bizStep"].endswith("customs_clearing")]
    (bt,) = event["bizTransactionList"]
    assert bt == {
        "bizTransaction": f"urn:returntrace:bt:customs-declaration:0x{ref.hex()}",
        "type": epcis.CUSTOMS_DECLARATION_TYPE,
    }
    assert DECLARATION not in str(doc)  # nothing in the export reveals the declaration
    assert customs.opens(event["rt:bizTransactionRef"], DECLARATION, salt)
    assert not customs.opens(event["rt:bizTransactionRef"], "26DE123456789012A2", salt)
