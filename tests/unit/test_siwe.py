"""The EIP-4361 check (api/http/auth/siwe.py) without a chain: the EIP's own example messages parse,
anything off the grammar or its canonical form is refused, and every check of a sign-in refuses with
its own code, consuming the nonce only when everything else holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_hex

from api.http.auth import siwe
from api.http.auth.siwe import Expected, SiweError

# The examples of EIP-4361 (eips.ethereum.org/EIPS/eip-4361, "Example message" and with a scheme).
EIP_EXAMPLE = """service.invalid wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ServiceOrg Terms of Service: https://service.invalid/tos

URI: https://service.invalid/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""
EIP_EXAMPLE_SCHEME = "https://" + EIP_EXAMPLE

KEY = "0x" + "11" * 32
OTHER_KEY = "0x" + "22" * 32
ADDRESS = Account.from_key(KEY).address
EXPECTED = Expected.of("https://desk.example:8443", 31337)
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def message(**changes: str) -> str:
    fields = {
        "domain": "desk.example:8443",
        "address": ADDRESS,
        "uri": "https://desk.example:8443/",
        "chain": "31337",
        "nonce": "abcDEF1234567890",
        "issued": "2026-12-07T09:59:00Z",
        "tail": "",
    } | changes
    return (
        f"{fields['domain']} wants you to sign in with your Ethereum account:\n{fields['address']}\n\n"
        f"Sign in to the ReturnTrace return desk.\n\nURI: {fields['uri']}\nVersion: 1\nChain ID: {fields['chain']}\n"
        f"Nonce: {fields['nonce']}\nIssued At: {fields['issued']}{fields['tail']}"
    )


def sign(text: str, key: str = KEY) -> str:
    return to_hex(Account.sign_message(encode_defunct(text=text), private_key=key).signature)


class Nonces:
    def __init__(self, *handed_out: str) -> None:
        self.live, self.asked = set(handed_out), []

    def __call__(self, nonce: str) -> bool:
        self.asked.append(nonce)
        if nonce in self.live:
            self.live.remove(nonce)
            return True
        return False


def verify(text: str, signature: str | None = None, nonces: Nonces | None = None) -> siwe.Verified:
    nonces = nonces if nonces is not None else Nonces("abcDEF1234567890")
    return siwe.verify(text, signature or sign(text), EXPECTED, nonces, now=NOW)


def rejected(code: str, text: str, signature: str | None = None, nonces: Nonces | None = None) -> str:
    with pytest.raises(SiweError) as caught:
        verify(text, signature, nonces)
    assert caught.value.code == code, caught.value.detail
    return caught.value.detail


@pytest.mark.parametrize("text", [EIP_EXAMPLE, EIP_EXAMPLE_SCHEME])
def test_the_eip_examples_parse_field_for_field(text):
    m = siwe.parse(text)
    assert (m.domain, m.address, m.uri, m.chain_id, m.nonce, m.issued_at) == (
        "service.invalid",
        "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        "https://service.invalid/login",
        1,
        "32891756",
        "2021-09-30T16:25:24Z",
    )
    assert m.statement == "I accept the ServiceOrg Terms of Service: https://service.invalid/tos"
    assert len(m.resources) == 2 and m.scheme == ("https" if text.startswith("https://") else None)


@pytest.mark.parametrize(
    "text",
    [
        EIP_EXAMPLE.replace("Version: 1", "Version: 2"),
        EIP_EXAMPLE.replace("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"),
        EIP_EXAMPLE.replace("\n", "\r\n"),
        EIP_EXAMPLE + "\n",
        EIP_EXAMPLE + "\nExtra: field",
        EIP_EXAMPLE.replace("Issued At: 2021-09-30T16:25:24Z", "Issued At: yesterday"),
        EIP_EXAMPLE.replace("Nonce: 32891756", "Nonce: 123"),  # under 8 characters
        EIP_EXAMPLE.replace("Nonce: 32891756\n", ""),
        EIP_EXAMPLE.replace(" wants you to sign in", " asks you to sign in"),
        "",
    ],
    ids=[
        "version-2",
        "address-not-eip55",
        "crlf",
        "trailing-newline",
        "trailing-field",
        "bad-time",
        "short-nonce",
        "no-nonce",
        "wrong-preamble",
        "empty",
    ],
)
def test_anything_off_the_grammar_or_its_canonical_form_is_malformed(text):
    with pytest.raises(SiweError) as caught:
        siwe.parse(text)
    assert caught.value.code == "siwe_malformed"


def test_a_valid_sign_in_names_its_signer_and_consumes_its_nonce():
    nonces = Nonces("abcDEF1234567890")
    text = message(tail="\nExpiration Time: 2026-12-07T11:00:00Z")
    found = verify(text, nonces=nonces)
    assert (found.address, found.chain_id, found.nonce) == (ADDRESS, 31337, "abcDEF1234567890")
    assert found.expires_at == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    assert nonces.live == set() and found.digest.startswith("0x") and len(found.digest) == 66
    # The same message again: its nonce is spent.
    rejected("siwe_nonce_unknown", text, nonces=nonces)


@pytest.mark.parametrize(
    ("code", "changes"),
    [
        ("siwe_wrong_domain", {"domain": "evil.example"}),
        ("siwe_wrong_domain", {"domain": "desk.example"}),  # the port is part of the authority
        ("siwe_wrong_uri", {"uri": "https://evil.example/"}),
        ("siwe_wrong_uri", {"uri": "http://desk.example:8443/"}),
        ("siwe_wrong_chain", {"chain": "1"}),
        ("siwe_expired", {"tail": "\nExpiration Time: 2026-12-07T09:59:30Z"}),
        ("siwe_expired", {"issued": "2026-12-07T09:49:00Z"}),  # older than the ten minutes a nonce lives
        ("siwe_not_yet_valid", {"issued": "2026-12-07T10:05:00Z"}),
        ("siwe_not_yet_valid", {"tail": "\nNot Before: 2026-12-07T10:30:00Z"}),
        ("siwe_nonce_unknown", {"nonce": "neverHandedOut1"}),
    ],
)
def test_each_check_refuses_with_its_own_code(code, changes):
    rejected(code, message(**changes))


def test_a_scheme_must_be_the_gateways():
    rejected("siwe_wrong_domain", "http://" + message())
    assert verify("https://" + message()).address == ADDRESS


def test_a_signature_by_another_key_or_a_malformed_one_is_refused_and_keeps_the_nonce():
    nonces = Nonces("abcDEF1234567890")
    text = message()
    assert "not " + ADDRESS in rejected("siwe_bad_signature", text, sign(text, OTHER_KEY), nonces)
    rejected("siwe_bad_signature", text, "0x1234", nonces)
    rejected("siwe_bad_signature", text, sign(message(nonce="otherNonce12345")), nonces)  # signed another text
    assert nonces.asked == [] and nonces.live == {"abcDEF1234567890"}  # never consumed by a refusal
    assert verify(text, nonces=nonces).address == ADDRESS


def test_the_message_written_for_an_account_verifies():
    text = siwe.message_for(EXPECTED, ADDRESS, "abcDEF1234567890", "Sign in.", now=NOW - timedelta(seconds=5))
    assert siwe.parse(text).prepare_message() == text
    assert verify(text).address == ADDRESS


def test_the_integrators_example_is_a_canonical_message():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "integrators.md").read_text()
    (text,) = re.findall(r"```text\n(\S+ wants you to sign in.*?)\n```", doc, re.S)
    assert siwe.parse(text).chain_id == 31337
