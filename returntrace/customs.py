"""Commitments to customs declarations: what a customs-clearing scan carries instead of the declaration.

A unit's export (or import) declaration reference links its return to the original clearance, which
is what returned-goods relief asks for (EU Union Customs Code Art. 203 with Implementing Regulation
2015/2447 Art. 253; US HTSUS 9801.00.10). The reference is the brand's business and follows public
formats, so the chain gets a salted commitment (`TraceRegistry.customsCommitment`), and whoever holds
the reference and its salt shows customs that this unit's history names that declaration.

    salt = new_salt()
    ref = commitment("26DE123456789012A1", salt)    # the CustomsClearing event's bizTransaction
    assert opens(ref, "26DE123456789012A1", salt)
"""

from __future__ import annotations

import secrets

from eth_abi import encode
from eth_utils import keccak

TAG = keccak(text="ReturnTrace customs declaration")


def new_salt() -> bytes:
    """32 random bytes to keep with the declaration reference (never on-chain)."""
    return secrets.token_bytes(32)


def commitment(declaration_reference: str, salt: bytes) -> bytes:
    """TraceRegistry.customsCommitment(declarationReference, salt)."""
    if len(salt) != 32:
        raise ValueError("the salt is 32 bytes")
    return keccak(encode(["bytes32", "bytes32", "bytes32"], [TAG, keccak(text=declaration_reference), salt]))


def opens(ref: bytes | str, declaration_reference: str, salt: bytes) -> bool:
    """Whether a scan's bizTransaction `ref` commits to this declaration reference and salt."""
    raw = bytes.fromhex(ref[2:]) if isinstance(ref, str) else bytes(ref)
    return raw == commitment(declaration_reference, salt)
