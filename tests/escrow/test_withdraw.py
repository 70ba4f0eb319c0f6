"""Pull payments: credits move only on withdraw, exactly once, in the native coin or a token;
surplus recovery never touches what is owed."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, ReentrantBuyerMock, web3
from eth_utils import keccak

from returntrace.escrow import Facts, Grade
from scripts.builder import listing_terms
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, err

TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT
ADMIN_ROLE = b"\x00" * 32


REENTRANT_CALL = "0x" + keccak(text="ReentrancyGuardReentrantCall()")[:4].hex()


def nested_revert_outputs(txid):
    """Revert data of every reverted call inside the transaction (anvil's callTracer)."""
    root = web3.provider.make_request("debug_traceTransaction", [txid, {"tracer": "callTracer"}])["result"]
    found, stack = [], list(root.get("calls", []))
    while stack:
        call = stack.pop()
        if call.get("error"):
            found.append(call.get("output", "0x")[:10])
        stack.extend(call.get("calls", []))
    return found


def set_balance(address, wei):
    web3.provider.make_request("anvil_setBalance", [str(address), hex(wei)])


def test_settlement_credits_without_sending(shop, escrow, actors):
    order = shop.returned()
    buyer = actors["buyer"].address
    before_buyer, before_escrow = web3.eth.get_balance(buyer), web3.eth.get_balance(escrow.address)
    shop.inspect(order, SEALED, Grade.A)  # relayed: the buyer pays no gas
    assert web3.eth.get_balance(buyer) == before_buyer
    assert web3.eth.get_balance(escrow.address) == before_escrow
    assert escrow.credits(ZERO_ADDRESS, buyer) == TOTAL


def test_withdraw_pays_credit_once(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, SEALED, Grade.A)
    buyer = actors["buyer"].account
    before = web3.eth.get_balance(buyer.address)
    tx = escrow.withdraw(ZERO_ADDRESS, {"from": buyer})
    ev = tx.events["Withdrawn"]
    assert (ev["currency"], ev["account"], ev["to"], ev["amount"]) == (
        ZERO_ADDRESS,
        buyer.address,
        buyer.address,
        TOTAL,
    )
    assert web3.eth.get_balance(buyer.address) == before + TOTAL - tx.gas_used * tx.gas_price
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == 0
    shop.assert_solvent()
    with brownie.reverts(err("ReturnEscrowNothingToWithdraw", ZERO_ADDRESS, buyer.address)):
        escrow.withdraw(ZERO_ADDRESS, {"from": buyer})


def test_withdraw_to_pays_the_named_recipient_once(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, SEALED, Grade.A)
    buyer, to = actors["buyer"].account, actors["stranger"].address
    before_buyer, before_to = web3.eth.get_balance(buyer.address), web3.eth.get_balance(to)
    tx = escrow.withdrawTo(ZERO_ADDRESS, to, {"from": buyer})
    ev = tx.events["Withdrawn"]
    assert (ev["currency"], ev["account"], ev["to"], ev["amount"]) == (ZERO_ADDRESS, buyer.address, to, TOTAL)
    assert web3.eth.get_balance(to) == before_to + TOTAL
    assert web3.eth.get_balance(buyer.address) == before_buyer - tx.gas_used * tx.gas_price
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == 0
    shop.assert_solvent()
    for call in (
        lambda: escrow.withdrawTo(ZERO_ADDRESS, to, {"from": buyer}),
        lambda: escrow.withdraw(ZERO_ADDRESS, {"from": buyer}),
    ):
        with brownie.reverts(err("ReturnEscrowNothingToWithdraw", ZERO_ADDRESS, buyer.address)):
            call()


def test_withdraw_to_zero_address_reverts(shop, escrow, actors):
    order = shop.returned()
    shop.inspect(order, SEALED, Grade.A)
    buyer = actors["buyer"].account
    with brownie.reverts(err("ReturnEscrowZeroAddress")):
        escrow.withdrawTo(ZERO_ADDRESS, ZERO_ADDRESS, {"from": buyer})
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL


def test_failed_send_keeps_the_credit(shop, escrow, token, actors):
    """A recipient that refuses the coin (here a contract without receive) fails the whole withdrawal:
    the credit stays, and the buyer names another recipient."""
    order = shop.returned()
    shop.inspect(order, SEALED, Grade.A)
    buyer = actors["buyer"].account
    with brownie.reverts(err("ReturnEscrowNativeTransferFailed", token.address, TOTAL)):
        escrow.withdrawTo(ZERO_ADDRESS, token, {"from": buyer})
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    shop.assert_solvent()
    escrow.withdrawTo(ZERO_ADDRESS, actors["buyer2"].address, {"from": buyer})
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == 0 == escrow.totalOwed(ZERO_ADDRESS)


def test_nothing_to_withdraw_reverts(escrow, token, actors):
    stranger = actors["stranger"].account
    for currency in (ZERO_ADDRESS, token.address):
        with brownie.reverts(err("ReturnEscrowNothingToWithdraw", currency, stranger.address)):
            escrow.withdraw(currency, {"from": stranger})
        with brownie.reverts(err("ReturnEscrowNothingToWithdraw", currency, stranger.address)):
            escrow.withdrawTo(currency, actors["buyer"].address, {"from": stranger})


def test_credit_in_one_currency_is_not_paid_in_another(shop, escrow, token, actors):
    order = shop.returned()
    shop.inspect(order, SEALED, Grade.A)
    buyer = actors["buyer"].account
    with brownie.reverts(err("ReturnEscrowNothingToWithdraw", token.address, buyer.address)):
        escrow.withdraw(token, {"from": buyer})


def test_erc20_withdraw(shop, escrow, token, actors):
    order = shop.returned(token=token, price=1_000_000, delivery_fee=50_000, return_fee=30_000)
    shop.inspect(order, SEALED, Grade.A)
    buyer = actors["buyer"].account
    before = token.balanceOf(buyer.address)
    tx = escrow.withdraw(token, {"from": buyer})
    assert (tx.events["Withdrawn"]["currency"], tx.events["Withdrawn"]["to"]) == (token.address, buyer.address)
    assert token.balanceOf(buyer.address) == before + 1_050_000
    assert escrow.credits(token, buyer.address) == 0
    shop.assert_solvent(token)
    assert token.balanceOf(escrow) == 0


def test_reentrant_buyer_is_paid_once(shop, escrow, actors, relayer):
    mock = ReentrantBuyerMock.deploy(escrow, {"from": relayer})
    unit = shop.list_unit()
    order = mock.purchase(unit, listing_terms(escrow, unit), {"from": relayer, "value": TOTAL}).return_value
    assert escrow.order(order)["buyer"] == mock.address
    shop.deliver(order)
    mock.requestReturn(order, 0, {"from": relayer})
    shop.receive(order)
    shop.inspect(order, SEALED, Grade.A)
    assert escrow.credits(ZERO_ADDRESS, mock.address) == TOTAL

    tx = mock.withdraw({"from": relayer})
    assert mock.reentries() == 1
    assert mock.reenterFailed() is True
    # The nested withdraw was stopped by the reentrancy guard itself, not only by the zeroed credit.
    assert REENTRANT_CALL in nested_revert_outputs(tx.txid)
    assert web3.eth.get_balance(mock.address) == TOTAL
    assert escrow.credits(ZERO_ADDRESS, mock.address) == 0
    assert len(tx.events["Withdrawn"]) == 1
    shop.assert_solvent()
    assert web3.eth.get_balance(escrow.address) == 0


# ---------------------------------------------------------------- surplus


def test_recover_native_surplus_only(shop, escrow, admin, actors):
    order = shop.buy()
    surplus = 12345
    set_balance(escrow.address, TOTAL + surplus)  # coins forced in (e.g. selfdestruct)
    to = actors["stranger"].address
    before = web3.eth.get_balance(to)
    tx = escrow.recoverSurplus(ZERO_ADDRESS, to, {"from": admin})
    ev = tx.events["SurplusRecovered"]
    assert (ev["currency"], ev["to"], ev["amount"]) == (ZERO_ADDRESS, to, surplus)
    assert web3.eth.get_balance(to) == before + surplus
    shop.assert_solvent()
    with brownie.reverts(err("ReturnEscrowNothingToWithdraw", ZERO_ADDRESS, to)):
        escrow.recoverSurplus(ZERO_ADDRESS, to, {"from": admin})
    # The order is still fully paid out.
    shop.deliver(order)
    shop.request_return(order)
    shop.receive(order)
    shop.inspect(order, SEALED, Grade.A)
    escrow.withdraw(ZERO_ADDRESS, {"from": actors["buyer"].account})
    assert web3.eth.get_balance(escrow.address) == 0


def test_recover_token_surplus_only(shop, escrow, token, admin, actors):
    order = shop.returned(token=token, price=1_000_000, delivery_fee=50_000, return_fee=0)
    token.transfer(escrow, 777, {"from": actors["buyer2"].account})  # sent outside any order
    to = actors["stranger"].address
    escrow.recoverSurplus(token, to, {"from": admin})
    assert token.balanceOf(to) == 777
    shop.assert_solvent(token)
    with brownie.reverts(err("ReturnEscrowNothingToWithdraw", token.address, to)):
        escrow.recoverSurplus(token, to, {"from": admin})
    shop.inspect(order, SEALED, Grade.A)
    escrow.withdraw(token, {"from": actors["buyer"].account})
    assert token.balanceOf(escrow) == 0


def test_no_surplus_when_balance_equals_owed(shop, escrow, admin, actors):
    shop.buy()
    with brownie.reverts(err("ReturnEscrowNothingToWithdraw", ZERO_ADDRESS, admin.address)):
        escrow.recoverSurplus(ZERO_ADDRESS, admin, {"from": admin})


@pytest.mark.parametrize("who", ["stranger", "brand", "arbiter"])
def test_only_admin_recovers_surplus(escrow, actors, who):
    set_balance(escrow.address, 10**18)
    with brownie.reverts(err("AccessControlUnauthorizedAccount", actors[who].address, ADMIN_ROLE)):
        escrow.recoverSurplus(ZERO_ADDRESS, actors[who].address, {"from": actors[who].account})


def test_recover_to_zero_address_reverts(escrow, admin):
    set_balance(escrow.address, 10**18)
    with brownie.reverts(err("ReturnEscrowZeroAddress")):
        escrow.recoverSurplus(ZERO_ADDRESS, ZERO_ADDRESS, {"from": admin})


def test_native_send_to_refusing_contract_reverts(escrow, token, admin):
    set_balance(escrow.address, 500)
    with brownie.reverts(err("ReturnEscrowNativeTransferFailed", token.address, 500)):
        escrow.recoverSurplus(ZERO_ADDRESS, token, {"from": admin})
    assert web3.eth.get_balance(escrow.address) == 500
