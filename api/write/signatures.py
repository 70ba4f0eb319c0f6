"""Whether a signature is the signer's: an EOA's recovers to it, a contract wallet's is accepted by
the wallet (ERC-1271, at the latest block). One check for the signed messages and the documents."""

from __future__ import annotations

from eth_account import Account

from ..chain.reader import ChainReader
from ..errors import ApiError


def check_signature(reader: ChainReader, signer: str, digest: bytes, signature: bytes) -> None:
    """Raises 401 `invalid_signature` unless `signature` over `digest` is `signer`'s."""
    if reader.is_contract(signer):
        if not reader.erc1271_accepts(signer, digest, signature):
            raise ApiError(
                401, "invalid_signature", f"the contract wallet {signer} does not accept this signature (ERC-1271)"
            )
        return
    try:
        recovered = Account._recover_hash(digest, signature=signature)
    except Exception as exc:  # malformed r, s or v
        raise ApiError(401, "invalid_signature", f"signature does not recover: {exc}") from exc
    if recovered != signer:
        raise ApiError(401, "invalid_signature", f"signature is by {recovered}, not by the signer {signer}")
