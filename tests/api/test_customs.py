"""A customs clearance names its declaration by a salted commitment (issue 9: never the reference
in plain text on a public chain): the contract's definition and returntrace.customs agree, the
scan carries it, the EPCIS export types it as a customs declaration, and only the holder of the
reference and its salt can open it.

Customs evidence for a returned unit (issue 12 §5) and the buyer's satisfaction rating (§3), through
the gateway: the brand's declaration is accepted only if it opens the clearance's on-chain commitment,
and read only by the brand's side and its declarant; a rating only from the order's buyer, once settled."""

from __future__ import annotations

from api.read import epcis
from returntrace import customs, messages
from returntrace.escrow import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from tests.api.people import as_, sign_in
from tests.support import GTIN, GTIN_INT, MARKET_EU, MARKET_US, Status

DECLARATION = "26DE123456789012A1"  # an EU export declaration's MRN (format of UCC Annex B)
SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT
DOCS = "/v1/documents"


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


def _declaration(gateway, serial: str, salt: bytes, who: str = "brand", **fields):
    fields = {"regime": "EU-UCC-203", "declarationReference": DECLARATION, **fields}
    return gateway.builder.document(
        "CustomsDeclaration",
        who,
        gtin=GTIN_INT,
        serial=serial,
        salt="0x" + salt.hex(),
        declarant=gateway.actors["buyer2"].address,  # the customs broker the brand names
        **fields,
    )


def test_customs_evidence_of_an_exported_and_returned_unit(gateway, shop):
    # An EU brand's unit sold to a US buyer: cleared for export from the EU under a committed declaration.
    order_id = shop.buy(market=MARKET_US)
    serial, unit = shop.last_serial, shop.unit(order_id)
    salt = customs.new_salt()
    shop.builder.scan(
        unit,
        BizStep.CUSTOMS_CLEARING,
        "carrier",
        Disposition.IN_TRANSIT,
        bizTransaction=customs.commitment(DECLARATION, salt),
    )
    path = f"/01/{GTIN}/21/{serial}/customs-evidence"

    # A declaration that does not open the commitment, or signed by another brand: refused, nothing stored.
    wrong = gateway.post(f"{DOCS}/CustomsDeclaration", _declaration(gateway, serial, customs.new_salt()))
    assert (wrong.status_code, wrong.json()["error"]) == (422, "declaration_not_committed"), wrong.text
    other = gateway.post(f"{DOCS}/CustomsDeclaration", _declaration(gateway, serial, salt, who="brand2"))
    assert (other.status_code, other.json()["error"]) == (403, "not_brand_of_product"), other.text
    posted = gateway.post(f"{DOCS}/CustomsDeclaration", _declaration(gateway, serial, salt))
    assert posted.status_code == 201, posted.text

    gateway.services.indexer.index_once()
    early = gateway.client.get(path)  # exported, not returned yet
    assert (early.status_code, early.json()["error"]) == (409, "no_cross_border_return"), early.text

    shop.returned(order_id)  # delivered, return requested, received back
    shop.inspect(order_id, SEALED, Grade.A)
    gateway.services.indexer.index_once()

    public = gateway.client.get(path)
    assert public.status_code == 200, public.text
    e = public.json()
    assert DECLARATION not in public.text and e["clearance"]["declaration"] is None and not e["readerAuthorised"]
    assert customs.opens(e["clearance"]["commitment"], DECLARATION, salt)
    assert (e["unit"]["gtin"], e["unit"]["serial"], e["clearance"]["market"]) == (GTIN, serial, "EU")
    assert (e["regime"]["code"], e["order"]["orderId"], e["order"]["market"]) == ("EU-UCC-203", order_id, "US")
    (limit,) = e["limits"]
    assert limit["name"] == "reimport" and limit["met"] is True and limit["at"] == e["return"]["receivedAt"]
    assert limit["from"] <= limit["at"] <= limit["deadline"]
    assert e["inspection"]["grade"] == "A" and set(e["inspection"]["facts"]) == {"seal_intact", "packaging_intact"}
    assert e["proofs"]["unit"]["verified"] is True
    cited = [t["what"] for t in e["proofs"]["transactions"]]
    assert cited[:3] == ["customs_clearing", "ReturnRequested", "receiving"] and "InspectionSubmitted" in cited
    assert "does not replace the declaration" in e["notice"]

    # The declarant (and the brand) read the reference; a stranger signed in sees the commitment only.
    for who, shown in (("buyer2", True), ("brand", True), ("stranger", False)):
        token = sign_in(gateway.client, gateway.actors[who])
        seen = gateway.client.get(path, headers=as_(token)).json()["clearance"]["declaration"]
        assert (seen is not None and seen["reference"] == DECLARATION) == shown, who
        document = gateway.client.get(
            f"{DOCS}/CustomsDeclaration", params={"gtin": GTIN_INT, "serial": serial}, headers=as_(token)
        )
        assert document.status_code == (200 if shown else 403), document.text
        printable = gateway.client.get(path, headers={"accept": "text/html", "accept-language": "de", **as_(token)})
        assert printable.headers["content-language"] == "de" and "Zollnachweis" in printable.text
        assert (DECLARATION in printable.text) == shown, who
    anonymous = gateway.client.get(f"{DOCS}/by-id/{posted.json()['id']}")
    assert anonymous.status_code == 401 and DECLARATION not in anonymous.text

    page = gateway.client.get(path, params={"format": "html"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "does not replace the declaration" in page.text and DECLARATION not in page.text

    # A unit that was never exported, and one nobody commissioned.
    gateway.commission("NOEXPORT-1")
    gateway.relay()
    gateway.services.indexer.index_once()
    none = gateway.client.get(f"/01/{GTIN}/21/NOEXPORT-1/customs-evidence")
    assert (none.status_code, none.json()["error"]) == (409, "no_export"), none.text
    unknown = gateway.client.get(f"/01/{GTIN}/21/NOBODY-1/customs-evidence")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_unit"), unknown.text


def _rating(gateway, who: str, order_id: int, score: int = 5, **fields):
    fields.setdefault("buyer", gateway.actors[who].address)
    return gateway.builder.document("SatisfactionRating", who, orderId=order_id, score=score, **fields)


def test_only_the_orders_buyer_rates_it_once_settled_and_the_rating_is_not_public(gateway, shop, escrow):
    order_id = shop.buy(market=MARKET_EU)
    rate = f"{DOCS}/SatisfactionRating"
    early = gateway.post(rate, _rating(gateway, "buyer", order_id))
    assert (early.status_code, early.json()["error"]) == (409, "order_not_settled"), early.text

    shop.returned(order_id)
    shop.inspect(order_id, SEALED, Grade.A)
    assert escrow.order(order_id)["status"] == Status.SETTLED

    stranger = gateway.post(rate, _rating(gateway, "stranger", order_id))
    assert (stranger.status_code, stranger.json()["error"]) == (403, "not_buyer"), stranger.text
    # The buyer's address signed by another key: not the buyer's signature.
    forged = messages.sign_document(
        gateway.d.documents_domain,
        "SatisfactionRating",
        gateway.actors["stranger"].key,
        gateway.actors["buyer"].address,
        gateway.builder.now(),
        buyer=gateway.actors["buyer"].address,
        orderId=order_id,
        score=1,
    )
    assert gateway.post(rate, forged).json()["error"] == "invalid_signature"
    assert gateway.post(rate, _rating(gateway, "buyer", order_id, score=0)).status_code == 422

    now = gateway.builder.now()
    assert gateway.post(rate, _rating(gateway, "buyer", order_id, 5, issued_at=now)).status_code == 201
    assert gateway.post(rate, _rating(gateway, "buyer", order_id, 2, issued_at=now + 1)).status_code == 201

    query = {"orderId": order_id}
    assert gateway.client.get(rate, params=query).status_code == 401  # not even whether one exists
    token = sign_in(gateway.client, gateway.actors["stranger"])
    assert gateway.client.get(rate, params=query, headers=as_(token)).status_code == 403
    token = sign_in(gateway.client, gateway.actors["buyer"])
    mine = gateway.client.get(rate, params=query, headers=as_(token))
    assert mine.status_code == 200 and mine.json()["message"]["score"] == 2  # the later one replaces


def test_whether_an_order_was_rated_is_its_parties_to_know_not_any_signed_in_account(gateway, shop, escrow):
    rated, unrated = shop.buy(market=MARKET_EU), shop.buy(market=MARKET_EU)
    for order_id in (rated, unrated):
        shop.returned(order_id)
        shop.inspect(order_id, SEALED, Grade.A)
    assert gateway.post(f"{DOCS}/SatisfactionRating", _rating(gateway, "buyer", rated)).status_code == 201

    # Anyone may sign in with a fresh key: a stranger gets one answer whether the buyer rated or not.
    stranger = as_(sign_in(gateway.client, gateway.actors["stranger"]))
    answers = [
        gateway.client.get(f"{DOCS}/SatisfactionRating", params={"orderId": o}, headers=stranger)
        for o in (rated, unrated)
    ]
    assert [(r.status_code, r.json()["error"]) for r in answers] == [(403, "not_a_party")] * 2
    buyer = as_(sign_in(gateway.client, gateway.actors["buyer"]))
    r = gateway.client.get(f"{DOCS}/SatisfactionRating", params={"orderId": unrated}, headers=buyer)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_document")  # its own party: not rated yet


def test_a_rating_is_not_found_by_posting_guessed_messages_without_its_signature(gateway, shop, escrow):
    """A rating's message is guessable: the buyer and order are on-chain, the score one of five, issuedAt the
    chain's time when the flow page signs. Posting a guess with any signature must not answer the stored
    rating (200 "already stored", with its score and signature): only its signature shows it is held."""
    order_id = shop.buy(market=MARKET_EU)
    shop.returned(order_id)
    shop.inspect(order_id, SEALED, Grade.A)
    now = gateway.builder.now()
    rated = _rating(gateway, "buyer", order_id, 2, issued_at=now)
    assert gateway.post(f"{DOCS}/SatisfactionRating", rated).status_code == 201

    forged = "0x" + "11" * 32 + "22" * 32 + "1b"  # well-formed, nobody's
    answers = []
    for score in range(1, 6):  # an attacker's guesses, anonymous
        guess = {"message": {**rated["message"], "score": score}, "signature": forged}
        answers.append(gateway.post(f"{DOCS}/SatisfactionRating", guess))
    assert [(r.status_code, r.json().get("error")) for r in answers] == [(401, "invalid_signature")] * 5, [
        r.text for r in answers
    ]
    assert all(str(rated["signature"]) not in r.text for r in answers)
    # The buyer posting it again (a retry) still gets it back: idempotent for whoever holds the signature.
    again = gateway.post(f"{DOCS}/SatisfactionRating", rated)
    assert again.status_code == 200 and again.json()["message"]["score"] == 2
