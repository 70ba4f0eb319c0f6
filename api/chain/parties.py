"""Who an account is on the chain, and who an order's parties are, read at one stated block: the
registry's actor record (role bits, organisation GLN) and the escrow's order (buyer, merchant). The
gateway's access rules (api/http/auth) decide from these, the same facts the contracts decide from
(ReturnEscrow._isMerchantSide: the merchant, or MERCHANT_STAFF of the merchant's organisation)."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak, to_checksum_address
from web3.exceptions import ContractCustomError, ContractLogicError

from returntrace.escrow import Order, OrderStatus
from returntrace.vocab import Role

from .client import Chain

# Who answers cases for a merchant: its staff, or a brand's own key for a brand that sells.
STAFF_ROLES = int(Role.MERCHANT_STAFF) | int(Role.BRAND)


@dataclass(frozen=True)
class Standing:
    """An account's accreditation at `block`."""

    account: str
    block: int
    roles: int
    organization: int  # GLN of its legal entity; 0: none
    auditor: bool  # listed in RT_AUDITORS

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES) and self.organization != 0


@dataclass(frozen=True)
class Parties:
    """An order's parties at `block`."""

    order_id: int
    block: int
    buyer: str
    merchant: str
    merchant_organization: int
    market: int
    policy_version: int
    unit_id: bytes
    status: int

    def is_merchant_side(self, who: Standing) -> bool:
        """The contract's rule: the merchant, or MERCHANT_STAFF of the merchant's organisation."""
        if who.account == self.merchant:
            return True
        return (
            bool(who.roles & int(Role.MERCHANT_STAFF))
            and who.organization != 0
            and who.organization == self.merchant_organization
        )

    def may_read(self, who: Standing) -> bool:
        """The order's buyer, its merchant's side, or an auditor."""
        return who.account == self.buyer or self.is_merchant_side(who) or who.auditor


ARBITER_ROLE = keccak(text="ARBITER_ROLE")


def judges(chain: Chain, order: Parties, who: Standing) -> bool:
    """Whether `who` holds the arbiter's role for the decision `order` waits for at `order.block`: a defect claim
    above the limit (ReturnPolicies' ARBITER_ROLE, as ReissueDesk.decideDefectClaim checks) or a dispute
    (ReturnEscrow's, as resolveDispute checks). The arbiter reads the evidence it decides on."""
    if order.status == OrderStatus.DEFECT_CLAIMED:
        contract = chain.policies
    elif order.status == OrderStatus.DISPUTED:
        contract = chain.escrow
    else:
        return False
    return bool(contract.functions.hasRole(ARBITER_ROLE, who.account).call(block_identifier=order.block))


def head(chain: Chain) -> int:
    return int(chain.w3.eth.block_number)


def actor(chain: Chain, account: str, block: int) -> tuple[int, int]:
    roles, organization = chain.registry.functions.actor(account).call(block_identifier=block)
    return int(roles), int(organization)


def standing(chain: Chain, account: str, block: int, auditors: tuple[str, ...] = ()) -> Standing:
    account = to_checksum_address(account)
    roles, organization = actor(chain, account, block)
    return Standing(account, block, roles, organization, account in auditors)


def parties(chain: Chain, order_id: int, block: int) -> Parties | None:
    """The order's parties at `block`; None for an order that did not exist then."""
    try:
        raw = chain.escrow.functions.order(order_id).call(block_identifier=block)
    except (ContractCustomError, ContractLogicError):
        return None
    order = Order.decode(raw, chain.escrow.abi)
    merchant = to_checksum_address(order.merchant)
    return Parties(
        order_id,
        block,
        to_checksum_address(order.buyer),
        merchant,
        actor(chain, merchant, block)[1],
        int(order.market),
        int(order.policy_version),
        bytes(order.unit_id),
        int(order.status),
    )


def brand_organization(chain: Chain, gtin: int, block: int) -> int | None:
    """The organisation of the brand that registered `gtin`, None for an unregistered one."""
    brand, _, _ = chain.registry.functions.product(gtin).call(block_identifier=block)
    if int(brand, 16) == 0:
        return None
    return actor(chain, brand, block)[1]
