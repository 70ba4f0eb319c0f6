"""Refund on receipt: `escrow.releaseRefundOnReceipt(orderId)` submitted by the gateway itself.

The two messages that can complete the escrow's condition trigger the check when the relayer
confirms them, whichever is mined last: an EventBatch holding a warehouse's receiving scan
(disposition returned) whose bizTransaction is the RMA reference of the unit's latest order, and
the buyer's ReturnRequest itself (a scan confirmed first would otherwise never trigger it). When
the order is `ReturnRequested`, its policy has `refundOnReturn`, the receipt was at a return center
accredited for the order's market (the registry's milestone record,
`returnCenterAccredited(location, organisation, market)`) and the inspection SLA has not run out,
the relayer stores an unsigned outbox message of kind `ReleaseRefundOnReceipt` in the same
database transaction that confirms the batch. Its id is derived from (chain, escrow, order), so it
is stored once whatever happens (restarts, the manual endpoint), relayed like any escrow message —
simulated first, and failed with the contract's decoded error if the chain refuses it, never
retried forever.

Every read is at the latest block (a node that keeps no history can answer it), and the cost per
confirmed scan is small: scans that are not returns are skipped, references are computed locally
(returntrace.refs), `lastOrderOf` of all scanned units is one batched call, policies are cached,
and only orders whose RMA matches are read further.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from returntrace.escrow import Order, OrderStatus
from returntrace.refs import order_ref, rma_ref
from returntrace.vocab import BizStep, Disposition, Milestone

from ..chain.client import Chain
from ..chain.reader import ChainReader
from ..store.outbox import Message

KIND = "ReleaseRefundOnReceipt"
CONTRACT = "gateway"  # the outbox's (contract, signer, nonce) key: the gateway's own messages, one per order
NO_DEADLINE = 2**62


def message_id(chain: Chain, order_id: int) -> str:
    return (
        "0x"
        + keccak(
            encode(["string", "uint256", "address", "uint256"], [KIND, chain.chain_id, chain.escrow.address, order_id])
        ).hex()
    )


def message(chain: Chain, order_id: int) -> Message:
    return Message.candidate(
        id=message_id(chain, order_id),
        kind=KIND,
        signer=chain.escrow.address,
        nonce=order_id,
        deadline=NO_DEADLINE,
        item_count=1,
        body={"orderId": order_id},
    )


def rma_of(chain: Chain, order_id: int) -> bytes:
    """ReturnEscrow.rmaRef(orderId), computed locally."""
    return rma_ref(order_ref(chain.chain_id, chain.escrow.address, order_id))


def releasable(reader: ChainReader, order_id: int, order: Order | None = None) -> tuple[bool, str, str]:
    """(True, "", "") if the escrow would release the order's refund on receipt now, else
    (False, code, why). Reads the latest block (`order`: the order if the caller has it);
    node errors propagate (the caller decides)."""
    chain = reader.chain
    order = order if order is not None else reader.order(order_id)
    if order is None:
        return False, "unknown_order", f"order {order_id} does not exist"
    if order.status != OrderStatus.RETURN_REQUESTED:
        return False, "order_not_returned", f"order {order_id} is not awaiting its return (status {order.status:d})"
    policy = reader.policy(order.market, order.policy_version)
    if not policy.refund_on_return:
        return False, "no_refund_on_return", f"the policy of order {order_id}'s market does not refund on receipt"
    received = reader.return_received_at(order_id)  # the escrow's time of the scan (relay delay, after the request)
    if received == 0:
        return (
            False,
            "not_returned",
            f"order {order_id}'s unit has no receiving scan under its RMA since the return request",
        )
    registry = chain.registry.functions
    _, location, organization, _ = registry.milestone(
        order.unit_id, rma_of(chain, order_id), Milestone.RETURN_RECEIVED
    ).call()
    sla_end = received + policy.inspection_sla
    if reader.block_time() > sla_end:
        return (
            False,
            "sla_elapsed",
            f"order {order_id}'s inspection SLA ended at {sla_end}: the refund is no longer released on receipt",
        )
    if not registry.returnCenterAccredited(int(location), int(organization), order.market).call():
        return (
            False,
            "center_not_accredited",
            (
                f"the receiving scan at GLN {int(location):013d} (organisation {int(organization):013d}) is not "
                "at a return center "
                f"accredited for order {order_id}'s market"
            ),
        )
    return True, "", ""


def _returned_scans(batches: list[Message]) -> dict[bytes, set[str]]:
    """{unit: RMA references} of the receiving scans with disposition returned in these EventBatches:
    the only events that can set a return-received milestone."""
    out: dict[bytes, set[str]] = {}
    for m in batches:
        if m.kind != "EventBatch":
            continue
        for e in m.body.get("events", []):
            ref = e.get("bizTransaction")
            if int(e.get("bizStep", -1)) != BizStep.RECEIVING or int(e.get("disposition", -1)) != Disposition.RETURNED:
                continue
            if ref and int(ref, 16):
                out.setdefault(bytes.fromhex(e["unitId"][2:]), set()).add(ref.lower())
    return out


def candidates(reader: ChainReader, confirmed: list[Message]) -> list[Message]:
    """Release messages for the orders these confirmed messages may have made releasable: the
    orders whose RMA a receiving scan carries, and the orders of confirmed return requests."""
    chain = reader.chain
    orders = [int(m.body["orderId"]) for m in confirmed if m.kind == "ReturnRequest"]
    scans = _returned_scans(confirmed)
    if scans:
        for unit, order_id in reader.last_orders(list(scans)).items():
            if order_id and "0x" + rma_of(chain, order_id).hex() in scans[unit]:
                orders.append(order_id)
    return [message(chain, o) for o in dict.fromkeys(orders) if releasable(reader, o)[0]]
