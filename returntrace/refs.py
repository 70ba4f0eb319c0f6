"""The escrow's business-transaction references, computed off-chain exactly as ReturnEscrow does.

A delivery scan carries `orderRef(orderId)`, a receiving scan `rmaRef(orderId)`; the gateway
(indexer, relayer) matches scans to orders with these instead of asking the node per scan.
`tests/api/test_indexer.py` checks both against the contract.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak


def order_ref(chain_id: int, escrow: str, order_id: int) -> bytes:
    """ReturnEscrow.orderRef: keccak256(abi.encode(block.chainid, address(this), orderId))."""
    return keccak(encode(["uint256", "address", "uint256"], [chain_id, escrow, order_id]))


def rma_ref(order_reference: bytes) -> bytes:
    """ReturnEscrow.rmaRef: keccak256(abi.encode(orderRef(orderId), "RMA"))."""
    return keccak(encode(["bytes32", "string"], [order_reference, "RMA"]))
