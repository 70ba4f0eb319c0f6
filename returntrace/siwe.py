"""Sign-In with Ethereum from the client's side, against the gateway (docs/people.md): ask
`/v1/auth/nonce` for the message the gateway wrote for the address, sign it (EIP-191, the wallet's
`personal_sign`), post both to `/v1/auth/siwe`. One way for the command, the demo, the benches and
the tests."""

from __future__ import annotations

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct

NONCE_PATH = "/v1/auth/nonce"
SIGN_IN_PATH = "/v1/auth/siwe"


def signature(text: str, key: bytes | str) -> str:
    """The 0x-hex EIP-191 signature of `text` by `key`."""
    return "0x" + bytes(Account.sign_message(encode_defunct(text=text), private_key=key).signature).hex()


def sign_in(http: httpx.Client, address: str, key: bytes | str) -> httpx.Response:
    """The gateway's answer to the sign-in (200 with the session's `token`, or its refusal). Raises
    httpx.HTTPStatusError when the gateway writes no message for `address`. The session cookie is
    dropped: the session goes by its bearer token, so `http`'s other requests stay anonymous."""
    nonce = http.get(NONCE_PATH, params={"address": address})
    nonce.raise_for_status()
    text = nonce.json()["message"]
    answer = http.post(SIGN_IN_PATH, json={"message": text, "signature": signature(text, key)})
    http.cookies.clear()
    return answer


def bearer(token: str) -> dict[str, str]:
    """The header that carries a session."""
    return {"Authorization": f"Bearer {token}"}
