// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReturnEscrow} from "../interfaces/IReturnEscrow.sol";
import {IReturnPolicies} from "../interfaces/IReturnPolicies.sol";
import {IStorePoints} from "../interfaces/IStorePoints.sol";
import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {ReturnClock} from "./ReturnClock.sol";
import {ReturnSettlement} from "./ReturnSettlement.sol";

/**
 * @dev The buyer's claims when the other side is late or the unit is lost: nothing the buyer sent
 * back stays unpaid. Each checks who calls, the order's state and the time, then settles through
 * {ReturnSettlement}. A linked library (called by DELEGATECALL: the escrow's storage and events).
 */
library BuyerClaims {
    /// @dev The escrow's services a claim needs, in one argument.
    struct Context {
        ITraceRegistry registry;
        IReturnPolicies policies;
        IStorePoints points;
        bytes32 rma;
        uint256 orderId;
    }

    /**
     * @dev {IReturnEscrow-claimUninspectedRefund}: received but not inspected within the SLA (or a
     * second opinion never came): price and delivery back; or the unit was closed while the order held it.
     */
    function uninspected(IReturnEscrow.Order storage o, mapping(address account => uint256) storage credits, Context calldata c) external {
        _requireBuyer(o, c.orderId);
        IReturnEscrow.OrderStatus status = o.status;
        // A high-value return whose second opinion never came is as uninspected as one with none.
        if (status != IReturnEscrow.OrderStatus.SecondInspection) _requireStatus(c.orderId, status, IReturnEscrow.OrderStatus.ReturnRequested);
        if (c.registry.isClosed(o.unitId)) {
            // Closed while the order held it: the unit cannot come back, the buyer gets everything back.
            ReturnSettlement.refundInFull(o, credits, c.orderId, IReturnEscrow.SettlementPath.UnitClosed, IReturnEscrow.OrderStatus.Settled);
            return;
        }
        IReturnPolicies.Policy memory p = c.policies.policy(o.market, o.policyVersion);
        uint256 received = ReturnClock.receivedAt(o, c.registry, c.rma, p.maxRelayDelay);
        if (received == 0) revert IReturnEscrow.ReturnEscrowNotReturned(c.orderId);
        uint256 slaEnd = received + p.inspectionSla;
        if (block.timestamp <= slaEnd) revert IReturnEscrow.ReturnEscrowSlaNotElapsed(c.orderId, slaEnd);
        // A lone first opinion still says where the unit goes; with none, a later inspection will.
        IReturnEscrow.OrderStatus next = o.grade == IReturnPolicies.Grade.None
            ? IReturnEscrow.OrderStatus.Refunded
            : IReturnEscrow.OrderStatus.Settled;
        ReturnSettlement.refundInFull(o, credits, c.orderId, IReturnEscrow.SettlementPath.Uninspected, next);
    }

    /**
     * @dev {IReturnEscrow-claimOverdueRefund}: the statutory refund fell due: the attested facts
     * decide (the grade they give, whatever grade was claimed), else grade A with the seal intact.
     */
    function overdue(IReturnEscrow.Order storage o, mapping(address account => uint256) storage credits, Context calldata c) external {
        _requireBuyer(o, c.orderId);
        IReturnEscrow.OrderStatus status = o.status;
        if (
            status != IReturnEscrow.OrderStatus.ReturnRequested &&
            status != IReturnEscrow.OrderStatus.SecondInspection &&
            status != IReturnEscrow.OrderStatus.Inspected &&
            status != IReturnEscrow.OrderStatus.Disputed
        ) revert IReturnEscrow.ReturnEscrowInvalidStatus(c.orderId, status);
        if (!o.inWithdrawal) revert IReturnEscrow.ReturnEscrowNotStatutory(c.orderId);
        IReturnPolicies.Policy memory p = c.policies.policy(o.market, o.policyVersion);
        uint256 dueAt = ReturnClock.refundDueAt(o, c.registry, c.policies, c.rma, p);
        if (dueAt == 0 || block.timestamp <= dueAt) revert IReturnEscrow.ReturnEscrowRefundNotDue(c.orderId, dueAt);
        if (o.grade != IReturnPolicies.Grade.None) {
            IReturnPolicies.Grade byFacts = c.policies.deriveGrade(o.market, o.policyVersion, o.facts);
            ReturnSettlement.settle(o, credits, c.policies, c.points, c.orderId, IReturnEscrow.SettlementPath.Overdue, byFacts);
        } else {
            ReturnSettlement.settleUnproved(o, credits, c.policies, c.points, c.orderId, IReturnEscrow.SettlementPath.Overdue);
        }
    }

    /**
     * @dev {IReturnEscrow-claimDispatchedRefund}: a carrier's scan proves the return was sent, it never
     * arrived within the delivery timeout (and relay delay): as grade A with the seal intact.
     */
    function dispatched(IReturnEscrow.Order storage o, mapping(address account => uint256) storage credits, Context calldata c) external {
        _requireBuyer(o, c.orderId);
        _requireStatus(c.orderId, o.status, IReturnEscrow.OrderStatus.ReturnRequested);
        IReturnPolicies.Policy memory p = c.policies.policy(o.market, o.policyVersion);
        uint256 sent = ReturnClock.dispatchedAt(o, c.registry, c.rma, p.maxRelayDelay);
        if (sent == 0 || ReturnClock.receivedAt(o, c.registry, c.rma, p.maxRelayDelay) != 0) {
            revert IReturnEscrow.ReturnEscrowNotDispatched(c.orderId);
        }
        uint256 dueAt = sent + p.deliveryTimeout + p.maxRelayDelay;
        if (block.timestamp <= dueAt) revert IReturnEscrow.ReturnEscrowWindowOpen(c.orderId, dueAt);
        ReturnSettlement.settleUnproved(o, credits, c.policies, c.points, c.orderId, IReturnEscrow.SettlementPath.Dispatched);
    }

    function _requireBuyer(IReturnEscrow.Order storage o, uint256 orderId) private view {
        address buyer = o.buyer;
        if (buyer == address(0)) revert IReturnEscrow.ReturnEscrowUnknownOrder(orderId);
        if (buyer != msg.sender) revert IReturnEscrow.ReturnEscrowNotBuyer(orderId, msg.sender);
    }

    function _requireStatus(uint256 orderId, IReturnEscrow.OrderStatus status, IReturnEscrow.OrderStatus expected) private pure {
        if (status == expected) return;
        if (status == IReturnEscrow.OrderStatus.None) revert IReturnEscrow.ReturnEscrowUnknownOrder(orderId);
        revert IReturnEscrow.ReturnEscrowInvalidStatus(orderId, status);
    }
}
