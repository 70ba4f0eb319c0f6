"""Who may register a product class, and who may correct its flags (issue 9 item 7).

A brand registers a GTIN only under a GS1 company prefix the accreditor recorded for it (6 to 12 digits
after the GTIN-14's indicator digit) or with the accreditor's approval of that GTIN; the accreditor may
review a product's class flags, with a reason, and orders placed before keep the flags they were
placed under."""

import brownie
import pytest
from brownie import ZERO_ADDRESS

from returntrace import gs1
from returntrace.vocab import HYGIENE_SEALED, Role
from scripts.builder import listing_terms
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, DEFAULT_RETURN_FEE, GTIN_INT, MARKET_EU, err

ACCREDITOR = bytes.fromhex(brownie.web3.keccak(text="ACCREDITOR_ROLE").hex().removeprefix("0x"))
PREFIX, DIGITS = 9506000, 7  # the test brand's company prefix: GTIN_INT carries it
UNDER_PREFIX = int(gs1.with_check_digit("0950600077777"))
UNDER_PREFIX_CASE = int(gs1.with_check_digit("1950600077777"))  # indicator digit 1 (a case of the same item)
OUTSIDE = int(gs1.normalize_gtin("96385074"))  # GTIN-8, licensed singly


def _register(registry, actors, name, gtin, flags=0, markets=1):
    return registry.registerProduct(gtin, flags, markets, {"from": actors[name].account})


def test_unlicensed_brand_cannot_register_a_gtin(registry, actors):
    with brownie.reverts(err("TraceRegistryProductNotApproved", UNDER_PREFIX, actors["brand"].address)):
        _register(registry, actors, "brand", UNDER_PREFIX)
    assert registry.product(UNDER_PREFIX)[0] == ZERO_ADDRESS


def test_counterfeiter_cannot_claim_another_brands_gtin(registry, commission, actors, admin):
    """The attack (issue 9 item 7): a rival brand registers a GTIN of the brand's company prefix before
    the brand does, and commissions units with a verified-looking history. Refused: the prefix is
    the brand's; the brand registers its GTIN and only it commissions units of it."""
    registry.setCompanyPrefix(PREFIX, DIGITS, actors["brand"].address, {"from": admin})
    with brownie.reverts(err("TraceRegistryProductNotApproved", UNDER_PREFIX, actors["brand2"].address)):
        _register(registry, actors, "brand2", UNDER_PREFIX, HYGIENE_SEALED)
    _register(registry, actors, "brand", UNDER_PREFIX)
    assert registry.product(UNDER_PREFIX)[0] == actors["brand"].address
    with brownie.reverts(err("TraceRegistryNotBrandOf", actors["brand2"].address, UNDER_PREFIX)):
        commission("FAKE-1", actor="brand2", gtin=UNDER_PREFIX)
    assert registry.eventCount(commission("REAL-1", gtin=UNDER_PREFIX)) == 1


def test_company_prefix_lets_its_brand_register_every_gtin_carrying_it(registry, actors, admin):
    tx = registry.setCompanyPrefix(PREFIX, DIGITS, actors["brand"].address, {"from": admin})
    ev = tx.events["CompanyPrefixSet"]
    assert (ev["prefix"], ev["digits"], ev["brand"]) == (PREFIX, DIGITS, actors["brand"].address)
    assert registry.companyPrefixOwner(PREFIX, DIGITS) == actors["brand"].address
    assert registry.companyPrefixOwner(PREFIX, DIGITS + 1) == ZERO_ADDRESS  # the length is part of the prefix
    for gtin in (UNDER_PREFIX, UNDER_PREFIX_CASE):  # the indicator digit is not part of the prefix
        tx = _register(registry, actors, "brand", gtin, HYGIENE_SEALED, 0b11)
        assert tx.events["ProductRegistered"]["brand"] == actors["brand"].address
        assert registry.product(gtin)[0] == actors["brand"].address
    with brownie.reverts(err("TraceRegistryProductNotApproved", OUTSIDE, actors["brand"].address)):
        _register(registry, actors, "brand", OUTSIDE)


@pytest.mark.parametrize(
    "prefix, digits, gtin",
    [(123456, 6, "0123456999999"), (987654321098, 12, "0987654321098")],
    ids=["6-digits", "12-digits"],
)
def test_prefixes_of_6_to_12_digits(registry, actors, admin, prefix, digits, gtin):
    gtin = int(gs1.with_check_digit(gtin))
    with brownie.reverts(err("TraceRegistryProductNotApproved", gtin, actors["brand2"].address)):
        _register(registry, actors, "brand2", gtin)
    registry.setCompanyPrefix(prefix, digits, actors["brand2"].address, {"from": admin})
    _register(registry, actors, "brand2", gtin)
    assert registry.product(gtin)[0] == actors["brand2"].address


def test_leading_zeros_are_digits_of_the_prefix(registry, actors, admin):
    """A UPC company prefix 036000 is the GS1 prefix 0036000 (7 digits) of GTIN-14 00036000291452: the
    same number with 6 digits (036000) is another prefix."""
    gtin = int(gs1.normalize_gtin("036000291452"))
    registry.setCompanyPrefix(36000, 6, actors["brand2"].address, {"from": admin})
    with brownie.reverts(err("TraceRegistryProductNotApproved", gtin, actors["brand2"].address)):
        _register(registry, actors, "brand2", gtin)
    registry.setCompanyPrefix(36000, 7, actors["brand2"].address, {"from": admin})
    _register(registry, actors, "brand2", gtin)


@pytest.mark.parametrize("prefix, digits", [(12345, 5), (1234567890123, 13), (1234567, 6), (10**12, 12), (0, 0)])
def test_invalid_company_prefix_reverts(registry, actors, admin, prefix, digits):
    with brownie.reverts(err("TraceRegistryInvalidCompanyPrefix", prefix, digits)):
        registry.setCompanyPrefix(prefix, digits, actors["brand"].address, {"from": admin})


def test_largest_prefix_of_each_length_is_valid(registry, actors, admin):
    for digits in range(6, 13):
        registry.setCompanyPrefix(10**digits - 1, digits, actors["brand"].address, {"from": admin})
        assert registry.companyPrefixOwner(10**digits - 1, digits) == actors["brand"].address


def test_removed_prefix_registers_nothing_more_and_keeps_its_products(registry, commission, actors, admin):
    registry.setCompanyPrefix(PREFIX, DIGITS, actors["brand"].address, {"from": admin})
    _register(registry, actors, "brand", UNDER_PREFIX)
    tx = registry.setCompanyPrefix(PREFIX, DIGITS, ZERO_ADDRESS, {"from": admin})
    assert tx.events["CompanyPrefixSet"]["brand"] == ZERO_ADDRESS
    assert registry.companyPrefixOwner(PREFIX, DIGITS) == ZERO_ADDRESS
    with brownie.reverts(err("TraceRegistryProductNotApproved", UNDER_PREFIX_CASE, actors["brand"].address)):
        _register(registry, actors, "brand", UNDER_PREFIX_CASE)
    # The product registered under it stays the brand's.
    assert registry.product(UNDER_PREFIX)[0] == actors["brand"].address
    assert registry.eventCount(commission("KEPT-1", gtin=UNDER_PREFIX)) == 1


def test_a_prefix_moved_to_another_brand(registry, actors, admin):
    registry.setCompanyPrefix(PREFIX, DIGITS, actors["brand"].address, {"from": admin})
    registry.setCompanyPrefix(PREFIX, DIGITS, actors["brand2"].address, {"from": admin})
    with brownie.reverts(err("TraceRegistryProductNotApproved", UNDER_PREFIX, actors["brand"].address)):
        _register(registry, actors, "brand", UNDER_PREFIX)
    _register(registry, actors, "brand2", UNDER_PREFIX)


def test_approval_lets_exactly_that_brand_register_that_gtin(registry, actors, admin):
    tx = registry.approveProduct(OUTSIDE, actors["brand2"].address, {"from": admin})
    ev = tx.events["ProductApproved"]
    assert (ev["gtin"], ev["brand"]) == (OUTSIDE, actors["brand2"].address)
    assert registry.approvedBrand(OUTSIDE) == actors["brand2"].address
    with brownie.reverts(err("TraceRegistryProductNotApproved", OUTSIDE, actors["brand"].address)):
        _register(registry, actors, "brand", OUTSIDE)
    with brownie.reverts(err("TraceRegistryProductNotApproved", UNDER_PREFIX, actors["brand2"].address)):
        _register(registry, actors, "brand2", UNDER_PREFIX)  # approved for one GTIN, not for others
    _register(registry, actors, "brand2", OUTSIDE)
    assert registry.product(OUTSIDE)[0] == actors["brand2"].address


def test_withdrawn_approval_registers_nothing(registry, actors, admin):
    registry.approveProduct(OUTSIDE, actors["brand2"].address, {"from": admin})
    tx = registry.approveProduct(OUTSIDE, ZERO_ADDRESS, {"from": admin})
    assert tx.events["ProductApproved"]["brand"] == ZERO_ADDRESS
    assert registry.approvedBrand(OUTSIDE) == ZERO_ADDRESS
    with brownie.reverts(err("TraceRegistryProductNotApproved", OUTSIDE, actors["brand2"].address)):
        _register(registry, actors, "brand2", OUTSIDE)


def test_approval_does_not_make_a_brand(registry, actors, admin):
    carrier = actors["carrier"]
    registry.approveProduct(OUTSIDE, carrier.address, {"from": admin})
    with brownie.reverts(err("TraceRegistryRoleNotAllowed", carrier.address, 1, int(Role.BRAND))):
        _register(registry, actors, "carrier", OUTSIDE)


def test_approval_checks_the_gtin(registry, actors, admin):
    with brownie.reverts(err("TraceRegistryInvalidGtin", GTIN_INT + 1)):
        registry.approveProduct(GTIN_INT + 1, actors["brand"].address, {"from": admin})


def test_registered_gtin_cannot_be_taken_over_by_approval(registry, actors, admin):
    registry.approveProduct(GTIN_INT, actors["brand2"].address, {"from": admin})
    with brownie.reverts(err("TraceRegistryProductExists", GTIN_INT)):
        _register(registry, actors, "brand2", GTIN_INT)
    assert registry.product(GTIN_INT)[0] == actors["brand"].address


@pytest.mark.parametrize(
    "call",
    [
        lambda r, a: r.setCompanyPrefix(PREFIX, DIGITS, a["stranger"].address, {"from": a["stranger"].account}),
        lambda r, a: r.approveProduct(OUTSIDE, a["stranger"].address, {"from": a["stranger"].account}),
        lambda r, a: r.reviewClassFlags(GTIN_INT, 0, "cleanable", {"from": a["stranger"].account}),
    ],
    ids=["setCompanyPrefix", "approveProduct", "reviewClassFlags"],
)
def test_product_gates_are_the_accreditors(registry, actors, call):
    for who in ("stranger", "brand"):
        with brownie.reverts(err("AccessControlUnauthorizedAccount", actors[who].address, ACCREDITOR)):
            call(registry, {**actors, "stranger": actors[who]})


def test_review_of_class_flags_records_the_reason(registry, actors, admin):
    tx = registry.reviewClassFlags(GTIN_INT, 0, "CJEU C-681/17: can be cleaned and resold", {"from": admin})
    ev = tx.events["ProductClassReviewed"]
    assert (ev["gtin"], ev["previousFlags"], ev["classFlags"], ev["reason"]) == (
        GTIN_INT,
        HYGIENE_SEALED,
        0,
        "CJEU C-681/17: can be cleaned and resold",
    )
    brand, flags, markets = registry.product(GTIN_INT)
    assert (brand, flags, markets) == (actors["brand"].address, 0, 0b111)  # only the flags change


def test_review_of_an_unknown_product_reverts(registry, admin):
    with brownie.reverts(err("TraceRegistryUnknownProduct", OUTSIDE)):
        registry.reviewClassFlags(OUTSIDE, 0, "no such product", {"from": admin})


def test_reviewed_flags_apply_to_later_orders_only(registry, escrow, shop, actors, admin):
    """The brand declared its bottle hygiene-sealed (the buyer loses the withdrawal right once the seal
    is opened); the accreditor finds it cleanable. The order placed before keeps the flags it was
    placed under; a unit listed again after the review sells without the flag, and a purchase that
    committed to the old listing's flags reverts."""
    before = shop.buy()
    assert escrow.order(before)["hygieneSealed"]
    listed = shop.list_unit(serial="RELIST-1")
    stale_terms = listing_terms(escrow, listed)
    registry.reviewClassFlags(GTIN_INT, 0, "cleanable", {"from": admin})

    assert escrow.order(before)["hygieneSealed"]  # placed under the flag: unchanged
    after = shop.buy()
    assert not escrow.order(after)["hygieneSealed"]
    escrow.list(
        GTIN_INT, "RELIST-1", MARKET_EU, ZERO_ADDRESS, 10**18, 5 * 10**16, 3 * 10**16, {"from": actors["brand"].account}
    )
    assert escrow.listing(listed)["classFlags"] == 0
    buyer = actors["buyer2"].account
    with brownie.reverts(err("ReturnEscrowListingChanged", listed)):
        escrow.purchase(listed, stale_terms, False, {"from": buyer, "value": 10**18 + 5 * 10**16})
    relisted = escrow.purchase(
        listed, listing_terms(escrow, listed), False, {"from": buyer, "value": 10**18 + 5 * 10**16}
    ).return_value
    assert not escrow.order(relisted)["hygieneSealed"]


def test_a_listing_made_before_a_review_does_not_sell_under_the_old_flags(registry, escrow, shop, actors, admin):
    """Attack 7, its second half: the brand keeps the listings it made before the accreditor's review
    and never renews them. A purchase committed to the stale listing reverts; the brand's relisting
    carries the reviewed flags, and the order placed on it keeps the buyer's right of withdrawal."""
    listed = shop.list_unit(serial="STALE-1")
    stale = listing_terms(escrow, listed)
    registry.reviewClassFlags(GTIN_INT, 0, "cleanable", {"from": admin})
    buyer = actors["buyer"].account
    with brownie.reverts(err("ReturnEscrowListingChanged", listed)):
        escrow.purchase(listed, stale, False, {"from": buyer, "value": 10**18 + 5 * 10**16})
    brand = actors["brand"].account
    escrow.delist(listed, {"from": brand})
    escrow.list(
        GTIN_INT,
        "STALE-1",
        MARKET_EU,
        ZERO_ADDRESS,
        DEFAULT_PRICE,
        DEFAULT_DELIVERY_FEE,
        DEFAULT_RETURN_FEE,
        {"from": brand},
    )
    fresh = listing_terms(escrow, listed)
    assert fresh[-1] == 0 and fresh[:-1] == stale[:-1]  # the same terms, under the reviewed flags
    order = escrow.purchase(listed, fresh, False, {"from": buyer, "value": 10**18 + 5 * 10**16}).return_value
    assert not escrow.order(order)["hygieneSealed"]


def test_only_the_registry_tells_the_escrow_of_a_review(registry, escrow, shop, actors, admin):
    """A brand that could call the escrow's review hook itself would restore its stale listings (or
    stop a rival's sales): the hook answers only the registry, and the review it recorded stands."""
    listed = shop.list_unit(serial="HOOK-1")
    stale = listing_terms(escrow, listed)
    registry.reviewClassFlags(GTIN_INT, 0, "cleanable", {"from": admin})
    brand = actors["brand"].account
    with brownie.reverts(err("ReturnEscrowNotRegistry", brand.address)):
        escrow.classFlagsReviewed(GTIN_INT, stale[-1], {"from": brand})
    with brownie.reverts(err("ReturnEscrowListingChanged", listed)):
        escrow.purchase(
            listed, stale, False, {"from": actors["buyer"].account, "value": DEFAULT_PRICE + DEFAULT_DELIVERY_FEE}
        )
