"""The EIP-4361 message check: parsed strictly by the EIP's own ABNF grammar (the `siwe` package,
Spruce's reference implementation, pinned with the `abnf` it was built for), then checked here
against this gateway — domain, URI origin, chain id, version, times, single-use nonce — and the
signature recovered from the exact text received (EIP-191 personal_sign) must be the address it
names: an externally owned account (contract wallets, EIP-1271, are not accepted).

Every refusal is a SiweError with a stable code (docs/integrators.md, Signing in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak
from siwe import SiweMessage

# A clock a little ahead of ours is tolerated, not a message from the future.
CLOCK_SKEW = timedelta(seconds=60)
# How long a signed sign-in message is good for after its Issued At (the nonce's life bounds it too).
MAX_AGE = timedelta(minutes=10)


class SiweError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Expected:
    """What a sign-in message must say to open a session on this gateway."""

    domain: str  # RFC 3986 authority of the gateway's public URL (host[:port])
    origin: str  # scheme://authority: the message's URI must be on it
    chain_id: int

    @classmethod
    def of(cls, public_url: str, chain_id: int) -> Expected:
        parts = urlsplit(public_url)
        return cls(parts.netloc, f"{parts.scheme}://{parts.netloc}", chain_id)


@dataclass(frozen=True)
class Verified:
    address: str  # checksummed, the signer
    chain_id: int
    nonce: str
    expires_at: datetime | None  # the message's Expiration Time, if it has one
    digest: str  # 0x keccak-256 of the signed text: what the session was opened with


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def message_for(expected: Expected, address: str, nonce: str, statement: str, now: datetime | None = None) -> str:
    """The canonical EIP-4361 text an account signs to sign in here now."""
    issued = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return SiweMessage(
        domain=expected.domain,
        address=address,
        statement=statement,
        uri=expected.origin + "/",
        version="1",
        chain_id=expected.chain_id,
        nonce=nonce,
        issued_at=issued,
    ).prepare_message()


def parse(text: str) -> SiweMessage:
    """The message, if `text` is an EIP-4361 message in its one canonical form; else siwe_malformed."""
    try:
        message = SiweMessage.from_message(text, abnf=True)
    except (ValueError, TypeError) as exc:  # the grammar's ParseError arrives as a ValueError, fields as pydantic's
        why = str(exc.__cause__ or exc) or type(exc).__name__
        raise SiweError("siwe_malformed", f"not an EIP-4361 message: {why.splitlines()[0][:200]}") from None
    # The library re-serialises a message to verify it; only a message it writes back byte for byte is the
    # one that was signed (no "Chain ID: 0" read as 1, no trailing text).
    if message.prepare_message() != text:
        raise SiweError("siwe_malformed", "the message is not in the EIP-4361 canonical form")
    return message


def verify(
    text: str, signature: str, expected: Expected, use_nonce: Callable[[str], bool], now: datetime | None = None
) -> Verified:
    """The signer of a valid sign-in message for `expected`; its nonce is consumed (`use_nonce`) only
    once everything else holds, so a refused message does not burn it."""
    now = now or datetime.now(UTC)
    message = parse(text)
    if message.scheme is not None and f"{message.scheme}://{message.domain}" != expected.origin:
        raise SiweError("siwe_wrong_domain", f"scheme {message.scheme} is not this gateway's")
    if message.domain != expected.domain:
        raise SiweError("siwe_wrong_domain", f"the message is for {message.domain}, this is {expected.domain}")
    uri = urlsplit(str(message.uri))
    if f"{uri.scheme}://{uri.netloc}" != expected.origin:
        raise SiweError("siwe_wrong_uri", f"URI {message.uri} is not on {expected.origin}")
    if message.chain_id != expected.chain_id:
        raise SiweError("siwe_wrong_chain", f"chain {message.chain_id}; this gateway is on {expected.chain_id}")
    issued = _time(message.issued_at)
    if issued > now + CLOCK_SKEW:
        raise SiweError("siwe_not_yet_valid", f"issued at {message.issued_at}, in the future")
    if now - issued > MAX_AGE:
        raise SiweError("siwe_expired", f"issued at {message.issued_at}: sign-in messages are good for {MAX_AGE}")
    expires = _time(message.expiration_time) if message.expiration_time else None
    if expires is not None and expires <= now:
        raise SiweError("siwe_expired", f"expired at {message.expiration_time}")
    if message.not_before and _time(message.not_before) > now + CLOCK_SKEW:
        raise SiweError("siwe_not_yet_valid", f"not valid before {message.not_before}")
    try:
        signer = Account.recover_message(encode_defunct(text=text), signature=signature)
    except Exception:  # malformed hex, wrong length, bad v/s: eth-account raises several kinds
        raise SiweError("siwe_bad_signature", "the signature is malformed") from None
    if signer != message.address:
        raise SiweError("siwe_bad_signature", f"the signature is not {message.address}'s")
    if not use_nonce(message.nonce):
        raise SiweError("siwe_nonce_unknown", "the nonce was not handed out here, was used already, or expired")
    digest = "0x" + keccak(text=text).hex()
    return Verified(message.address, message.chain_id, message.nonce, expires, digest)
