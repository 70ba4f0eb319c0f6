"""StorePoints: per merchant and currency, issued only by the one minter set once (the escrow),
never transferable, redeemed only by the issuing merchant with the holder's signed consent."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, ERC1271WalletMock, StorePoints, StorePointsHarness, chain
from eth_abi import encode
from eth_utils import keccak

from returntrace import eip712
from scripts import deploy
from tests.support import err, next_block_at

AMOUNT = 1_000


def points_id(merchant, currency=ZERO_ADDRESS):
    """The ERC-1155 id of `merchant`'s points in `currency`, computed independently of the contract."""
    return int.from_bytes(keccak(encode(["address", "address"], [merchant, currency])), "big")


@pytest.fixture
def own(admin):
    """A StorePoints whose minter is the admin, for direct tests (the deployment's minter is the escrow)."""
    p = StorePoints.deploy(admin, "urn:x:{id}", {"from": admin})
    p.setMinter(admin, {"from": admin})
    return p


@pytest.fixture
def own_domain(own):
    return eip712.Domain(*deploy.POINTS_DOMAIN, chain.id, own.address)


@pytest.fixture
def holder(own, admin, actors):
    """The buyer, holding AMOUNT points of the brand in the native coin."""
    own.mint(actors["buyer"].address, actors["brand"].address, ZERO_ADDRESS, AMOUNT, {"from": admin})
    return actors["buyer"]


@pytest.fixture
def consent(sign, own, own_domain, actors):
    """consent(holder, merchant_name, amount, currency=native, **fields) -> (message, signature)."""

    def _consent(holder, merchant="brand", amount=AMOUNT, currency=ZERO_ADDRESS, **fields):
        return sign(
            own_domain,
            "Redemption",
            holder,
            merchant=actors[merchant].address,
            currency=currency,
            amount=amount,
            **fields,
        )

    return _consent


def redeem(points, merchant, message, sig):
    return points.redeem(
        message["holder"],
        message["currency"],
        message["amount"],
        message["nonce"],
        message["deadline"],
        sig,
        {"from": merchant},
    )


# ---------------------------------------------------------------- the minter


def test_escrow_is_the_one_minter(points, escrow, admin):
    assert points.minter() == escrow.address
    assert points.admin() == admin.address


def test_minter_is_set_once(points, escrow, admin, actors):
    """Changed rule (issue 9): no role anyone could revoke; the minter is set once, by the admin,
    and not even the admin can replace it (so no settlement can be blocked by an admin)."""
    for account in (actors["stranger"].account, admin):
        with brownie.reverts(err("StorePointsMinterSet", escrow.address)):
            points.setMinter(account, {"from": admin})
    assert points.minter() == escrow.address


def test_set_minter_checks(admin, actors):
    p = StorePoints.deploy(admin, "u", {"from": admin})
    stranger = actors["stranger"].account
    with brownie.reverts(err("StorePointsNotAdmin", stranger.address)):
        p.setMinter(stranger, {"from": stranger})
    with brownie.reverts(err("StorePointsZeroAddress")):
        p.setMinter(ZERO_ADDRESS, {"from": admin})
    tx = p.setMinter(stranger, {"from": admin})
    assert tx.events["MinterSet"]["minter"] == stranger.address
    assert p.minter() == stranger.address
    with brownie.reverts(err("StorePointsMinterSet", stranger.address)):
        p.setMinter(admin, {"from": admin})


@pytest.mark.parametrize("who", ["stranger", "brand", "buyer"])
def test_only_minter_mints(points, actors, who):
    with brownie.reverts(err("StorePointsNotMinter", actors[who].address)):
        points.mint(actors[who].address, actors["brand"].address, ZERO_ADDRESS, AMOUNT, {"from": actors[who].account})


def test_admin_is_not_a_minter(points, admin, actors):
    with brownie.reverts(err("StorePointsNotMinter", admin.address)):
        points.mint(actors["buyer"].address, actors["brand"].address, ZERO_ADDRESS, AMOUNT, {"from": admin})


def test_nobody_mints_before_the_minter_is_set(admin, actors):
    p = StorePoints.deploy(admin, "u", {"from": admin})
    for account in (admin, actors["stranger"].account):
        with brownie.reverts(err("StorePointsNotMinter", account.address)):
            p.mint(actors["buyer"].address, actors["brand"].address, ZERO_ADDRESS, AMOUNT, {"from": account})


# ---------------------------------------------------------------- issuing


def test_mint_issues_points_of_the_merchant_in_the_currency(own, admin, actors, token):
    buyer, brand = actors["buyer"].address, actors["brand"].address
    tx = own.mint(buyer, brand, ZERO_ADDRESS, AMOUNT, {"from": admin})
    ev = tx.events["TransferSingle"]
    assert (ev["operator"], ev["from"], ev["to"], ev["id"], ev["value"]) == (
        admin.address,
        ZERO_ADDRESS,
        buyer,
        points_id(brand),
        AMOUNT,
    )
    assert own.pointsId(brand, ZERO_ADDRESS) == points_id(brand)
    assert own.pointsOf(buyer, brand, ZERO_ADDRESS) == AMOUNT == own.balanceOf(buyer, points_id(brand))
    # Points of another merchant, or of the same merchant in another currency, are other points.
    assert own.pointsOf(buyer, actors["brand2"].address, ZERO_ADDRESS) == 0
    assert own.pointsOf(buyer, brand, token) == 0
    own.mint(buyer, brand, token, 7, {"from": admin})
    assert own.pointsOf(buyer, brand, token) == 7 == own.balanceOf(buyer, points_id(brand, token.address))
    assert own.pointsOf(buyer, brand, ZERO_ADDRESS) == AMOUNT


def test_mint_skips_receiver_hook(own, admin, token, actors):
    """A contract that is no ERC-1155 receiver still gets its compensation."""
    own.mint(token.address, actors["brand"].address, ZERO_ADDRESS, AMOUNT, {"from": admin})
    assert own.pointsOf(token.address, actors["brand"].address, ZERO_ADDRESS) == AMOUNT


def test_mint_rejects_zero_addresses_and_amount(own, admin, actors):
    buyer, brand = actors["buyer"].address, actors["brand"].address
    with brownie.reverts(err("StorePointsZeroAddress")):
        own.mint(ZERO_ADDRESS, brand, ZERO_ADDRESS, AMOUNT, {"from": admin})
    with brownie.reverts(err("StorePointsZeroAddress")):
        own.mint(buyer, ZERO_ADDRESS, ZERO_ADDRESS, AMOUNT, {"from": admin})
    with brownie.reverts(err("StorePointsZeroAmount")):
        own.mint(buyer, brand, ZERO_ADDRESS, 0, {"from": admin})


def test_constructor(admin):
    with brownie.reverts(err("StorePointsZeroAddress")):
        StorePoints.deploy(ZERO_ADDRESS, "u", {"from": admin})
    p = StorePoints.deploy(admin, "urn:x:{id}", {"from": admin})
    assert p.admin() == admin.address
    assert p.minter() == ZERO_ADDRESS
    assert p.uri(1) == "urn:x:{id}"


def test_supports_erc1155_not_access_control(points):
    for interface_id in ("0x01ffc9a7", "0xd9b67a26", "0x0e89341c"):  # ERC-165, ERC-1155, its metadata URI
        assert points.supportsInterface(interface_id) is True
    # Changed (issue 9): no AccessControl any more: nothing an admin could revoke.
    for interface_id in ("0x7965db0b", "0xffffffff"):
        assert points.supportsInterface(interface_id) is False


# ---------------------------------------------------------------- non-transferable


@pytest.mark.parametrize("who", ["buyer", "brand", "stranger"])
def test_points_cannot_be_transferred(own, holder, actors, who):
    account = actors[who].account
    brand_id = own.pointsId(actors["brand"].address, ZERO_ADDRESS)
    to = actors["buyer2"].address
    with brownie.reverts(err("StorePointsNonTransferable")):
        own.safeTransferFrom(holder.address, to, brand_id, 1, b"", {"from": account})
    with brownie.reverts(err("StorePointsNonTransferable")):
        own.safeBatchTransferFrom(holder.address, to, [brand_id], [1], b"", {"from": account})
    with brownie.reverts(err("StorePointsNonTransferable")):
        own.setApprovalForAll(to, True, {"from": account})
    with brownie.reverts(err("StorePointsNonTransferable")):
        own.safeTransferFrom(holder.address, to, brand_id, 0, b"", {"from": account})
    assert own.isApprovedForAll(account.address, to) is False
    assert own.pointsOf(holder.address, actors["brand"].address, ZERO_ADDRESS) == AMOUNT
    assert own.pointsOf(to, actors["brand"].address, ZERO_ADDRESS) == 0


def test_internal_update_refuses_holder_to_holder(admin, actors):
    """The second line of defence: even a future internal caller of _update cannot move points."""
    harness = StorePointsHarness.deploy(admin, {"from": admin})
    harness.setMinter(admin, {"from": admin})
    buyer, buyer2, brand = actors["buyer"].address, actors["buyer2"].address, actors["brand"].address
    harness.mint(buyer, brand, ZERO_ADDRESS, AMOUNT, {"from": admin})
    with brownie.reverts(err("StorePointsNonTransferable")):
        harness.update(buyer, buyer2, points_id(brand), 1, {"from": admin})
    harness.update(buyer, ZERO_ADDRESS, points_id(brand), 1, {"from": admin})  # a burn is fine
    assert harness.pointsOf(buyer, brand, ZERO_ADDRESS) == AMOUNT - 1


# ---------------------------------------------------------------- redeeming


def test_redemption_type_hash_and_domain(own, own_domain):
    assert bytes(own.getRedemptionTypeHash()) == eip712.type_hash("Redemption")
    assert (
        eip712.type_string("Redemption")
        == "Redemption(address holder,address merchant,address currency,uint256 amount,uint256 nonce,uint64 deadline)"
    )
    assert bytes(own.getDomainSeparator()) == own_domain.separator


def test_merchant_redeems_with_holder_consent(own, holder, consent, actors):
    brand = actors["brand"]
    message, sig = consent(holder, amount=400)
    tx = redeem(own, brand.account, message, sig)
    burn = tx.events["TransferSingle"]
    assert (burn["operator"], burn["from"], burn["to"], burn["id"], burn["value"]) == (
        brand.address,
        holder.address,
        ZERO_ADDRESS,
        points_id(brand.address),
        400,
    )
    ev = tx.events["PointsRedeemed"]
    assert (ev["holder"], ev["merchant"], ev["currency"], ev["amount"], ev["nonce"]) == (
        holder.address,
        brand.address,
        ZERO_ADDRESS,
        400,
        0,
    )
    assert own.pointsOf(holder.address, brand.address, ZERO_ADDRESS) == AMOUNT - 400
    assert own.getNonce(holder.address) == 1


def test_replayed_consent_reverts(own, holder, consent, actors):
    message, sig = consent(holder, amount=100)
    redeem(own, actors["brand"].account, message, sig)
    with brownie.reverts(err("SignatureInvalidNonce", holder.address, 1, 0)):
        redeem(own, actors["brand"].account, message, sig)
    assert own.pointsOf(holder.address, actors["brand"].address, ZERO_ADDRESS) == AMOUNT - 100


def test_expired_consent_reverts(own, holder, consent, actors):
    deadline = chain.time() + 60
    message, sig = consent(holder, deadline=deadline)
    next_block_at(deadline + 1)
    with brownie.reverts(err("SignatureExpired", deadline)):
        redeem(own, actors["brand"].account, message, sig)


def test_consent_signed_by_someone_else_reverts(own, own_domain, holder, actors):
    message = {
        "holder": holder.address,
        "merchant": actors["brand"].address,
        "currency": ZERO_ADDRESS,
        "amount": AMOUNT,
        "nonce": 0,
        "deadline": chain.time() + 3600,
    }
    sig = own_domain.sign(actors["buyer2"].key, "Redemption", message)
    with brownie.reverts(err("SignatureInvalid", holder.address)):
        redeem(own, actors["brand"].account, message, sig)


def test_consent_for_one_merchant_does_not_serve_another(own, admin, holder, consent, actors):
    own.mint(holder.address, actors["brand2"].address, ZERO_ADDRESS, AMOUNT, {"from": admin})
    message, sig = consent(holder, merchant="brand")
    with brownie.reverts(err("SignatureInvalid", holder.address)):
        redeem(own, actors["brand2"].account, message, sig)


def test_consent_for_one_currency_does_not_serve_another(own, admin, holder, consent, actors, token):
    """Points of different currencies never mix: a consent to spend native-coin points does not
    spend the same number of token points."""
    own.mint(holder.address, actors["brand"].address, token, AMOUNT, {"from": admin})
    message, sig = consent(holder, currency=ZERO_ADDRESS)
    with brownie.reverts(err("SignatureInvalid", holder.address)):
        redeem(own, actors["brand"].account, {**message, "currency": token.address}, sig)
    assert own.pointsOf(holder.address, actors["brand"].address, token) == AMOUNT


def test_tampered_amount_reverts(own, holder, consent, actors):
    message, sig = consent(holder, amount=10)
    with brownie.reverts(err("SignatureInvalid", holder.address)):
        redeem(own, actors["brand"].account, {**message, "amount": AMOUNT}, sig)


def test_redeem_more_than_balance_reverts(own, holder, consent, actors):
    brand_id = points_id(actors["brand"].address)
    message, sig = consent(holder, amount=AMOUNT + 1)
    with brownie.reverts(err("ERC1155InsufficientBalance", holder.address, AMOUNT, AMOUNT + 1, brand_id)):
        redeem(own, actors["brand"].account, message, sig)


def test_points_of_another_merchant_cannot_be_redeemed(own, admin, consent, actors):
    """brand2's points are not brand's: brand finds no balance of its own to burn."""
    buyer2 = actors["buyer2"]
    own.mint(buyer2.address, actors["brand2"].address, ZERO_ADDRESS, AMOUNT, {"from": admin})
    message, sig = consent(buyer2, merchant="brand")
    with brownie.reverts(
        err("ERC1155InsufficientBalance", buyer2.address, 0, AMOUNT, points_id(actors["brand"].address))
    ):
        redeem(own, actors["brand"].account, message, sig)


def test_points_of_another_currency_cannot_be_redeemed(own, holder, consent, actors, token):
    """The holder has native-coin points only: a consent to redeem token points finds none."""
    message, sig = consent(holder, currency=token.address)
    with brownie.reverts(
        err("ERC1155InsufficientBalance", holder.address, 0, AMOUNT, points_id(actors["brand"].address, token.address))
    ):
        redeem(own, actors["brand"].account, message, sig)
    assert own.pointsOf(holder.address, actors["brand"].address, ZERO_ADDRESS) == AMOUNT


def test_redeem_zero_reverts(own, holder, consent, actors):
    message, sig = consent(holder, amount=0)
    with brownie.reverts(err("StorePointsZeroAmount")):
        redeem(own, actors["brand"].account, message, sig)


def test_holder_cancels_consent(own, holder, consent, actors):
    message, sig = consent(holder)
    own.increaseNonce(1, {"from": holder.account})
    with brownie.reverts(err("SignatureInvalidNonce", holder.address, 1, 0)):
        redeem(own, actors["brand"].account, message, sig)


def test_contract_wallet_holder_redeems(own, own_domain, admin, actors):
    owner = actors["buyer"]
    wallet = ERC1271WalletMock.deploy(owner.address, {"from": admin})
    own.mint(wallet.address, actors["brand"].address, ZERO_ADDRESS, AMOUNT, {"from": admin})
    message = {
        "holder": wallet.address,
        "merchant": actors["brand"].address,
        "currency": ZERO_ADDRESS,
        "amount": 300,
        "nonce": 0,
        "deadline": chain.time() + 3600,
    }
    sig = own_domain.sign(owner.key, "Redemption", message)
    redeem(own, actors["brand"].account, message, sig)
    assert own.pointsOf(wallet.address, actors["brand"].address, ZERO_ADDRESS) == AMOUNT - 300
    wallet.setAccepting(False, {"from": admin})
    message = {**message, "nonce": 1}
    sig = own_domain.sign(owner.key, "Redemption", message)
    with brownie.reverts(err("SignatureInvalid", wallet.address)):
        redeem(own, actors["brand"].account, message, sig)


def test_points_from_settlement_are_redeemable(shop, escrow, points, points_domain, sign, actors):
    """End to end: a grade C settlement issues points the buyer then spends at the brand."""
    order = shop.returned(market=1)  # US: C earns 50 % in points
    shop.inspect(order, 4, 3)
    escrow.acceptInspection(order, {"from": actors["buyer"].account})
    buyer, brand = actors["buyer"], actors["brand"]
    issued = points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS)
    assert issued == 10**18 // 2
    message, sig = sign(
        points_domain, "Redemption", buyer, merchant=brand.address, currency=ZERO_ADDRESS, amount=issued
    )
    redeem(points, brand.account, message, sig)
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == 0
