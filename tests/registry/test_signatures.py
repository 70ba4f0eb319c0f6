"""Signatures are bound to signer, nonce, deadline, chain and contract; EOAs and ERC-1271 wallets sign."""

import brownie
from brownie import ERC1271WalletMock, TraceRegistry, chain
from eth_account import Account

from returntrace import eip712
from returntrace.vocab import BizStep, Role
from tests.support import GLN_CARRIER, err


def _submit(registry, relayer, message, sig):
    return registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})


def test_digest_matches_eth_account_typed_data(registry_domain, commission, event, sign_events):
    unit = commission()
    message, _ = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])
    signed = Account.sign_typed_data(b"\x01" * 32, full_message=registry_domain.typed_data("EventBatch", message))
    recovered = Account._recover_hash(registry_domain.digest("EventBatch", message), signature=signed.signature)
    assert recovered == Account.from_key(b"\x01" * 32).address


def test_type_hashes_and_domain_are_published(registry, registry_domain):
    assert registry.getEventTypeHashes() == ["0x" + eip712.type_hash(t).hex() for t in ("LifecycleEvent", "EventBatch")]
    assert registry.getCommissionTypeHashes() == [
        "0x" + eip712.type_hash(t).hex() for t in ("Commission", "CommissionBatch")
    ]
    assert registry.getDomainSeparator() == "0x" + registry_domain.separator.hex()


def test_replayed_signature_reverts(registry, commission, event, sign_events, relayer, actors):
    unit = commission()
    message, sig = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])
    _submit(registry, relayer, message, sig)
    with brownie.reverts(err("SignatureInvalidNonce", actors["carrier"].address, 1, 0)):
        _submit(registry, relayer, message, sig)


def test_out_of_order_nonce_reverts(registry, commission, event, sign_events, relayer, actors):
    unit = commission()
    message, sig = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")], nonce=5)
    with brownie.reverts(err("SignatureInvalidNonce", actors["carrier"].address, 0, 5)):
        _submit(registry, relayer, message, sig)


def test_expired_deadline_reverts(registry, commission, event, sign_events, relayer):
    unit = commission()
    deadline = chain.time() - 10
    message, sig = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")], deadline=deadline)
    with brownie.reverts(err("SignatureExpired", deadline)):
        _submit(registry, relayer, message, sig)


def test_signature_by_another_key_reverts(registry, registry_domain, commission, event, sign_events, relayer, actors):
    unit = commission()
    message, _ = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])
    sig = registry_domain.sign(actors["stranger"].key, "EventBatch", message)  # the right domain: only the key differs
    with brownie.reverts(err("SignatureInvalid", actors["carrier"].address)):
        _submit(registry, relayer, message, sig)


def test_tampered_field_breaks_signature(registry, commission, event, sign_events, relayer, actors):
    unit = commission()
    message, sig = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])
    message = {**message, "events": [{**message["events"][0], "disposition": message["events"][0]["disposition"] + 1}]}
    with brownie.reverts(err("SignatureInvalid", actors["carrier"].address)):
        _submit(registry, relayer, message, sig)


def test_signature_for_another_contract_or_chain_reverts(
    registry, admin, commission, event, sign_events, relayer, actors
):
    unit = commission()
    message, _ = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])
    other = TraceRegistry.deploy(admin, admin, {"from": admin})
    for domain in (
        eip712.Domain("ReturnTrace TraceRegistry", "2", chain.id, other.address),
        eip712.Domain("ReturnTrace TraceRegistry", "2", chain.id + 1, registry.address),
        # Version "1" is the v1 contracts' domain (issue 9 changed types and meanings): not valid here.
        eip712.Domain("ReturnTrace TraceRegistry", "1", chain.id, registry.address),
    ):
        sig = domain.sign(actors["carrier"].key, "EventBatch", message)
        with brownie.reverts(err("SignatureInvalid", actors["carrier"].address)):
            _submit(registry, relayer, message, sig)


def test_increase_nonce_cancels_outstanding_signatures(registry, commission, event, sign_events, relayer, actors):
    unit = commission()
    message, sig = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])
    carrier = actors["carrier"].account
    tx = registry.increaseNonce(3, {"from": carrier})
    assert tx.events["NonceIncreased"]["newNonce"] == 3
    with brownie.reverts(err("SignatureInvalidNonce", carrier.address, 3, 0)):
        _submit(registry, relayer, message, sig)
    with brownie.reverts(err("SignatureNonceTooLow", 3, 3)):
        registry.increaseNonce(3, {"from": carrier})


def test_domain_is_version_2(registry, registry_domain):
    assert registry_domain.version == "2"
    d = registry.eip712Domain()  # ERC-5267: what wallets read
    assert (d[1], d[2], int(d[3]), d[4]) == ("ReturnTrace TraceRegistry", "2", chain.id, registry.address)


MAX_NONCE = 2**256 - 1


def test_a_nonce_at_the_top_cannot_wrap_to_zero(registry, commission, event, sign_events, relayer, actors):
    """Issue 9: nonces increment checked. A signer who pushed its nonce to 2**256-1 (increaseNonce)
    cannot have a signature at that nonce consume it and wrap to 0, which would make every
    signature it ever gave valid again."""
    unit = commission()
    carrier = actors["carrier"]
    old, old_sig = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")], nonce=0)  # given away before
    registry.increaseNonce(MAX_NONCE, {"from": carrier.account})
    top, top_sig = sign_events("carrier", [event(unit, BizStep.DEPARTING, "carrier")], nonce=MAX_NONCE)
    with brownie.reverts("Integer overflow"):
        _submit(registry, relayer, top, top_sig)
    assert registry.getNonce(carrier.address) == MAX_NONCE
    with brownie.reverts(err("SignatureInvalidNonce", carrier.address, MAX_NONCE, 0)):
        _submit(registry, relayer, old, old_sig)
    assert registry.eventCount(unit) == 1


def test_erc1271_wallet_signs_events(registry, registry_domain, admin, commission, event, sign_events, relayer, actors):
    unit = commission()
    wallet = ERC1271WalletMock.deploy(actors["carrier"].address, {"from": admin})
    registry.setActor(wallet.address, int(Role.CARRIER), GLN_CARRIER, {"from": admin})
    domain = registry_domain
    message, _ = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])
    message = {**message, "signer": wallet.address, "nonce": 0}
    sig = domain.sign(actors["carrier"].key, "EventBatch", message)
    _submit(registry, relayer, message, sig)
    assert registry.eventCount(unit) == 2
    assert registry.getNonce(wallet.address) == 1

    wallet.setAccepting(False, {"from": admin})
    message = {**message, "nonce": 1}
    sig = domain.sign(actors["carrier"].key, "EventBatch", message)
    with brownie.reverts(err("SignatureInvalid", wallet.address)):
        _submit(registry, relayer, message, sig)
