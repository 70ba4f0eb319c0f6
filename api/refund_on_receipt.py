"""Refund on receipt: `escrow.releaseRefundOnReceipt(orderId)` submitted by the gateway itself.

When the relayer confirms an EventBatch holding a receiving scan whose bizTransaction is the RMA
reference of an order that is `ReturnRequested`, whose policy has `refundOnReturn` and whose scan
was made at a return center accredited for the order's market (the registry's milestone record,
`returnCenterAccredited(location, organisation, market)`), the relayer stores an unsigned outbox
message of kind `ReleaseRefundOnReceipt` in the same database transaction that confirms the
batch. Its id is derived from (chain, escrow, order), so it is stored once whatever happens
(restarts, the manual endpoint), relayed like any escrow message — simulated first, and failed
with the contract's decoded error if the chain refuses it, never retried forever.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from returntrace.vocab import BizStep

from .chain import (
    ORDER_MARKET, ORDER_POLICY_VERSION, ORDER_STATUS, ORDER_UNIT, POLICY_REFUND_ON_RETURN, Chain,
)
from .db.outbox import Message

KIND = "ReleaseRefundOnReceipt"
CONTRACT = "gateway"  # the outbox's (contract, signer, nonce) key: the gateway's own messages, one per order
STATUS_RETURN_REQUESTED = 2
MILESTONE_RETURN_RECEIVED = 1
NO_DEADLINE = 2**62


def message_id(chain: Chain, order_id: int) -> str:
    return "0x" + keccak(encode(["string", "uint256", "address", "uint256"], [KIND, chain.chain_id, chain.escrow.address, order_id])).hex()


def message(chain: Chain, order_id: int) -> Message:
    return Message(
        id=message_id(chain, order_id), kind=KIND, signer=chain.escrow.address, nonce=order_id, deadline=NO_DEADLINE,
        item_count=1, body={"orderId": order_id}, status="accepted", tx_hash=None, block=None, error=None,
        accepted_at=0.0, updated_at=0.0,
    )


def releasable(chain: Chain, order_id: int, block: int | str = "latest") -> tuple[bool, str, str]:
    """(True, "", "") if the escrow would release the order's refund on receipt now, else
    (False, code, why). Reads at `block`; node errors propagate (the caller retries later)."""
    escrow, registry = chain.escrow.functions, chain.registry.functions
    try:
        order = tuple(escrow.order(order_id).call(block_identifier=block))
    except (ContractCustomError, ContractLogicError):  # ReturnEscrowUnknownOrder
        return False, "unknown_order", f"order {order_id} does not exist"
    status = int(order[ORDER_STATUS])
    if status == 0:
        return False, "unknown_order", f"order {order_id} does not exist"
    if status != STATUS_RETURN_REQUESTED:
        return False, "order_not_returned", f"order {order_id} is not awaiting its return (status {status})"
    try:
        policy = tuple(escrow.policy(order[ORDER_MARKET], order[ORDER_POLICY_VERSION]).call(block_identifier=block))
    except (ContractCustomError, ContractLogicError):
        return False, "no_refund_on_return", f"order {order_id}'s policy cannot be read"
    if not policy[POLICY_REFUND_ON_RETURN]:
        return False, "no_refund_on_return", f"the policy of order {order_id}'s market does not refund on receipt"
    rma = bytes(escrow.rmaRef(order_id).call(block_identifier=block))
    at, location, organization = registry.milestone(bytes(order[ORDER_UNIT]), rma, MILESTONE_RETURN_RECEIVED).call(block_identifier=block)
    if int(at) == 0:
        return False, "not_returned", f"order {order_id}'s unit has no receiving scan under its RMA yet"
    if not registry.returnCenterAccredited(int(location), int(organization), int(order[ORDER_MARKET])).call(block_identifier=block):
        return False, "center_not_accredited", (
            f"the receiving scan at GLN {int(location):013d} (organisation {int(organization):013d}) is not at a return center "
            f"accredited for order {order_id}'s market"
        )
    return True, "", ""


def candidates(chain: Chain, batches: list[Message], block: int | str = "latest") -> list[Message]:
    """Release messages for the orders whose receiving scan these confirmed EventBatches carry."""
    out: dict[int, Message] = {}
    for m in batches:
        if m.kind != "EventBatch":
            continue
        for e in m.body.get("events", []):
            ref = e.get("bizTransaction")
            if int(e.get("bizStep", -1)) != int(BizStep.RECEIVING) or not ref or int(ref, 16) == 0:
                continue
            unit = bytes.fromhex(e["unitId"][2:])
            order_id = int(chain.escrow.functions.lastOrderOf(unit).call(block_identifier=block))
            if order_id == 0 or order_id in out:
                continue
            if "0x" + bytes(chain.escrow.functions.rmaRef(order_id).call(block_identifier=block)).hex() != ref.lower():
                continue
            if releasable(chain, order_id, block)[0]:
                out[order_id] = message(chain, order_id)
    return list(out.values())
