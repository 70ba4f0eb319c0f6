// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev Fast reissue of defective units. Instead of returning a unit, the buyer claims a defect with
 * evidence (a photo's CID). At or under the currency's `reissueAutoApproveLimit` in the market the
 * claim is approved at once; above it the merchant's side (approve only) or the arbiter (approve or
 * reject) decides. Silence never approves: a claim nobody decides within the policy's inspection SLA
 * becomes a return of the unit at the merchant's expense, inspected as any return. A rejected claim
 * gives the buyer back the return period it kept from running, and is the order's last. The merchant links a replacement
 * unit of the same product (GTIN), which ships with bizTransaction {reissueRef}; the carrier's
 * delivery scan of it lets anyone {completeReissue}, which pays the merchant. If none is delivered
 * within the policy's `deliveryTimeout` (and relay delay) from approval, the defective unit goes back
 * at the merchant's expense and is refunded (EU 2019/771 Art. 16(3)), unless the policy waives its
 * return: then the buyer is refunded at once. The escrow holds the money throughout; the desk holds none.
 */
interface IReissueDesk {
    /**
     * @dev A buyer's claim that the unit is defective, signed for relaying.
     * EIP-712 type: `DefectClaim(address buyer,uint256 orderId,bytes32 evidence,uint256 nonce,uint64 deadline)`.
     * `evidence` is the SHA-256 digest inside the CIDv1 of the buyer's photo or video.
     */
    struct DefectClaim {
        address buyer;
        uint256 orderId;
        bytes32 evidence;
        uint256 nonce;
        uint64 deadline;
    }

    /// @dev A replacement owed for a defective unit: approved at `approvedAt`, `replacement` once linked.
    struct Reissue {
        bytes32 replacement;
        uint40 approvedAt;
    }

    /// @dev A defect claim needs evidence.
    error ReissueDeskEvidenceRequired();

    /// @dev The account may not decide this defect claim.
    /// @param orderId The order of the defective unit.
    /// @param account The caller.
    error ReissueDeskNotDecider(uint256 orderId, address account);

    /// @dev The arbiter is the order's buyer or merchant, or belongs to the buyer's or the merchant's organisation.
    /// @param orderId The order of the defective unit.
    /// @param arbiter The caller.
    error ReissueDeskArbiterNotIndependent(uint256 orderId, address arbiter);

    /// @dev The account is not the order's merchant and the replacement product's brand.
    /// @param orderId The order of the defective unit.
    /// @param account The caller.
    error ReissueDeskNotMerchant(uint256 orderId, address account);

    /// @dev The account is not the order's buyer.
    /// @param orderId The order of the defective unit.
    /// @param account The caller.
    error ReissueDeskNotBuyer(uint256 orderId, address account);

    /// @dev The order has no approved reissue.
    /// @param orderId The order of the defective unit.
    error ReissueDeskNotApproved(uint256 orderId);

    /// @dev The order's replacement is already linked.
    /// @param orderId The order of the defective unit.
    /// @param replacement The unit id of the replacement already linked.
    error ReissueDeskReplacementLinked(uint256 orderId, bytes32 replacement);

    /// @dev The order has no replacement linked yet.
    /// @param orderId The order of the defective unit.
    error ReissueDeskNoReplacement(uint256 orderId);

    /// @dev The replacement's product is not sold in the order's market.
    /// @param gtin The replacement's GTIN.
    /// @param market The order's market.
    error ReissueDeskMarketNotServed(uint64 gtin, uint32 market);

    /// @dev The replacement is not a unit of the defective unit's product.
    /// @param orderId The order of the defective unit.
    /// @param gtin The replacement's GTIN.
    /// @param expected The defective unit's GTIN.
    error ReissueDeskNotSameProduct(uint256 orderId, uint64 gtin, uint64 expected);

    /// @dev The replacement unit was never commissioned, or its lifecycle is closed.
    /// @param unitId The replacement's unit id.
    error ReissueDeskUnavailableUnit(bytes32 unitId);

    /// @dev The replacement has no delivery scan under {reissueRef}.
    /// @param orderId The order of the defective unit.
    error ReissueDeskNotDelivered(uint256 orderId);

    /// @dev The replacement was delivered at `deliveredAt`.
    /// @param orderId The order of the defective unit.
    /// @param deliveredAt When the replacement was delivered.
    error ReissueDeskAlreadyDelivered(uint256 orderId, uint256 deliveredAt);

    /// @dev The replacement may still arrive until `dueBy`.
    /// @param orderId The order of the defective unit.
    /// @param dueBy Until when the replacement may still arrive.
    error ReissueDeskDeliveryPending(uint256 orderId, uint256 dueBy);

    /// @dev An address argument is zero.
    error ReissueDeskZeroAddress();

    /// @dev The order has no defect claim awaiting a decision.
    /// @param orderId The order of the defective unit.
    error ReissueDeskNoOpenClaim(uint256 orderId);

    /// @dev The merchant or the arbiter may still decide the claim until `decideBy`.
    /// @param orderId The order of the defective unit.
    /// @param decideBy Until when the claim may still be decided.
    error ReissueDeskDecisionPending(uint256 orderId, uint256 decideBy);

    /// @dev The claim was not decided by `decideBy`: it can only become a return now (see {returnUndecidedClaim}).
    /// @param orderId The order of the defective unit.
    /// @param decideBy The last second the claim could be decided.
    error ReissueDeskDecisionLapsed(uint256 orderId, uint256 decideBy);

    /// @dev The order's defect claim was rejected: an order gets one claim (its return stays open to the buyer).
    /// @param orderId The order of the defective unit.
    error ReissueDeskClaimRejected(uint256 orderId);

    /// @dev Emitted when the buyer claims a defect; `autoApproved`: at or under the policy's limit.
    event DefectClaimed(uint256 indexed orderId, address indexed buyer, bytes32 evidence, bool autoApproved);

    /// @dev Emitted when the merchant or the arbiter decides a defect claim above the limit.
    event DefectClaimDecided(uint256 indexed orderId, address indexed decider, bool approved);

    /// @dev Emitted when a claim nobody decided by `decideBy` becomes a return of the unit at the merchant's expense.
    event DefectClaimLapsed(uint256 indexed orderId, uint256 decideBy);

    /// @dev Emitted when the merchant links the replacement unit to the order of the defective one.
    event ReplacementLinked(
        uint256 indexed orderId,
        bytes32 indexed originalUnitId,
        bytes32 indexed replacementUnitId
    );

    /// @dev Emitted when the replacement's delivery completes the reissue (the escrow pays the merchant).
    event ReissueCompleted(uint256 indexed orderId, bytes32 indexed replacementUnitId, uint256 deliveredAt);

    /// @dev Emitted when no replacement arrived in time: `returnWaived`, the buyer is refunded and keeps the unit; else it goes back.
    event ReissueUnfulfilled(uint256 indexed orderId, bool returnWaived);

    /**
     * @dev The buyer claims the unit is defective, with `evidence`, instead of returning it.
     *
     * Requirements:
     *
     * - `evidence` is not zero; the caller is the buyer; the order is `Active`, delivered and inside
     *   its return window (checked by the escrow); no claim on it was rejected (one claim per order).
     *
     * Emits a {DefectClaimed} event.
     * @param orderId The order of the defective unit.
     * @param evidence The SHA-256 digest inside the CIDv1 of the photo or video.
     */
    function claimDefect(uint256 orderId, bytes32 evidence) external;

    /**
     * @dev Same as {claimDefect}, from the buyer's EIP-712 signed {DefectClaim} relayed by anyone.
     *
     * Requirements:
     *
     * - `claim.buyer` signed it (EOA or ERC-1271); nonce and deadline are valid (see {IDelegatedSignatures}).
     * - the requirements of {claimDefect}.
     *
     * Emits a {DefectClaimed} event.
     * @param claim The buyer's signed claim.
     * @param signature The buyer's EIP-712 signature of `claim`.
     */
    function claimDefectBySig(DefectClaim calldata claim, bytes calldata signature) external;

    /**
     * @dev Decides a defect claim above the auto-approval limit: the merchant or its staff may approve,
     * the arbiter (the escrow's `ARBITER_ROLE`) may approve or reject. A rejected claim returns the
     * order to `Active` with its return period extended by the time the claim was pending; the order
     * takes no other claim ({ReissueDeskClaimRejected}).
     *
     * Requirements:
     *
     * - the order is `DefectClaimed`; the caller is the merchant's side approving, or the arbiter if it
     *   is neither party nor works for one (shares neither's organisation in the registry).
     * - `block.timestamp` is at most the claim's time + the policy's `inspectionSla`.
     *
     * Emits a {DefectClaimDecided} event.
     * @param orderId The order of the defective unit.
     * @param approve True to approve the claim (a replacement is owed), false to reject it (arbiter only).
     */
    function decideDefectClaim(uint256 orderId, bool approve) external;

    /**
     * @dev Turns a defect claim above the limit that nobody decided within the policy's
     * `inspectionSla` into a return of the unit at the merchant's expense (reason `Defective`): the
     * unit is then inspected like any return. Anyone may call: silence must neither approve an
     * unfounded claim nor lock the buyer's money.
     *
     * Requirements:
     *
     * - the order has a claim awaiting a decision; `block.timestamp` is after its time + `inspectionSla`.
     *
     * Emits a {DefectClaimLapsed} event.
     * @param orderId The order of the defective unit.
     */
    function returnUndecidedClaim(uint256 orderId) external;

    /**
     * @dev The merchant links replacement unit `gtin`/`serial` to the order of the defective unit, and
     * the escrow reserves it. {reissue} of the order and the escrow's `lastOrderOf(replacement)` give
     * the link both ways.
     *
     * Requirements:
     *
     * - the caller is the order's merchant and the replacement product's brand; the product is sold in
     *   the order's market and is the defective unit's (same GTIN, as the escrow's `unitGtin` gives it).
     * - the reissue is approved and has no replacement yet.
     * - the replacement is commissioned, its lifecycle open, not listed, and the merchant's to sell.
     *
     * Emits a {ReplacementLinked} event.
     * @param orderId The order of the defective unit.
     * @param gtin The replacement's GTIN.
     * @param serial The replacement's serial.
     */
    function linkReplacement(uint256 orderId, uint64 gtin, string calldata serial) external;

    /**
     * @dev Completes a reissue once the carrier has scanned the replacement delivered under
     * {reissueRef}; the escrow credits the merchant `price + deliveryFee`. Anyone may call it.
     *
     * Requirements:
     *
     * - a replacement is linked and the carrier's delivery scan of it under {reissueRef} exists.
     *
     * Emits a {ReissueCompleted} event.
     * @param orderId The order of the defective unit.
     */
    function completeReissue(uint256 orderId) external;

    /**
     * @dev Ends a reissue no replacement came for within the policy's `deliveryTimeout` (and relay
     * delay) from the approval: the defective unit goes back at the merchant's expense and is refunded
     * as a return, or, where the policy waives its return, the buyer is refunded in full at once. A
     * linked replacement goes back to the merchant's stock.
     *
     * Requirements:
     *
     * - the caller is the buyer; the reissue is approved; no delivery scan of the replacement.
     *
     * Emits a {ReissueUnfulfilled} event.
     * @param orderId The order of the defective unit.
     */
    function claimUnfulfilledReissue(uint256 orderId) external;

    /// @dev Returns the reissue of an order (zeros: none approved).
    /// @param orderId The order of the defective unit.
    /// @return The reissue: the replacement's unit id (zero until linked) and when it was approved.
    function reissue(uint256 orderId) external view returns (Reissue memory);

    /// @dev The business transaction the replacement's shipping and delivery scans carry.
    /// @param orderId The order of the defective unit.
    /// @return The replacement's business transaction reference.
    function reissueRef(uint256 orderId) external view returns (bytes32);

    /// @dev Returns the EIP-712 type hash of {DefectClaim}.
    /// @return keccak256 of the `DefectClaim` type string.
    function getDefectClaimTypeHash() external pure returns (bytes32);
}
