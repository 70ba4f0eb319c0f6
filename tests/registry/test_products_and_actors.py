import brownie
import pytest
from brownie import TraceRegistry

from returntrace import gs1
from returntrace.vocab import STEP_ROLES, BizStep, Role
from tests.support import GLN_CARRIER, GTIN_INT, err

ACCREDITOR = brownie.web3.keccak(text="ACCREDITOR_ROLE").hex()


def test_registered_product_records_brand_flags_and_markets(registry, actors):
    brand, flags, markets = registry.product(GTIN_INT)
    assert brand == actors["brand"].address
    assert flags == 1
    assert markets == 0b111


@pytest.mark.parametrize("gtin", [9506000134353, 0, 10**14, 124])
def test_register_product_rejects_invalid_gtin(registry, actors, gtin):
    with brownie.reverts(err("TraceRegistryInvalidGtin", gtin)):
        registry.registerProduct(gtin, 0, 1, {"from": actors["brand"].account})


def test_gtin8_12_13_register_in_their_14_digit_form(registry, actors, admin):
    for short in ("96385074", "036000291452", "4006381333931"):
        gtin = int(gs1.normalize_gtin(short))
        registry.approveProduct(gtin, actors["brand2"].address, {"from": admin})  # the accreditor's approval (issue 9)
        registry.registerProduct(gtin, 0, 1, {"from": actors["brand2"].account})
        assert registry.product(gtin)[0] == actors["brand2"].address


def test_register_product_twice_reverts(registry, actors):
    with brownie.reverts(err("TraceRegistryProductExists", GTIN_INT)):
        registry.registerProduct(GTIN_INT, 0, 1, {"from": actors["brand2"].account})


def test_only_brands_register_products(registry, actors):
    carrier = actors["carrier"].address
    with brownie.reverts(err("TraceRegistryRoleNotAllowed", carrier, int(BizStep.COMMISSIONING), int(Role.BRAND))):
        registry.registerProduct(int(gs1.normalize_gtin("96385074")), 0, 1, {"from": carrier})


def test_set_actor_is_for_accreditors_only(registry, actors):
    stranger = actors["stranger"].address
    with brownie.reverts(
        err(
            "AccessControlUnauthorizedAccount",
            stranger,
            bytes.fromhex(ACCREDITOR[2:] if ACCREDITOR.startswith("0x") else ACCREDITOR),
        )
    ):
        registry.setActor(
            actors["stranger"].address, int(Role.CARRIER), GLN_CARRIER, {"from": actors["stranger"].account}
        )


def test_set_actor_checks_gln_and_zero_address(registry, admin, actors):
    with brownie.reverts(err("TraceRegistryInvalidGln", 1234567890123)):
        registry.setActor(actors["stranger"].address, int(Role.CARRIER), 1234567890123, {"from": admin})
    with brownie.reverts(err("TraceRegistryZeroAddress")):
        registry.setActor(brownie.ZERO_ADDRESS, int(Role.CARRIER), GLN_CARRIER, {"from": admin})


def test_set_actor_updates_and_revokes(registry, admin, actors):
    tx = registry.setActor(actors["stranger"].address, int(Role.CARRIER | Role.WAREHOUSE), GLN_CARRIER, {"from": admin})
    assert tx.events["ActorUpdated"]["roles"] == 6
    assert [int(x) for x in registry.actor(actors["stranger"].address)] == [6, GLN_CARRIER]
    registry.setActor(actors["stranger"].address, 0, 0, {"from": admin})
    assert [int(x) for x in registry.actor(actors["stranger"].address)] == [0, 0]


def test_allowed_roles_table_matches_client_vocabulary(registry):
    # Commissioning and decommissioning are brands' calls of their own: no EventBatch may sign them.
    for step in BizStep:
        expected = 0 if step in (BizStep.COMMISSIONING, BizStep.DECOMMISSIONING) else int(STEP_ROLES[step])
        assert registry.allowedRoles(int(step)) == expected, step
    assert registry.allowedRoles(0) == 0
    assert registry.allowedRoles(17) == 0
    assert registry.allowedRoles(255) == 0


def test_constructor_rejects_zero_admin_or_accreditor(admin):
    with brownie.reverts(err("TraceRegistryZeroAddress")):
        TraceRegistry.deploy(brownie.ZERO_ADDRESS, admin, {"from": admin})
    with brownie.reverts(err("TraceRegistryZeroAddress")):
        TraceRegistry.deploy(admin, brownie.ZERO_ADDRESS, {"from": admin})


def test_admin_and_accreditor_are_separate_roles(admin, actors):
    accreditor = actors["stranger"].account
    role = bytes.fromhex(ACCREDITOR.removeprefix("0x"))
    fresh = TraceRegistry.deploy(admin, accreditor, {"from": admin})
    assert fresh.hasRole(role, accreditor) and not fresh.hasRole(role, admin)
    assert fresh.hasRole(fresh.DEFAULT_ADMIN_ROLE(), admin) and not fresh.hasRole(
        fresh.DEFAULT_ADMIN_ROLE(), accreditor
    )
    with brownie.reverts(err("AccessControlUnauthorizedAccount", admin.address, role)):
        fresh.setActor(actors["carrier"].address, int(Role.CARRIER), GLN_CARRIER, {"from": admin})
    fresh.setActor(actors["carrier"].address, int(Role.CARRIER), GLN_CARRIER, {"from": accreditor})


def test_unit_id_encoding_matches_client(registry):
    for gtin, serial in ((GTIN_INT, "ABC123"), (int(gs1.normalize_gtin("96385074")), "x!%&'()*+,-./:;<=>?_z"[:20])):
        assert registry.unitIdOf(gtin, serial) == "0x" + gs1.unit_id(gtin, serial).hex()
