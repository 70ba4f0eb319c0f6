"""returntrace/hashchain.py on its own: what a record's low bits count and flag, and what its head
depends on (tests/registry/test_partners_and_closure.py and the history tests hold it to the
contract's records)."""

from __future__ import annotations

import pytest

from returntrace import hashchain

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
H1, H2 = b"\x01" * 32, b"\x02" * 32


def test_each_link_counts_one_more_and_only_a_closing_event_closes():
    first = hashchain.link(0, A, H1)
    second = hashchain.link(first, B, H2)
    closed = hashchain.link(second, A, H1, closes=True)
    assert [hashchain.count_of(r) for r in (0, first, second, closed)] == [0, 1, 2, 3]
    assert [hashchain.is_closed(r) for r in (first, second, closed)] == [False, False, True]
    assert hashchain.rebuild([(A, H1, False), (B, H2, False), (A, H1, True)]) == closed
    assert hashchain.to_hex(closed) == f"0x{closed:064x}" and len(hashchain.to_hex(first)) == 66


def test_the_head_binds_the_previous_record_the_signer_and_the_event():
    first = hashchain.link(0, A, H1)
    heads = {hashchain.link(0, B, H1), hashchain.link(0, A, H2), hashchain.link(hashchain.link(0, A, H2), A, H1)}
    assert first not in heads and len(heads) == 3
    assert hashchain.link(0, A, H1) == hashchain.link(0, bytes.fromhex("aa" * 20), H1)  # an address as text or bytes


def test_malformed_inputs_are_refused():
    with pytest.raises(ValueError):
        hashchain.link(0, A, b"\x01" * 31)
    with pytest.raises(ValueError):
        hashchain.link(0, "0x" + "aa" * 19, H1)
