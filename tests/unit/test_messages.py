"""returntrace/messages.py, the pure half of the test builder: every signed kind is signed under the
domain it is given, with the signer in its kind's signer field, and reads back as the contracts'
calldata and as a JSON body the gateway's request models accept; items have the shapes of eip712.TYPES."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from pydantic import ValidationError

from api.write.kinds import KINDS
from returntrace import eip712, messages
from returntrace.vocab import AggregationAction, BizStep, Disposition

KEY = b"\x07" * 32
SIGNER = Account.from_key(KEY).address
REGISTRY = eip712.Domain("ReturnTrace TraceRegistry", "2", 31337, "0x" + "11" * 20)
ESCROW = eip712.Domain("ReturnTrace ReturnEscrow", "2", 31337, "0x" + "22" * 20)
DESK = eip712.Domain("ReturnTrace ReissueDesk", "2", 31337, "0x" + "33" * 20)
POINTS = eip712.Domain("ReturnTrace StorePoints", "2", 31337, "0x" + "44" * 20)
UNIT = bytes(range(32))
T = 1_777_800_000
GLN = 9506000000034

# One message of each signed kind, with the fields a caller gives (the signer, nonce and deadline come from sign()).
FIELDS = {
    "CommissionBatch": {"units": [messages.commission_item(9506000134352, "SN-1", GLN, T)]},
    "EventBatch": {
        "events": [
            messages.event_item(UNIT, BizStep.SHIPPING, Disposition.IN_TRANSIT, GLN, T, biz_transaction=b"\x01" * 32)
        ]
    },
    "AggregationBatch": {"aggregations": [messages.aggregation_item(395060000000000077, [UNIT, b"\x02" * 32], GLN, T)]},
    "DecommissionBatch": {"units": [messages.decommission_item(9506000134352, "SN-1", Disposition.DESTROYED, GLN, T)]},
    "ReturnRequest": {"orderId": 7, "reason": 5, "remedy": 1},
    "DefectClaim": {"orderId": 7, "evidence": b"\xab" * 32},
    "Inspection": {"orderId": 7, "facts": 3, "grade": 1, "diminishedValue": 0, "evidence": b"\x0e" * 32},
    "Redemption": {"merchant": "0x" + "55" * 20, "currency": "0x" + "00" * 20, "amount": 10**18},
}
DOMAIN = {"ReturnRequest": ESCROW, "Inspection": ESCROW, "DefectClaim": DESK, "Redemption": POINTS}


def test_every_signed_kind_has_a_sample_here():
    assert set(FIELDS) == set(eip712.SIGNER_FIELD)


@pytest.mark.parametrize("kind", sorted(eip712.SIGNER_FIELD))
def test_a_signed_message_recovers_to_its_signer_under_eth_accounts_own_encoding(kind):
    domain = DOMAIN.get(kind, REGISTRY)
    signed = messages.sign(domain, kind, KEY, SIGNER, nonce=3, deadline=T + 3600, **FIELDS[kind])
    assert signed.message[eip712.SIGNER_FIELD[kind]] == SIGNER == signed.signer
    assert (signed.nonce, signed.message["deadline"]) == (3, T + 3600)
    typed = encode_typed_data(full_message=domain.typed_data(kind, signed.message))
    assert Account.recover_message(typed, signature=signed.signature) == SIGNER
    assert signed.digest == domain.digest(kind, signed.message)


def test_the_domain_is_the_callers_and_it_changes_the_signature():
    """A DefectClaim is the ReissueDesk's: signed under the escrow's domain it is another digest (the
    desk would recover another signer)."""
    for_desk = messages.sign(DESK, "DefectClaim", KEY, SIGNER, 0, T, **FIELDS["DefectClaim"])
    for_escrow = messages.sign(ESCROW, "DefectClaim", KEY, SIGNER, 0, T, **FIELDS["DefectClaim"])
    assert for_desk.message == for_escrow.message
    assert for_desk.digest != for_escrow.digest and for_desk.signature != for_escrow.signature
    wrong = Account._recover_hash(for_desk.digest, signature=for_escrow.signature)
    assert wrong != SIGNER


def test_calldata_is_the_fields_in_type_order_then_the_signature():
    signed = messages.sign(REGISTRY, "EventBatch", KEY, SIGNER, 4, T + 60, **FIELDS["EventBatch"])
    event = FIELDS["EventBatch"]["events"][0]
    assert signed.args == (
        SIGNER,
        [(UNIT, int(BizStep.SHIPPING), int(Disposition.IN_TRANSIT), GLN, T, bytes(32), b"\x01" * 32)],
        4,
        T + 60,
        signed.signature,
    )
    assert signed.struct == signed.args[:-1]
    assert list(event) == [name for _, name in eip712.TYPES["LifecycleEvent"]]
    request = messages.sign(ESCROW, "ReturnRequest", KEY, SIGNER, 0, T, **FIELDS["ReturnRequest"])
    assert request.struct == (SIGNER, 7, 5, 1, 0, T)


def test_the_json_body_is_hex_for_bytes_plus_the_signature():
    signed = messages.sign(REGISTRY, "AggregationBatch", KEY, SIGNER, 0, T, **FIELDS["AggregationBatch"])
    body = signed.body
    assert body["signer"] == SIGNER and body["nonce"] == 0 and body["deadline"] == T
    assert body["aggregations"][0]["childIds"] == ["0x" + UNIT.hex(), "0x" + "02" * 32]
    assert body["signature"] == "0x" + signed.signature.hex() and len(signed.signature) == 65


def test_items_field_is_read_from_the_types():
    assert {
        k: messages.items_field(k) for k in ("CommissionBatch", "EventBatch", "AggregationBatch", "DecommissionBatch")
    } == {
        "CommissionBatch": "units",
        "EventBatch": "events",
        "AggregationBatch": "aggregations",
        "DecommissionBatch": "units",
    }
    with pytest.raises(ValueError):
        messages.items_field("Inspection")  # a request, not a batch


@pytest.mark.parametrize(
    "item, struct",
    [
        (FIELDS["CommissionBatch"]["units"][0], "Commission"),
        (FIELDS["EventBatch"]["events"][0], "LifecycleEvent"),
        (FIELDS["AggregationBatch"]["aggregations"][0], "Aggregation"),
        (FIELDS["DecommissionBatch"]["units"][0], "Decommission"),
    ],
)
def test_items_have_their_structs_fields(item, struct):
    assert list(item) == [name for _, name in eip712.TYPES[struct]]


def test_a_parcel_is_packed_or_unpacked_unless_the_step_is_given():
    packed = messages.aggregation_item(1, [UNIT], GLN, T)
    unpacked = messages.aggregation_item(1, [UNIT], GLN, T, AggregationAction.DELETE)
    departing = messages.aggregation_item(1, [UNIT], GLN, T, AggregationAction.DELETE, BizStep.DEPARTING)
    assert (packed["action"], packed["bizStep"]) == (int(AggregationAction.ADD), int(BizStep.PACKING))
    assert (unpacked["action"], unpacked["bizStep"]) == (int(AggregationAction.DELETE), int(BizStep.UNPACKING))
    assert departing["bizStep"] == int(BizStep.DEPARTING)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_gateway_accepts_the_json_body_of_every_kind_it_serves(kind):
    """The builder's bodies and the gateway's request models (api/write/schemas.py) agree field for field."""
    domain = DOMAIN.get(kind, REGISTRY)
    body = messages.sign(domain, kind, KEY, SIGNER, 2**64, T + 3600, **FIELDS[kind]).body
    parsed = KINDS[kind].body.model_validate(body)
    assert parsed.nonce == 2**64 and parsed.signature == body["signature"]
    assert KINDS[kind].kind.items_of(body) == (body[messages.items_field(kind)] if kind.endswith("Batch") else [body])
    too_big = {**body, "deadline": 2**64}  # a uint64
    with pytest.raises(ValidationError):
        KINDS[kind].body.model_validate(too_big)


def test_the_registry_derives_each_path_from_the_name_and_refuses_a_name_it_would_mangle():
    assert {k.path for k in KINDS.values()} >= {"/v1/events", "/v1/return-requests", "/v1/defect-claims"}
    entry = KINDS["Inspection"]
    for name in ("RMAUpdate", "Delivery"):  # /v1/r-m-a-updates, /v1/deliverys
        with pytest.raises(ValueError, match="does not derive a path"):
            dataclasses.replace(entry, kind=dataclasses.replace(entry.kind, name=name))
