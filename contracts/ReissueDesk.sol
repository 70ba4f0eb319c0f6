// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IReissueDesk} from "./interfaces/IReissueDesk.sol";
import {IReturnEscrow} from "./interfaces/IReturnEscrow.sol";
import {IReturnPolicies} from "./interfaces/IReturnPolicies.sol";
import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {DelegatedSignatures} from "./utils/DelegatedSignatures.sol";
import {GS1} from "./utils/GS1.sol";
import {Parties} from "./utils/Parties.sol";

/**
 * @title ReissueDesk
 * @dev Defect claims and replacements, beside {ReturnEscrow}. See {IReissueDesk}.
 *
 * A separate contract because the escrow is at the code-size limit, and because nothing here holds
 * money: the desk moves orders through the escrow's reissue hooks, which only it may call and which
 * re-check the order's state, so a fault here cannot pay anyone the escrow would not.
 */
contract ReissueDesk is IReissueDesk, DelegatedSignatures {
    bytes32 private constant _DEFECT_CLAIM_TYPEHASH =
        keccak256("DefectClaim(address buyer,uint256 orderId,bytes32 evidence,uint256 nonce,uint64 deadline)");

    /// @dev The role (of {ReturnPolicies}) that decides disputes, which also rejects defect claims.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @dev The escrow whose orders this desk serves.
    IReturnEscrow public immutable escrow;

    /// @dev The unit registry: products, units and delivery milestones.
    ITraceRegistry public immutable registry;

    /// @dev The policies the escrow's orders are placed under.
    IReturnPolicies public immutable policies;

    mapping(uint256 orderId => Reissue) private _reissues;
    mapping(uint256 orderId => uint40) private _claimedAt; // claims above the limit awaiting a decision
    // Orders whose claim the arbiter rejected: the one claim an order gets (see {_claimDefect}).
    mapping(uint256 orderId => bool) private _rejected;

    /// @dev Binds the desk to the escrow whose orders it serves and to the registry of their units.
    constructor(
        IReturnEscrow escrow_,
        ITraceRegistry registry_,
        IReturnPolicies policies_
    ) DelegatedSignatures("ReturnTrace ReissueDesk", "2") {
        if (address(escrow_) == address(0) || address(registry_) == address(0) || address(policies_) == address(0)) {
            revert ReissueDeskZeroAddress();
        }
        escrow = escrow_;
        registry = registry_;
        policies = policies_;
    }

    /// @inheritdoc IReissueDesk
    function claimDefect(uint256 orderId, bytes32 evidence) external {
        _claimDefect(msg.sender, orderId, evidence);
    }

    /// @inheritdoc IReissueDesk
    function claimDefectBySig(DefectClaim calldata claim, bytes calldata signature) external {
        bytes32 structHash = keccak256(
            abi.encode(_DEFECT_CLAIM_TYPEHASH, claim.buyer, claim.orderId, claim.evidence, claim.nonce, claim.deadline)
        );
        _useSignature(claim.buyer, structHash, claim.nonce, claim.deadline, signature);
        _claimDefect(claim.buyer, claim.orderId, claim.evidence);
    }

    /// @inheritdoc IReissueDesk
    function decideDefectClaim(uint256 orderId, bool approve) external {
        // The merchant's side may concede a claim against itself; only an arbiter that is neither party
        // may turn one down (or approve it for the buyer).
        IReturnEscrow.Order memory o = escrow.order(orderId);
        if (!approve || !Parties.merchantSide(registry, msg.sender, o.merchant)) {
            if (!IAccessControl(address(policies)).hasRole(ARBITER_ROLE, msg.sender)) revert ReissueDeskNotDecider(orderId, msg.sender);
            if (!Parties.independent(registry, msg.sender, o.buyer, o.merchant)) {
                revert ReissueDeskArbiterNotIndependent(orderId, msg.sender);
            }
        }
        uint256 claimedAt = _claimedAt[orderId];
        if (claimedAt != 0) {
            // Past its time the claim is a return (see {returnUndecidedClaim}): a late approval would turn silence into one.
            uint256 decideBy = _decideBy(claimedAt, o);
            if (block.timestamp > decideBy) revert ReissueDeskDecisionLapsed(orderId, decideBy);
        }
        if (approve) {
            _reissues[orderId].approvedAt = uint40(block.timestamp);
        } else {
            _rejected[orderId] = true;
        }
        delete _claimedAt[orderId];
        emit DefectClaimDecided(orderId, msg.sender, approve);
        escrow.decideDefectClaim(orderId, approve, claimedAt == 0 ? 0 : block.timestamp - claimedAt);
    }

    /// @inheritdoc IReissueDesk
    function returnUndecidedClaim(uint256 orderId) external {
        uint256 claimedAt = _claimedAt[orderId];
        if (claimedAt == 0) revert ReissueDeskNoOpenClaim(orderId);
        uint256 decideBy = _decideBy(claimedAt, escrow.order(orderId));
        if (block.timestamp <= decideBy) revert ReissueDeskDecisionPending(orderId, decideBy);
        delete _claimedAt[orderId];
        emit DefectClaimLapsed(orderId, decideBy);
        escrow.openDefectReturn(orderId, bytes32(0));
    }

    /// @inheritdoc IReissueDesk
    function linkReplacement(uint256 orderId, uint64 gtin, string calldata serial) external {
        Reissue storage r = _reissues[orderId];
        if (r.approvedAt == 0) revert ReissueDeskNotApproved(orderId);
        if (r.replacement != bytes32(0)) revert ReissueDeskReplacementLinked(orderId, r.replacement);
        IReturnEscrow.Order memory o = escrow.order(orderId);
        ITraceRegistry.Product memory prod = registry.product(gtin);
        if (o.merchant != msg.sender || prod.brand != msg.sender) revert ReissueDeskNotMerchant(orderId, msg.sender);
        // The replacement must be a product the brand may sell where the buyer is.
        if ((prod.markets >> o.market) & 1 == 0) revert ReissueDeskMarketNotServed(gtin, o.market);
        // And the product the buyer paid for: a cheaper one of the brand would still earn the full price.
        uint64 expected = escrow.unitGtin(o.unitId);
        if (gtin != expected) revert ReissueDeskNotSameProduct(orderId, gtin, expected);
        bytes32 replacement = GS1.unitId(gtin, bytes(serial));
        if (registry.eventCount(replacement) == 0 || registry.isClosed(replacement)) {
            revert ReissueDeskUnavailableUnit(replacement);
        }
        r.replacement = replacement;
        emit ReplacementLinked(orderId, o.unitId, replacement);
        escrow.reserveReplacement(orderId, replacement);
    }

    /// @inheritdoc IReissueDesk
    function completeReissue(uint256 orderId) external {
        bytes32 replacement = _reissues[orderId].replacement;
        if (replacement == bytes32(0)) revert ReissueDeskNoReplacement(orderId);
        uint256 delivered = _deliveredAt(orderId, replacement);
        if (delivered == 0) revert ReissueDeskNotDelivered(orderId);
        emit ReissueCompleted(orderId, replacement, delivered);
        escrow.closeReissue(orderId, true, replacement);
    }

    /// @inheritdoc IReissueDesk
    function claimUnfulfilledReissue(uint256 orderId) external {
        Reissue storage r = _reissues[orderId];
        uint256 approvedAt = r.approvedAt;
        if (approvedAt == 0) revert ReissueDeskNotApproved(orderId);
        IReturnEscrow.Order memory o = escrow.order(orderId);
        if (o.buyer != msg.sender) revert ReissueDeskNotBuyer(orderId, msg.sender);
        bytes32 replacement = r.replacement;
        uint256 delivered = _deliveredAt(orderId, replacement);
        if (delivered != 0) revert ReissueDeskAlreadyDelivered(orderId, delivered);
        IReturnPolicies.Policy memory p = policies.policy(o.market, o.policyVersion);
        // A delivery scan signed in time may be relayed up to the relay delay later.
        uint256 dueBy = approvedAt + p.deliveryTimeout + p.maxRelayDelay;
        if (block.timestamp <= dueBy) revert ReissueDeskDeliveryPending(orderId, dueBy);
        emit ReissueUnfulfilled(orderId, p.waiveDefectReturn);
        if (p.waiveDefectReturn) {
            escrow.closeReissue(orderId, false, replacement);
        } else {
            escrow.openDefectReturn(orderId, replacement); // the contract ends for a defect: the goods go back at the seller's expense
        }
    }

    /// @inheritdoc IReissueDesk
    function reissue(uint256 orderId) external view returns (Reissue memory) {
        return _reissues[orderId];
    }

    /// @inheritdoc IReissueDesk
    function reissueRef(uint256 orderId) public view returns (bytes32) {
        return keccak256(abi.encode(escrow.orderRef(orderId), "REISSUE"));
    }

    /// @inheritdoc IReissueDesk
    function getDefectClaimTypeHash() external pure returns (bytes32) {
        return _DEFECT_CLAIM_TYPEHASH;
    }

    function _claimDefect(address buyer, uint256 orderId, bytes32 evidence) private {
        if (evidence == bytes32(0)) revert ReissueDeskEvidenceRequired();
        // Once per order: a rejection gives the claim's pending time back to the return period, so a
        // claim filed again before each extended period ends would hold the merchant's money for ever.
        if (_rejected[orderId]) revert ReissueDeskClaimRejected(orderId);
        bool autoApproved = escrow.openDefectClaim(orderId, buyer);
        if (autoApproved) {
            _reissues[orderId].approvedAt = uint40(block.timestamp);
        } else {
            _claimedAt[orderId] = uint40(block.timestamp);
        }
        emit DefectClaimed(orderId, buyer, evidence, autoApproved);
    }

    /// @dev The last second a claim made at `claimedAt` on order `o` may be decided: the policy's `inspectionSla` after it.
    function _decideBy(uint256 claimedAt, IReturnEscrow.Order memory o) private view returns (uint256) {
        return claimedAt + policies.policy(o.market, o.policyVersion).inspectionSla;
    }

    /**
     * @dev Delivery time of `replacement` under {reissueRef} (0: none, or nothing linked). A scan recorded
     * before the claim was approved is none: the reference is predictable, and no replacement was owed then.
     */
    function _deliveredAt(uint256 orderId, bytes32 replacement) private view returns (uint256) {
        if (replacement == bytes32(0)) return 0;
        ITraceRegistry.MilestoneRecord memory m = registry.milestone(replacement, reissueRef(orderId), ITraceRegistry.Milestone.Delivered);
        return m.recordedAt < _reissues[orderId].approvedAt ? 0 : m.at;
    }
}
