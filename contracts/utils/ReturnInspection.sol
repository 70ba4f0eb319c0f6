// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReturnEscrow} from "../interfaces/IReturnEscrow.sol";
import {IReturnPolicies} from "../interfaces/IReturnPolicies.sol";
import {IStorePoints} from "../interfaces/IStorePoints.sol";
import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {ActorRoles} from "./ActorRoles.sol";
import {Facts} from "./Facts.sol";
import {Parties} from "./Parties.sol";
import {ReturnClock} from "./ReturnClock.sol";
import {ReturnSettlement} from "./ReturnSettlement.sol";

/**
 * @dev What an inspector's attestation may do to an escrow order: who may attest (independent of
 * both parties, a second opinion from another house), until when (the SLA since the receipt), and
 * where the facts take the order (settled, awaiting the buyer, disputed, a second opinion, or, after a
 * refund paid before any inspection, the unit's fate). Also how a dispute opens (from an inspection
 * or a party), is decided by an arbiter that is no party to the sale, or lapses. A linked library
 * (called by DELEGATECALL: the escrow's storage, address and events).
 */
library ReturnInspection {

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
        if (inspection.facts > Facts.ALL) revert IReturnEscrow.ReturnEscrowInvalidFacts(inspection.facts);
        if (inspection.grade == 0 || inspection.grade > uint8(type(IReturnPolicies.Grade).max)) {
            revert IReturnEscrow.ReturnEscrowInvalidGrade(inspection.grade);
        }
        IReturnEscrow.OrderStatus status = o.status;
        bool refunded = status == IReturnEscrow.OrderStatus.Refunded && o.grade == IReturnPolicies.Grade.None;
        // A party's dispute opened before any inspection keeps no inspector out: otherwise a buyer could
        // dispute a used unit to outlast the SLA (or the statutory due date) and be paid as uninspected.
        bool attesting = status == IReturnEscrow.OrderStatus.Disputed && o.inspectorOrg == 0;
        if (status != IReturnEscrow.OrderStatus.ReturnRequested && status != IReturnEscrow.OrderStatus.SecondInspection && !refunded && !attesting) {
            if (status == IReturnEscrow.OrderStatus.None) revert IReturnEscrow.ReturnEscrowUnknownOrder(orderId);
            revert IReturnEscrow.ReturnEscrowInvalidStatus(orderId, status);
        }
        address inspector = inspection.inspector;
        ITraceRegistry.Actor memory a = registry.actor(inspector);
        if (a.roles & ActorRoles.INSPECTOR == 0) revert IReturnEscrow.ReturnEscrowNotInspector(inspector);
        organization = a.organization;
        // An inspector grades the merchant's money and the buyer's refund; a second opinion comes from
        // another house.
        if (
            !Parties.independent(registry, inspector, organization, o.buyer, o.merchant) ||
            ((status == IReturnEscrow.OrderStatus.SecondInspection || attesting) && organization == firstInspectorOrg[orderId])
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
        if (status == IReturnEscrow.OrderStatus.Disputed) {
            _attestForArbiter(o, inspection, claimed, derived, organization, firstInspectorOrg, policies);
            return;
        }
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
            // Where two houses must agree, one house's facts never decide alone: if the arbiter stays
            // silent, the inspections count as none and the return's own timeouts apply (see {lapse}).
            if (second || _needsSecondOpinion(o, policies)) o.grade = IReturnPolicies.Grade.None;
            o.inspectorOrg = organization;
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
            // Kept only where a dispute may follow (its arbiter must be of another house): the word is
            // empty until then, and a grade A or a disposition would pay 20k gas for nothing.
            o.inspectorOrg = organization;
            emit IReturnEscrow.OrderInspected(orderId, claimed, disputeDeadline);
        }
    }

    /**
     * @dev Checks and records the arbiter's decision of the dispute on `o` (see
     * {IReturnEscrow-resolveDispute}) and returns the grade its facts give, by which the escrow settles.
     * The arbiter's role is checked by the escrow; this checks that it is no party to the sale and
     * works for no house whose inspection it would judge.
     */
    function arbitrate(
        IReturnEscrow.Order storage o,
        uint256 orderId,
        uint8 facts,
        uint96 diminishedValue,
        bytes32 reason,
        bytes32 evidence,
        mapping(uint256 orderId => uint64) storage firstInspectorOrg,
        ITraceRegistry registry,
        IReturnPolicies policies
    ) external returns (IReturnPolicies.Grade grade) {
        uint256 lapsesAt = _disputed(o, orderId, policies);
        if (block.timestamp > lapsesAt) revert IReturnEscrow.ReturnEscrowDisputeLapsed(orderId, lapsesAt);
        uint64 organization = registry.actor(msg.sender).organization;
        if (
            !Parties.independent(registry, msg.sender, organization, o.buyer, o.merchant) ||
            (organization != 0 && (organization == o.inspectorOrg || organization == firstInspectorOrg[orderId]))
        ) revert IReturnEscrow.ReturnEscrowArbiterNotIndependent(orderId, msg.sender);
        if (facts > Facts.ALL) revert IReturnEscrow.ReturnEscrowInvalidFacts(facts);
        // The arbiter states the facts; the grade follows from them, as it does for an inspector.
        o.facts = facts;
        o.diminishedValue = diminishedValue;
        grade = policies.deriveGrade(o.market, o.policyVersion, facts);
        emit IReturnEscrow.DisputeResolved(orderId, msg.sender, facts, grade, diminishedValue, reason, evidence);
    }

    /**
     * @dev Ends the dispute on `o` that its arbiter left undecided past its time (see
     * {IReturnEscrow-settleLapsedDispute}); returns true when attested facts decide it, for the escrow to
     * settle by them, false when it went back to its return's own timeouts (nothing was attested, or,
     * above the dual-inspection amount, no two houses agreed).
     */
    function lapse(IReturnEscrow.Order storage o, uint256 orderId, IReturnPolicies policies) external returns (bool) {
        uint256 lapsesAt = _disputed(o, orderId, policies);
        if (block.timestamp <= lapsesAt) revert IReturnEscrow.ReturnEscrowWindowOpen(orderId, lapsesAt);
        emit IReturnEscrow.DisputeLapsed(orderId, uint40(lapsesAt));
        if (o.grade != IReturnPolicies.Grade.None) return true;
        o.status = IReturnEscrow.OrderStatus.ReturnRequested; // nothing attested: the return's own timeouts apply
        return false;
    }

    /**
     * @dev Records an inspection made during a party's dispute opened before any (see {check}): the
     * order stays `Disputed`, its facts are before the arbiter and, with a grade, decide if it stays
     * silent ({lapse}). Above the dual-inspection amount the first house's facts wait for a second
     * house's; only the same facts give a grade.
     */
    function _attestForArbiter(
        IReturnEscrow.Order storage o,
        IReturnEscrow.Inspection calldata inspection,
        IReturnPolicies.Grade claimed,
        IReturnPolicies.Grade derived,
        uint64 organization,
        mapping(uint256 orderId => uint64) storage firstInspectorOrg,
        IReturnPolicies policies
    ) private {
        uint256 orderId = inspection.orderId;
        // Already before an arbiter: an attestation that contradicts itself is refused, not disputed again.
        if (claimed != derived) revert IReturnEscrow.ReturnEscrowGradeMismatch(orderId, claimed, derived);
        uint8 facts = inspection.facts;
        uint96 diminished = inspection.diminishedValue;
        IReturnPolicies.Grade grade = claimed;
        if (_needsSecondOpinion(o, policies)) {
            if (firstInspectorOrg[orderId] == 0) {
                firstInspectorOrg[orderId] = organization;
                emit IReturnEscrow.SecondInspectionRequired(orderId, organization);
                grade = IReturnPolicies.Grade.None;
                organization = 0; // still open to the second house
            } else {
                if (facts != o.facts) grade = IReturnPolicies.Grade.None;
                if (o.diminishedValue < diminished) diminished = o.diminishedValue; // the lower of two attested values
            }
        }
        o.facts = facts;
        o.grade = grade;
        o.diminishedValue = diminished;
        o.inspectorOrg = organization;
        emit IReturnEscrow.InspectionSubmitted(orderId, inspection.inspector, facts, claimed, derived, inspection.diminishedValue, inspection.evidence);
    }

    /// @dev Puts `o` in dispute, opened by `by` (zero: an inspection mismatch); the arbiter decides within `arbiterTimeout`.
    function openDispute(IReturnEscrow.Order storage o, uint256 orderId, address by, uint256 arbiterTimeout) public {
        o.status = IReturnEscrow.OrderStatus.Disputed;
        o.disputedAt = uint40(block.timestamp);
        emit IReturnEscrow.OrderDisputed(orderId, by, uint40(block.timestamp + arbiterTimeout));
    }

    /// @dev Requires `o` to be disputed; returns the last second its arbiter may decide (its policy's `arbiterTimeout` after it opened).
    function _disputed(IReturnEscrow.Order storage o, uint256 orderId, IReturnPolicies policies) private view returns (uint256) {
        IReturnEscrow.OrderStatus status = o.status;
        if (status != IReturnEscrow.OrderStatus.Disputed) {
            if (status == IReturnEscrow.OrderStatus.None) revert IReturnEscrow.ReturnEscrowUnknownOrder(orderId);
            revert IReturnEscrow.ReturnEscrowInvalidStatus(orderId, status);
        }
        return uint256(o.disputedAt) + policies.policy(o.market, o.policyVersion).arbiterTimeout;
    }

    /// @dev Whether the order is priced above its currency's dual-inspection amount (0: never).
    function _needsSecondOpinion(IReturnEscrow.Order storage o, IReturnPolicies policies) private view returns (bool) {
        uint256 above = policies.currency(o.market, o.currency).dualInspectionAbove;
        return above != 0 && o.price > above;
    }
}
