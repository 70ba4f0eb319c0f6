// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReturnEscrow} from "../interfaces/IReturnEscrow.sol";
import {IReturnPolicies} from "../interfaces/IReturnPolicies.sol";
import {IStorePoints} from "../interfaces/IStorePoints.sol";
import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {ActorRoles} from "./ActorRoles.sol";
import {ReturnClock} from "./ReturnClock.sol";
import {ReturnSettlement} from "./ReturnSettlement.sol";

/**
 * @dev What an inspector's attestation may do to an escrow order: who may attest (independent of
 * both parties, a second opinion from another house), until when (the SLA since the receipt), and
 * where the facts take the order (settled, awaiting the buyer, disputed, a second opinion, or, after a
 * refund paid before any inspection, the unit's fate). Also how a dispute opens, from an inspection
 * or a party. A linked library (called by DELEGATECALL: the escrow's storage, address and events).
 */
library ReturnInspection {
    uint8 private constant _ALL_FACTS = 15;

    /**
     * @dev Checks everything about an inspection of `o` but its signature (which the escrow checks
     * under its domain); returns the order's policy and the inspector's organisation.
     */
    function check(
        IReturnEscrow.Order storage o,
        IReturnEscrow.Inspection calldata inspection,
        mapping(uint256 orderId => uint64) storage firstInspectorOrg,
        ITraceRegistry registry,
        IReturnPolicies policies,
        bytes32 rma
    ) external view returns (IReturnPolicies.Policy memory p, uint64 organization) {
        uint256 orderId = inspection.orderId;
        if (inspection.facts > _ALL_FACTS) revert IReturnEscrow.ReturnEscrowInvalidFacts(inspection.facts);
        if (inspection.grade == 0 || inspection.grade > uint8(type(IReturnPolicies.Grade).max)) {
            revert IReturnEscrow.ReturnEscrowInvalidGrade(inspection.grade);
        }
        IReturnEscrow.OrderStatus status = o.status;
        bool refunded = status == IReturnEscrow.OrderStatus.Refunded && o.grade == IReturnPolicies.Grade.None;
        if (status != IReturnEscrow.OrderStatus.ReturnRequested && status != IReturnEscrow.OrderStatus.SecondInspection && !refunded) {
            if (status == IReturnEscrow.OrderStatus.None) revert IReturnEscrow.ReturnEscrowUnknownOrder(orderId);
            revert IReturnEscrow.ReturnEscrowInvalidStatus(orderId, status);
        }
        address inspector = inspection.inspector;
        ITraceRegistry.Actor memory a = registry.actor(inspector);
        if (a.roles & ActorRoles.INSPECTOR == 0) revert IReturnEscrow.ReturnEscrowNotInspector(inspector);
        organization = a.organization;
        // An inspector grades the merchant's money and the buyer's refund: it may be neither, nor work
        // for either, and a second opinion comes from another house.
        if (
            inspector == o.buyer ||
            organization == registry.actor(o.merchant).organization ||
            organization == registry.actor(o.buyer).organization ||
            (status == IReturnEscrow.OrderStatus.SecondInspection && organization == firstInspectorOrg[orderId])
        ) revert IReturnEscrow.ReturnEscrowInspectorNotIndependent(inspector, organization);
        p = policies.policy(o.market, o.policyVersion);
        // The SLA protects a refund; once refunded, a late inspection still decides the unit's fate.
        if (!refunded) {
            uint256 received = ReturnClock.receivedAt(o, registry, rma, p.maxRelayDelay);
            if (received == 0) revert IReturnEscrow.ReturnEscrowNotReturned(orderId);
            uint256 slaEnd = received + p.inspectionSla;
            if (block.timestamp > slaEnd) revert IReturnEscrow.ReturnEscrowSlaElapsed(orderId, slaEnd);
        }
    }

    /**
     * @dev Records a verified inspection and moves the order on: settled (A), inspected (B/C),
     * disputed, waiting for a second opinion, or (refunded before) its disposition decided.
     */
    function apply_(
        IReturnEscrow.Order storage o,
        IReturnEscrow.Inspection calldata inspection,
        IReturnPolicies.Policy memory p,
        uint64 organization,
        mapping(uint256 orderId => uint64) storage firstInspectorOrg,
        mapping(address account => uint256) storage credits,
        IReturnPolicies policies,
        IStorePoints points
    ) external {
        uint256 orderId = inspection.orderId;
        uint8 facts = inspection.facts;
        IReturnPolicies.Grade claimed = IReturnPolicies.Grade(inspection.grade);
        IReturnPolicies.Grade derived = policies.deriveGrade(o.market, o.policyVersion, facts);
        IReturnEscrow.OrderStatus status = o.status;
        bool second = status == IReturnEscrow.OrderStatus.SecondInspection;
        // A second opinion agrees only on the same facts and grade; compare before overwriting.
        bool disagrees = claimed != derived || (second && (facts != o.facts || claimed != o.grade));
        uint96 diminished = inspection.diminishedValue;
        if (second && o.diminishedValue < diminished) diminished = o.diminishedValue; // the lower of two attested values
        o.facts = facts;
        o.grade = claimed;
        o.diminishedValue = diminished;
        emit IReturnEscrow.InspectionSubmitted(orderId, inspection.inspector, facts, claimed, derived, inspection.diminishedValue, inspection.evidence);

        if (status == IReturnEscrow.OrderStatus.Refunded) {
            // The money moved already; this attestation only decides where the unit goes.
            if (claimed != derived) revert IReturnEscrow.ReturnEscrowGradeMismatch(orderId, claimed, derived);
            o.status = IReturnEscrow.OrderStatus.Settled;
            emit IReturnEscrow.DispositionDecided(orderId, claimed, p.terms[uint8(claimed) - 1].disposition);
        } else if (disagrees) {
            openDispute(o, orderId, address(0), p.arbiterTimeout);
        } else if (!second && _needsSecondOpinion(o, policies)) {
            o.status = IReturnEscrow.OrderStatus.SecondInspection;
            firstInspectorOrg[orderId] = organization;
            emit IReturnEscrow.SecondInspectionRequired(orderId, organization);
        } else if (claimed == IReturnPolicies.Grade.A) {
            ReturnSettlement.settle(o, credits, policies, points, orderId, IReturnEscrow.SettlementPath.Graded, IReturnPolicies.Grade.A);
        } else {
            uint40 disputeDeadline = uint40(block.timestamp + p.disputeWindow);
            o.status = IReturnEscrow.OrderStatus.Inspected;
            o.disputeDeadline = disputeDeadline;
            emit IReturnEscrow.OrderInspected(orderId, claimed, disputeDeadline);
        }
    }

    /// @dev Puts `o` in dispute, opened by `by` (zero: an inspection mismatch); the arbiter decides within `arbiterTimeout`.
    function openDispute(IReturnEscrow.Order storage o, uint256 orderId, address by, uint256 arbiterTimeout) public {
        o.status = IReturnEscrow.OrderStatus.Disputed;
        o.disputedAt = uint40(block.timestamp);
        emit IReturnEscrow.OrderDisputed(orderId, by, uint40(block.timestamp + arbiterTimeout));
    }

    /// @dev Whether the order is priced above its currency's dual-inspection amount (0: never).
    function _needsSecondOpinion(IReturnEscrow.Order storage o, IReturnPolicies policies) private view returns (bool) {
        uint256 above = policies.currency(o.market, o.currency).dualInspectionAbove;
        return above != 0 && o.price > above;
    }
}
