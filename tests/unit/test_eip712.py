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
