"""returntrace/customs.py on its own: a commitment opens with its declaration and salt only
(tests/api/test_customs.py holds it to the contract's customsCommitment)."""

from __future__ import annotations

import pytest

from returntrace import customs

DECLARATION = "26DE123456789012A1"  # an EU export declaration's MRN


def test_a_commitment_opens_with_its_declaration_and_salt_only():
    salt = customs.new_salt()
    ref = customs.commitment(DECLARATION, salt)
    assert len(salt) == 32 and len(ref) == 32
    assert customs.opens(ref, DECLARATION, salt) and customs.opens("0x" + ref.hex(), DECLARATION, salt)
    assert not customs.opens(ref, "26DE123456789012A2", salt)
    assert not customs.opens(ref, DECLARATION, customs.new_salt())
    assert customs.commitment(DECLARATION, salt) == ref  # the same inputs, the same commitment


def test_the_salt_is_32_bytes():
    with pytest.raises(ValueError):
        customs.commitment(DECLARATION, b"\x00" * 31)
