"""The indexer's fast LifecycleEvent struct hash against returntrace/eip712.py's (moved from
tests/api/test_indexer.py); the type strings against the contracts are checked on-chain there
and in tests/registry/test_signatures.py."""

from __future__ import annotations

from returntrace import eip712, history


def test_fast_lifecycle_struct_hash_equals_the_eip712_one():
    import random

    rng = random.Random(7)
    for _ in range(200):
        m = {
            "unitId": rng.randbytes(32),
            "bizStep": rng.randrange(256),
            "disposition": rng.randrange(256),
            "location": rng.randrange(2**64),
            "eventTime": rng.randrange(2**40),
            "evidence": rng.randbytes(32),
            "bizTransaction": rng.randbytes(32),
        }
        fast = history.lifecycle_struct_hash(
            m["unitId"],
            m["bizStep"],
            m["disposition"],
            m["location"],
            m["eventTime"],
            m["evidence"],
            m["bizTransaction"],
        )
        assert fast == eip712.struct_hash("LifecycleEvent", m)


def test_nested_structs_and_atomic_arrays_hash_as_wallets_hash_them(monkeypatch):
    """Documents nest structs (a rate card's weight bands) and carry arrays of numbers and strings:
    the digest must equal eth-account's encoder, the reference wallets follow."""
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    monkeypatch.setitem(eip712.TYPES, "TestBand", [("uint32", "upToGrams"), ("uint96", "price")])
    monkeypatch.setitem(eip712.TYPES, "TestLane", [("uint32", "market"), ("TestBand[]", "bands")])
    monkeypatch.setitem(
        eip712.TYPES,
        "TestCard",
        [("address", "signer"), ("TestLane", "lane"), ("uint32[]", "markets"), ("string[]", "languages")],
    )
    message = {
        "signer": "0x" + "11" * 20,
        "lane": {"market": 1, "bands": [{"upToGrams": 500, "price": 7}, {"upToGrams": 2000, "price": 12}]},
        "markets": [1, 2, 3],
        "languages": ["en", "zh"],
    }
    domain = eip712.Domain("ReturnTrace Documents", "1", 31337, "0x" + "22" * 20)
    assert eip712.type_string("TestCard") == (
        "TestCard(address signer,TestLane lane,uint32[] markets,string[] languages)"
        "TestBand(uint32 upToGrams,uint96 price)TestLane(uint32 market,TestBand[] bands)"
    )
    expected = _hash_eip191_message(encode_typed_data(full_message=domain.typed_data("TestCard", message)))
    assert domain.digest("TestCard", message) == expected
