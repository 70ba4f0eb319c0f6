"""StorePoints: issued only by the escrow, never transferable, redeemed only by the issuing merchant
with the holder's signed consent."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, ERC1271WalletMock, StorePoints, StorePointsHarness, chain

from returntrace import eip712
from tests.support import err, next_block_at

AMOUNT = 1_000


@pytest.fixture
def minter(points, admin):
    """The admin, made a minter for direct tests (the escrow is the minter in production)."""
    points.grantRole(points.MINTER_ROLE(), admin, {"from": admin})
    return admin


@pytest.fixture
def holder(points, minter, actors):
    """The buyer, holding AMOUNT points of the brand."""
    points.mint(actors["buyer"].address, actors["brand"].address, AMOUNT, {"from": minter})
    return actors["buyer"]


@pytest.fixture
def consent(sign, points, points_domain, actors):
    """consent(holder, merchant_name, amount, **fields) -> (message, signature)."""

    def _consent(holder, merchant="brand", amount=AMOUNT, **fields):
        return sign(points_domain, "Redemption", holder, contract=points, merchant=actors[merchant].address, amount=amount, **fields)

    return _consent


def redeem(points, merchant, message, sig):
    return points.redeem(message["holder"], message["amount"], message["nonce"], message["deadline"], sig, {"from": merchant})


# ---------------------------------------------------------------- issuing


def test_escrow_is_the_minter(points, escrow, admin):
    role = points.MINTER_ROLE()
    assert points.hasRole(role, escrow) is True
    assert points.hasRole(role, admin) is False


@pytest.mark.parametrize("who", ["stranger", "brand", "buyer"])
def test_only_minter_mints(points, actors, who):
    role = bytes(points.MINTER_ROLE())
    with brownie.reverts(err("AccessControlUnauthorizedAccount", actors[who].address, role)):
        points.mint(actors[who].address, actors["brand"].address, AMOUNT, {"from": actors[who].account})


def test_admin_without_minter_role_cannot_mint(points, admin, actors):
    with brownie.reverts(err("AccessControlUnauthorizedAccount", admin.address, bytes(points.MINTER_ROLE()))):
        points.mint(actors["buyer"].address, actors["brand"].address, AMOUNT, {"from": admin})


def test_mint_issues_points_of_the_merchant(points, minter, actors):
    buyer, brand = actors["buyer"].address, actors["brand"].address
    tx = points.mint(buyer, brand, AMOUNT, {"from": minter})
    ev = tx.events["TransferSingle"]
    assert (ev["operator"], ev["from"], ev["to"], ev["id"], ev["value"]) == (minter.address, ZERO_ADDRESS, buyer, int(brand, 16), AMOUNT)
    assert points.pointsId(brand) == int(brand, 16)
    assert points.pointsOf(buyer, brand) == AMOUNT == points.balanceOf(buyer, int(brand, 16))
    assert points.pointsOf(buyer, actors["brand2"].address) == 0


def test_mint_skips_receiver_hook(points, minter, token, actors):
    """A contract that is no ERC-1155 receiver still gets its compensation."""
    points.mint(token.address, actors["brand"].address, AMOUNT, {"from": minter})
    assert points.pointsOf(token.address, actors["brand"].address) == AMOUNT


def test_mint_rejects_zero_addresses_and_amount(points, minter, actors):
    buyer, brand = actors["buyer"].address, actors["brand"].address
    with brownie.reverts(err("StorePointsZeroAddress")):
        points.mint(ZERO_ADDRESS, brand, AMOUNT, {"from": minter})
    with brownie.reverts(err("StorePointsZeroAddress")):
        points.mint(buyer, ZERO_ADDRESS, AMOUNT, {"from": minter})
    with brownie.reverts(err("StorePointsZeroAmount")):
        points.mint(buyer, brand, 0, {"from": minter})


def test_constructor(admin, actors):
    with brownie.reverts(err("StorePointsZeroAddress")):
        StorePoints.deploy(ZERO_ADDRESS, admin, "u", {"from": admin})
    p = StorePoints.deploy(admin, ZERO_ADDRESS, "urn:x:{id}", {"from": admin})
    assert p.hasRole(p.DEFAULT_ADMIN_ROLE(), admin) is True
    assert p.hasRole(p.MINTER_ROLE(), ZERO_ADDRESS) is False
    assert p.uri(1) == "urn:x:{id}"


def test_supports_erc1155_and_access_control(points):
    for interface_id in ("0x01ffc9a7", "0xd9b67a26", "0x0e89341c", "0x7965db0b"):
        assert points.supportsInterface(interface_id) is True
    assert points.supportsInterface("0xffffffff") is False


# ---------------------------------------------------------------- non-transferable


@pytest.mark.parametrize("who", ["buyer", "brand", "stranger"])
def test_points_cannot_be_transferred(points, holder, actors, who):
    account = actors[who].account
    brand_id = points.pointsId(actors["brand"].address)
    to = actors["buyer2"].address
    with brownie.reverts(err("StorePointsNonTransferable")):
        points.safeTransferFrom(holder.address, to, brand_id, 1, b"", {"from": account})
    with brownie.reverts(err("StorePointsNonTransferable")):
        points.safeBatchTransferFrom(holder.address, to, [brand_id], [1], b"", {"from": account})
    with brownie.reverts(err("StorePointsNonTransferable")):
        points.setApprovalForAll(to, True, {"from": account})
    with brownie.reverts(err("StorePointsNonTransferable")):
        points.safeTransferFrom(holder.address, to, brand_id, 0, b"", {"from": account})
    assert points.isApprovedForAll(account.address, to) is False
    assert points.pointsOf(holder.address, actors["brand"].address) == AMOUNT
    assert points.pointsOf(to, actors["brand"].address) == 0


def test_internal_update_refuses_holder_to_holder(admin, actors):
    """The second line of defence: even a future internal caller of _update cannot move points."""
    harness = StorePointsHarness.deploy(admin, {"from": admin})
    buyer, buyer2, brand = actors["buyer"].address, actors["buyer2"].address, actors["brand"].address
    harness.mint(buyer, brand, AMOUNT, {"from": admin})
    with brownie.reverts(err("StorePointsNonTransferable")):
        harness.update(buyer, buyer2, int(brand, 16), 1, {"from": admin})
    harness.update(buyer, ZERO_ADDRESS, int(brand, 16), 1, {"from": admin})  # a burn is fine
    assert harness.pointsOf(buyer, brand) == AMOUNT - 1


# ---------------------------------------------------------------- redeeming


def test_redemption_type_hash_and_domain(points, points_domain):
    assert bytes(points.getRedemptionTypeHash()) == eip712.type_hash("Redemption")
    assert eip712.type_string("Redemption") == "Redemption(address holder,address merchant,uint256 amount,uint256 nonce,uint64 deadline)"
    assert bytes(points.getDomainSeparator()) == points_domain.separator


def test_merchant_redeems_with_holder_consent(points, holder, consent, actors):
    brand = actors["brand"]
    message, sig = consent(holder, amount=400)
    tx = redeem(points, brand.account, message, sig)
    burn = tx.events["TransferSingle"]
    assert (burn["operator"], burn["from"], burn["to"], burn["id"], burn["value"]) == (brand.address, holder.address, ZERO_ADDRESS, int(brand.address, 16), 400)
    ev = tx.events["PointsRedeemed"]
    assert (ev["holder"], ev["merchant"], ev["amount"], ev["nonce"]) == (holder.address, brand.address, 400, 0)
    assert points.pointsOf(holder.address, brand.address) == AMOUNT - 400
    assert points.getNonce(holder.address) == 1


def test_replayed_consent_reverts(points, holder, consent, actors):
    message, sig = consent(holder, amount=100)
    redeem(points, actors["brand"].account, message, sig)
    with brownie.reverts(err("SignatureInvalidNonce", holder.address, 1, 0)):
        redeem(points, actors["brand"].account, message, sig)
    assert points.pointsOf(holder.address, actors["brand"].address) == AMOUNT - 100


def test_expired_consent_reverts(points, holder, consent, actors):
    deadline = chain.time() + 60
    message, sig = consent(holder, deadline=deadline)
    next_block_at(deadline + 1)
    with brownie.reverts(err("SignatureExpired", deadline)):
        redeem(points, actors["brand"].account, message, sig)


def test_consent_signed_by_someone_else_reverts(points, points_domain, holder, actors):
    message = {"holder": holder.address, "merchant": actors["brand"].address, "amount": AMOUNT, "nonce": 0, "deadline": chain.time() + 3600}
    sig = points_domain.sign(actors["buyer2"].key, "Redemption", message)
    with brownie.reverts(err("SignatureInvalid", holder.address)):
        redeem(points, actors["brand"].account, message, sig)


def test_consent_for_one_merchant_does_not_serve_another(points, minter, holder, consent, actors):
    points.mint(holder.address, actors["brand2"].address, AMOUNT, {"from": minter})
    message, sig = consent(holder, merchant="brand")
    with brownie.reverts(err("SignatureInvalid", holder.address)):
        redeem(points, actors["brand2"].account, message, sig)


def test_tampered_amount_reverts(points, holder, consent, actors):
    message, sig = consent(holder, amount=10)
    with brownie.reverts(err("SignatureInvalid", holder.address)):
        redeem(points, actors["brand"].account, {**message, "amount": AMOUNT}, sig)


def test_redeem_more_than_balance_reverts(points, holder, consent, actors):
    brand_id = points.pointsId(actors["brand"].address)
    message, sig = consent(holder, amount=AMOUNT + 1)
    with brownie.reverts(err("ERC1155InsufficientBalance", holder.address, AMOUNT, AMOUNT + 1, brand_id)):
        redeem(points, actors["brand"].account, message, sig)


def test_points_of_another_merchant_cannot_be_redeemed(points, minter, consent, actors):
    """brand2's points are not brand's: brand finds no balance of its own to burn."""
    buyer2 = actors["buyer2"]
    points.mint(buyer2.address, actors["brand2"].address, AMOUNT, {"from": minter})
    message, sig = consent(buyer2, merchant="brand")
    with brownie.reverts(err("ERC1155InsufficientBalance", buyer2.address, 0, AMOUNT, points.pointsId(actors["brand"].address))):
        redeem(points, actors["brand"].account, message, sig)


def test_redeem_zero_reverts(points, holder, consent, actors):
    message, sig = consent(holder, amount=0)
    with brownie.reverts(err("StorePointsZeroAmount")):
        redeem(points, actors["brand"].account, message, sig)


def test_holder_cancels_consent(points, holder, consent, actors):
    message, sig = consent(holder)
    points.increaseNonce(1, {"from": holder.account})
    with brownie.reverts(err("SignatureInvalidNonce", holder.address, 1, 0)):
        redeem(points, actors["brand"].account, message, sig)


def test_contract_wallet_holder_redeems(points, points_domain, minter, admin, actors):
    owner = actors["buyer"]
    wallet = ERC1271WalletMock.deploy(owner.address, {"from": admin})
    points.mint(wallet.address, actors["brand"].address, AMOUNT, {"from": minter})
    message = {"holder": wallet.address, "merchant": actors["brand"].address, "amount": 300, "nonce": 0, "deadline": chain.time() + 3600}
    sig = points_domain.sign(owner.key, "Redemption", message)
    redeem(points, actors["brand"].account, message, sig)
    assert points.pointsOf(wallet.address, actors["brand"].address) == AMOUNT - 300
    wallet.setAccepting(False, {"from": admin})
    message = {**message, "nonce": 1}
    sig = points_domain.sign(owner.key, "Redemption", message)
    with brownie.reverts(err("SignatureInvalid", wallet.address)):
        redeem(points, actors["brand"].account, message, sig)


def test_points_from_settlement_are_redeemable(shop, escrow, points, consent, actors):
    """End to end: a grade C settlement issues points the buyer then spends at the brand."""
    order = shop.returned(market=1)  # US: C earns 50 % in points
    shop.inspect(order, 4, 3)
    escrow.acceptInspection(order, {"from": actors["buyer"].account})
    issued = points.pointsOf(actors["buyer"].address, actors["brand"].address)
    assert issued == 10**18 // 2
    message, sig = consent(actors["buyer"], amount=issued)
    redeem(points, actors["brand"].account, message, sig)
    assert points.pointsOf(actors["buyer"].address, actors["brand"].address) == 0
