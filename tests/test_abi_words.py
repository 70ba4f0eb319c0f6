"""returntrace.abi_words gives eth_abi's encodings and decodings, and refuses what eth_abi refuses,
on every function input and event of the contracts the gateway calls and indexes."""

from __future__ import annotations

import random
from typing import Any

import eth_abi
import pytest
from brownie import ReissueDesk, ReturnEscrow, ReturnPolicies, StorePoints, TraceRegistry
from eth_abi.grammar import TupleType, parse
from eth_account import Account
from eth_utils import collapse_if_tuple, to_checksum_address

from returntrace import abi_words, eip712

CONTRACTS = (TraceRegistry, ReturnEscrow, ReissueDesk, StorePoints, ReturnPolicies)


def _value(t: Any, rng: random.Random) -> Any:
    """A random value of a parsed ABI type, edges included."""
    if t.is_array:
        length = t.arrlist[-1][0] if t.arrlist[-1] else rng.randint(0, 3)
        return [_value(t.item_type, rng) for _ in range(length)]
    if isinstance(t, TupleType):
        return tuple(_value(c, rng) for c in t.components)
    if t.base == "uint":
        return rng.choice([0, 1, 2**t.sub - 1, rng.getrandbits(t.sub)])
    if t.base == "int":
        return rng.choice([-(2 ** (t.sub - 1)), -1, 0, 2 ** (t.sub - 1) - 1, rng.getrandbits(t.sub - 1)])
    if t.base == "address":
        return to_checksum_address(rng.randbytes(20))
    if t.base == "bool":
        return rng.random() < 0.5
    if t.base == "bytes" and t.sub:
        return rng.randbytes(rng.choice([t.sub, rng.randint(0, t.sub)]))
    if t.base == "bytes":
        return rng.randbytes(rng.choice([0, 1, 32, 33, 70]))
    if t.base == "string":
        return rng.choice(["", "B0000001", "é/ü 中文 " * rng.randint(1, 5)])
    raise AssertionError(f"no generator for {t.to_type_str()}")


def _abis() -> list[dict]:
    return [item for c in CONTRACTS for item in c.abi]


def test_every_function_input_encodes_as_eth_abi_does():
    rng = random.Random(20240610)
    checked = 0
    for fn in (f for f in _abis() if f.get("type") == "function" and f["inputs"]):
        types = [collapse_if_tuple(i) for i in fn["inputs"]]
        for _ in range(5):
            values = [_value(parse(t), rng) for t in types]
            assert abi_words.encode(types, values) == eth_abi.encode(types, values), (fn["name"], values)
            checked += 1
    assert checked > 100


def test_a_relayed_session_batch_encodes_as_eth_abi_does():
    """TraceRegistry.record with ten signed sessions of a hundred events: the relayer's usual call."""
    rng = random.Random(7)
    fn = next(f for f in TraceRegistry.abi if f.get("name") == "record")
    types = [collapse_if_tuple(i) for i in fn["inputs"]]
    batches = [
        (
            to_checksum_address(rng.randbytes(20)),
            [(rng.randbytes(32), 5, 1, 9506000000109, 1_700_000_000, bytes(32), rng.randbytes(32)) for _ in range(100)],
            n,
            2**64 - 1,
            rng.randbytes(65),
        )
        for n in range(10)
    ]
    assert abi_words.encode(types, [batches]) == eth_abi.encode(types, [batches])


def test_event_words_decode_as_eth_abi_does():
    rng = random.Random(99)
    checked = 0
    for ev in (e for e in _abis() if e.get("type") == "event"):
        for group in ([i for i in ev["inputs"] if i.get("indexed")], [i for i in ev["inputs"] if not i.get("indexed")]):
            types = tuple(collapse_if_tuple(i) for i in group)
            decoders = abi_words.word_decoders(types)
            if decoders is None or not types:
                continue
            for _ in range(5):
                data = eth_abi.encode(types, [_value(parse(t), rng) for t in types])
                expected = [
                    to_checksum_address(v) if t == "address" else v
                    for t, v in zip(types, eth_abi.decode(types, data), strict=True)
                ]
                assert abi_words.decode_words(decoders, data) == expected, (ev["name"], types)
                checked += 1
    assert checked > 50
    assert abi_words.word_decoders(("uint8", "bytes32[]")) is None  # not one word each: eth_abi decodes those


@pytest.mark.parametrize(
    "typ, value",
    [
        ("uint8", 256),
        ("uint8", -1),
        ("uint256", True),
        ("uint64", "1"),
        ("int8", 128),
        ("int8", -129),
        ("bool", 1),
        ("bytes32", bytes(33)),
        ("bytes32", "0x" + "00" * 32),
        ("address", "0x" + "ab" * 19),
        ("address", "0x" + "gg" * 20),
        ("bytes", "0x00"),
        ("string", b"x"),
        ("uint8[2]", [1]),
        ("(uint8,bool)", (1,)),
    ],
)
def test_what_eth_abi_refuses_is_refused(typ, value):
    with pytest.raises(Exception):  # noqa: B017 — eth_abi's error classes vary by type and version
        eth_abi.encode([typ], [value])
    with pytest.raises(abi_words.AbiWordError):
        abi_words.encode([typ], [value])


@pytest.mark.parametrize(
    "typ, word",
    [
        ("uint8", (256).to_bytes(32, "big")),
        ("bool", (2).to_bytes(32, "big")),
        ("address", b"\x01" + bytes(31)),
        ("bytes4", bytes(31) + b"\x01"),
        ("int8", (200).to_bytes(32, "big")),
    ],
)
def test_words_that_encode_no_value_are_refused(typ, word):
    with pytest.raises(Exception):  # noqa: B017 — eth_abi's error classes vary by type and version
        eth_abi.decode([typ], word)
    with pytest.raises(abi_words.AbiWordError):
        abi_words.decode_words(abi_words.word_decoders((typ,)), word)


def test_eip712_digests_equal_eth_accounts_encoder():
    """eip712.struct_hash builds its words with abi_words: every message type against eth-account."""
    from eth_account.messages import encode_typed_data

    rng = random.Random(3)
    domain = eip712.Domain("ReturnTrace TraceRegistry", "2", 31337, to_checksum_address(rng.randbytes(20)))

    def message(primary: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for typ, name in eip712.TYPES[primary]:
            if typ.endswith("[]") and typ[:-2] in eip712.TYPES:
                out[name] = [message(typ[:-2]) for _ in range(rng.randint(0, 3))]
            elif typ.startswith("bytes32"):  # bytes32 or bytes32[]: whole words, as signers send them
                out[name] = (
                    rng.randbytes(32) if typ == "bytes32" else [rng.randbytes(32) for _ in range(rng.randint(0, 3))]
                )
            else:
                out[name] = _value(parse(typ), rng)
        return out

    key = rng.randbytes(32)
    for primary in (
        "CommissionBatch",
        "EventBatch",
        "AggregationBatch",
        "DecommissionBatch",
        "ReturnRequest",
        "DefectClaim",
        "Inspection",
        "Redemption",
    ):
        for _ in range(3):
            m = message(primary)
            typed = domain.typed_data(primary, m)
            expected = Account.sign_message(encode_typed_data(full_message=typed), key).signature
            assert domain.sign(key, primary, m) == expected, primary
