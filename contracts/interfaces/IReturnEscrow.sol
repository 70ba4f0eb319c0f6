// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev Escrowed sales of registered product units with statutory and voluntary return rights,
 * signed inspection attestations and graded settlement.
 *
 * Lifecycle of an order (see {OrderStatus}):
 *
 * - `Active` after {purchase}: the price and delivery fee are escrowed. The carrier's delivery scan
 *   in the registry (bizTransaction {orderRef}) starts the return window. Without a return the
 *   merchant is paid by {release} once the window closes; without delivery the buyer may
 *   {cancelUndelivered} after the policy's delivery timeout.
 * - `ReturnRequested` after {requestReturn}/{requestReturnBySig} inside the window. The return
 *   warehouse's receiving scan (bizTransaction {rmaRef}) starts the inspection SLA. A unit the buyer
 *   never sends back (no receiving scan within the policy's delivery timeout from the request) lets
 *   anyone {releaseUnreturned} the escrow to the merchant.
 * - An accredited inspector's signed attestation ({submitInspection}) states facts and a grade.
 *   If the grade matches the one derived from the facts ({deriveGrade}), grade A settles at once and
 *   grades B and C wait in `Inspected` for the buyer to {acceptInspection} or {contest}; anyone may
 *   {finalize} after the dispute window. A mismatch or a contest puts the order in `Disputed`, which
 *   the arbiter ends with {resolveDispute}.
 * - Timeouts protect the buyer: {claimUninspectedRefund} after the inspection SLA, and
 *   {claimOverdueRefund} after the statutory refund deadline, both for a full refund.
 * - Return options (see the market's {Policy}): an exchange voucher instead of cash ({Remedy}); a
 *   refund released at an accredited return center's receiving scan ({releaseRefundOnReceipt},
 *   `Refunded`); a second, independent inspection above a value (`SecondInspection`); and, through
 *   the {ReissueDesk}, a replacement instead of a return for a defective unit (`DefectClaimed`,
 *   `ReissueApproved`, `Reissued`).
 *
 * Money is never pushed: settlements credit the parties, who {withdraw}. Amounts are in the base
 * units of the order's currency (`address(0)`: the native coin, else an ERC-20 token).
 *
 * Inspection facts are bits: 1 `SEAL_INTACT`, 2 `PACKAGING_INTACT`, 4 `USED`, 8 `DEFECTIVE`.
 */
interface IReturnEscrow {
    /// @dev What happens to a returned unit after settlement, per grade.
    enum Disposition {
        Restock,
        Donate,
        Recycle,
        Destroy
    }

    /// @dev Inspection grade: A unopened (or defective), B opened but unused, C used.
    enum Grade {
        None,
        A,
        B,
        C
    }

    /**
     * @dev Why the buyer returns the unit. `Withdrawal` is the statutory withdrawal that needs no
     * reason (EU 2011/83 Art. 9). The reason is recorded for analytics; settlement depends only on
     * the window the request fell in and the inspected facts.
     */
    enum ReturnReason {
        Withdrawal,
        Defective,
        NotAsDescribed,
        WrongItem,
        DamagedInTransit,
        NoLongerNeeded,
        Other
    }

    /**
     * @dev Order states. `Settled`, `Completed`, `Cancelled` and `Reissued` are terminal.
     *
     * - `SecondInspection`: a high-value return has one attestation and waits for an inspector of
     *   another organisation.
     * - `Refunded`: the refund was released at an accredited return center's receiving scan; the
     *   inspection that follows only decides the unit's disposition.
     * - `DefectClaimed`: a defect claim above the policy's auto-approval limit waits for the merchant
     *   or the arbiter. `ReissueApproved`: a replacement is owed. `Reissued`: it was delivered.
     */
    enum OrderStatus {
        None,
        Active,
        ReturnRequested,
        Inspected,
        Disputed,
        Settled,
        Completed,
        Cancelled,
        SecondInspection,
        Refunded,
        DefectClaimed,
        ReissueApproved,
        Reissued
    }

    /**
     * @dev What the buyer takes for a return: cash, or an exchange voucher (store points of the
     * merchant) worth the cash refund plus the policy's bonus. Choosing `Exchange` in a signed request
     * is the consumer's express agreement to a refund by other means (EU 2011/83 Art. 13(1)).
     */
    enum Remedy {
        Refund,
        Exchange
    }

    /// @dev Which policy rule {setPolicy} found broken.
    enum PolicyViolation {
        BpsAboveMax, // a grade's refundBps or pointsBps exceeds 10000
        SplitAboveMax, // a grade's refundBps + pointsBps exceeds 10000
        NoReturnWindow, // both withdrawalWindow and returnWindow are zero
        NoInspectionSla, // inspectionSla is zero
        NoDisputeWindow, // disputeWindow is zero (the buyer could never contest)
        NoDeliveryTimeout, // deliveryTimeout is zero (the buyer could cancel before any delivery)
        RefundDeadlineTooShort, // statutory policy with inspectionSla + disputeWindow > refundDeadline
        BonusWithoutExchange // exchangeBonusBps set while exchangeOffered is false
    }

    /// @dev Terms of one grade: shares of the price in basis points, who pays return shipping, unit's fate.
    struct GradeTerms {
        uint16 refundBps;
        uint16 pointsBps;
        bool merchantPaysReturnShipping;
        Disposition disposition;
    }

    /**
     * @dev A market's return policy version. Durations are in seconds.
     *
     * - `withdrawalWindow`: statutory right of withdrawal from delivery (0: none in this market).
     * - `returnWindow`: voluntary return window from delivery; requests are accepted until
     *   delivery + max(withdrawalWindow, returnWindow).
     * - `refundDeadline`: statutory, from the return request to the refund (EU Art. 13).
     * - `inspectionSla`: from the return warehouse's receiving scan to the inspection.
     * - `disputeWindow`: from a B/C inspection, for the buyer to contest.
     * - `deliveryTimeout`: from purchase, after which an undelivered order may be cancelled; and from a
 *   return request, after which a unit never scanned in by the return warehouse is released to the merchant.
     * - `refundsDeliveryOnWithdrawal`: a statutory withdrawal also refunds the outbound delivery fee.
     * - `hygieneExempt`: hygiene-sealed classes whose seal is broken lose the statutory right (Art. 16(e)).
     * - `packagingRequiredForA`: grade A also needs intact packaging.
     * - `terms`: grade terms for A, B, C at indexes 0, 1, 2.
     * - `refundOnReturn`: the refund is released at the receiving scan of a return center accredited
     *   for the market ({releaseRefundOnReceipt}), as if the unit were grade A; the inspection that
     *   follows only decides the unit's disposition.
     * - `exchangeOffered`: the buyer may take an exchange voucher instead of cash ({Remedy}), worth
     *   the cash refund plus `exchangeBonusBps` of it.
     * - `reissueAutoApproveLimit`: a defect claim on an order priced at or below it is approved at once
     *   and a replacement is owed without a return shipment (0: every claim is decided by the merchant
     *   or the arbiter). In the base units of the order's currency.
     * - `dualInspectionAbove`: a return of an order priced above it settles only on two agreeing
     *   attestations by inspectors of different organisations (0: one attestation suffices).
     */
    struct Policy {
        uint32 withdrawalWindow;
        uint32 returnWindow;
        uint32 refundDeadline;
        uint32 inspectionSla;
        uint32 disputeWindow;
        uint32 deliveryTimeout;
        bool refundsDeliveryOnWithdrawal;
        bool hygieneExempt;
        bool packagingRequiredForA;
        GradeTerms[3] terms;
        bool refundOnReturn;
        bool exchangeOffered;
        uint16 exchangeBonusBps;
        uint96 reissueAutoApproveLimit;
        uint96 dualInspectionAbove;
    }

    /// @dev A unit offered for sale by its brand (merchant zero: not listed).
    struct Listing {
        address merchant;
        uint96 price;
        address currency;
        uint96 deliveryFee;
        uint96 returnShippingFee;
        uint32 market;
        bool hygieneSealed;
    }

    /**
     * @dev An order, as stored (five words). `policyVersion` is the market's version in force at
     * purchase; later policy changes never alter the order. `statutory` records whether the return
     * request fell inside the statutory withdrawal window; `facts` and `grade` are the inspector's
     * attestation, and after settlement `grade` is the grade settled on (None: full refund by timeout).
     */
    struct Order {
        address buyer;
        uint40 purchasedAt;
        OrderStatus status;
        ReturnReason reason;
        bool hygieneSealed;
        bool statutory;
        uint8 facts;
        Grade grade;
        Remedy remedy;
        address merchant;
        uint96 price;
        address currency;
        uint96 deliveryFee;
        bytes32 unitId;
        uint96 returnShippingFee;
        uint32 market;
        uint32 policyVersion;
        uint40 requestedAt;
        uint40 disputeDeadline;
    }

    /**
     * @dev A buyer's return request, signed for relaying.
     * EIP-712 type: `ReturnRequest(address buyer,uint256 orderId,uint8 reason,uint8 remedy,uint256 nonce,uint64 deadline)`.
     */
    struct ReturnRequest {
        address buyer;
        uint256 orderId;
        uint8 reason;
        uint8 remedy;
        uint256 nonce;
        uint64 deadline;
    }

    /**
     * @dev An inspector's attestation of a returned unit.
     * EIP-712 type: `Inspection(address inspector,uint256 orderId,uint8 facts,uint8 grade,bytes32 evidence,uint256 nonce,uint64 deadline)`.
     * `evidence` is the SHA-256 digest inside the CIDv1 of the report/photos (or zero).
     */
    struct Inspection {
        address inspector;
        uint256 orderId;
        uint8 facts;
        uint8 grade;
        bytes32 evidence;
        uint256 nonce;
        uint64 deadline;
    }

    /**
     * @dev The split of a settlement: buyer refund + merchant amount == price + delivery fee. For an
     * exchange the refund is zero and `points` holds the voucher.
     */
    struct Settlement {
        bool statutory;
        uint256 refund;
        uint256 merchantAmount;
        uint256 points;
        Disposition disposition;
    }

    /// @dev The policy breaks rule `violation`.
    error ReturnEscrowInvalidPolicy(PolicyViolation violation);

    /// @dev Markets are numbered 0-63 (a bit of the registry's `Product.markets`).
    error ReturnEscrowInvalidMarket(uint32 market);

    /// @dev The market has no policy with this version.
    error ReturnEscrowUnknownPolicy(uint32 market, uint32 version);

    /// @dev The GTIN is not registered in the registry.
    error ReturnEscrowUnknownProduct(uint64 gtin);

    /// @dev The unit has not been commissioned in the registry.
    error ReturnEscrowUnknownUnit(bytes32 unitId);

    /// @dev The product class is not sold in the market.
    error ReturnEscrowMarketNotServed(uint64 gtin, uint32 market);

    /// @dev `account` is not the brand (merchant) of the unit, or no longer holds the registry's brand role.
    error ReturnEscrowNotMerchant(address account);

    /// @dev The return shipping fee exceeds the price.
    error ReturnEscrowInvalidFees(uint256 price, uint256 returnShippingFee);

    /// @dev The currency is neither the native coin (zero address) nor a contract.
    error ReturnEscrowInvalidCurrency(address currency);

    /// @dev An amount exceeds the bound of stored amounts (`type(uint96).max`).
    error ReturnEscrowAmountTooLarge(uint256 amount);

    /// @dev The unit is not the merchant's to sell: its order `orderId` has not ended, or ended with
    /// the unit kept by the buyer or gone to donation, recycling or destruction.
    error ReturnEscrowUnitUnavailable(bytes32 unitId, uint256 orderId);

    /// @dev The listing's total is not the one the buyer agreed to.
    error ReturnEscrowPriceChanged(bytes32 unitId, uint256 total, uint256 expectedTotal);

    /// @dev The unit is not listed for sale.
    error ReturnEscrowNotListed(bytes32 unitId);

    /// @dev The payment does not match the amount due (native value, or tokens actually received).
    error ReturnEscrowWrongPayment(uint256 expected, uint256 received);

    /// @dev No order has this id.
    error ReturnEscrowUnknownOrder(uint256 orderId);

    /// @dev The order is not in a state that allows the operation.
    error ReturnEscrowInvalidStatus(uint256 orderId, OrderStatus status);

    /// @dev `account` is not the order's buyer.
    error ReturnEscrowNotBuyer(uint256 orderId, address account);

    /// @dev The order has no delivery scan.
    error ReturnEscrowNotDelivered(uint256 orderId);

    /// @dev The order was delivered, so it cannot be cancelled as undelivered.
    error ReturnEscrowAlreadyDelivered(uint256 orderId, uint256 deliveredAt);

    /// @dev The delivery timeout has not elapsed; cancellation is possible after `cancellableAfter`.
    error ReturnEscrowDeliveryPending(uint256 orderId, uint256 cancellableAfter);

    /// @dev The return window closed at `closesAt`.
    error ReturnEscrowReturnWindowClosed(uint256 orderId, uint256 closesAt);

    /// @dev A window (return, dispute or sending the unit back) is still open until `closesAt` inclusive.
    error ReturnEscrowWindowOpen(uint256 orderId, uint256 closesAt);

    /// @dev The dispute window closed at `closedAt`.
    error ReturnEscrowDisputeWindowClosed(uint256 orderId, uint256 closedAt);

    /// @dev The reason code is outside {ReturnReason}.
    error ReturnEscrowInvalidReason(uint8 reason);

    /// @dev The grade is not A, B or C.
    error ReturnEscrowInvalidGrade(uint8 grade);

    /// @dev The facts have bits other than the four defined ones.
    error ReturnEscrowInvalidFacts(uint8 facts);

    /// @dev `account` does not hold the inspector role in the registry.
    error ReturnEscrowNotInspector(address account);

    /// @dev The return warehouse has not scanned the returned unit in.
    error ReturnEscrowNotReturned(uint256 orderId);

    /// @dev The return warehouse scanned the returned unit in at `receivedAt`, so it is not unreturned.
    error ReturnEscrowAlreadyReturned(uint256 orderId, uint256 receivedAt);

    /// @dev The inspection SLA ends at `slaEndsAt`; the claim is possible after it.
    error ReturnEscrowSlaNotElapsed(uint256 orderId, uint256 slaEndsAt);

    /// @dev The inspection SLA ended at `slaEndedAt`: the buyer may claim a full refund instead.
    error ReturnEscrowSlaElapsed(uint256 orderId, uint256 slaEndedAt);

    /// @dev The return request was not a statutory withdrawal.
    error ReturnEscrowNotStatutory(uint256 orderId);

    /// @dev The statutory refund is due after `dueAt`.
    error ReturnEscrowRefundNotDue(uint256 orderId, uint256 dueAt);

    /// @dev `account` has no credit in `currency` (or there is no surplus to recover).
    error ReturnEscrowNothingToWithdraw(address currency, address account);

    /// @dev Sending the native coin to `account` failed.
    error ReturnEscrowNativeTransferFailed(address account, uint256 amount);

    /// @dev An address argument is zero.
    error ReturnEscrowZeroAddress();

    /// @dev Only the reissue desk may call this.
    error ReturnEscrowNotReissueDesk(address account);

    /// @dev The reissue desk is set once, to `desk`.
    error ReturnEscrowReissueDeskSet(address desk);

    /// @dev The remedy is outside {Remedy}.
    error ReturnEscrowInvalidRemedy(uint8 remedy);

    /// @dev The order's policy offers no exchange.
    error ReturnEscrowExchangeNotOffered(uint256 orderId);

    /// @dev The order's policy does not release refunds on receipt.
    error ReturnEscrowNoRefundOnReturn(uint256 orderId);

    /// @dev The receiving scan was not made by a return center accredited for the order's market.
    error ReturnEscrowCenterNotAccredited(uint256 orderId, uint64 location, uint64 organization);

    /// @dev The inspector belongs to the merchant's organisation, or to the first inspector's.
    error ReturnEscrowInspectorNotIndependent(address inspector, uint64 organization);

    /// @dev A disposition-only inspection's grade differs from the one its facts give.
    error ReturnEscrowGradeMismatch(uint256 orderId, Grade claimed, Grade derived);


    /// @dev Emitted when `version` of `market`'s policy is set.
    event PolicySet(uint32 indexed market, uint32 indexed version, Policy policy);

    /// @dev Emitted when the brand lists (or relists with new terms) a unit.
    event Listed(
        bytes32 indexed unitId,
        address indexed merchant,
        uint64 indexed gtin,
        uint32 market,
        address currency,
        uint256 price,
        uint256 deliveryFee,
        uint256 returnShippingFee
    );

    /// @dev Emitted when the brand withdraws a listing.
    event Delisted(bytes32 indexed unitId);

    /// @dev Emitted when a buyer purchases a listed unit; the terms are the listing's.
    event OrderPlaced(
        uint256 indexed orderId,
        bytes32 indexed unitId,
        address indexed buyer,
        address merchant,
        uint32 market,
        uint32 policyVersion,
        address currency,
        uint256 price,
        uint256 deliveryFee,
        uint256 returnShippingFee
    );

    /// @dev Emitted when the buyer requests a return; `statutory`: inside the statutory withdrawal window.
    event ReturnRequested(
        uint256 indexed orderId,
        address indexed buyer,
        ReturnReason reason,
        bool statutory,
        Remedy remedy
    );

    /// @dev Emitted when an inspector's attestation is accepted; `derivedGrade` is {deriveGrade} of the facts.
    event InspectionSubmitted(
        uint256 indexed orderId,
        address indexed inspector,
        uint8 facts,
        Grade claimedGrade,
        Grade derivedGrade,
        bytes32 evidence
    );

    /// @dev Emitted when a B or C inspection awaits the buyer's acceptance until `disputeDeadline`.
    event OrderInspected(uint256 indexed orderId, Grade grade, uint40 disputeDeadline);

    /// @dev Emitted when the admin sets the reissue desk.
    event ReissueDeskSet(address desk);

    /// @dev Emitted when a high-value return's first attestation awaits an inspector of another organisation.
    event SecondInspectionRequired(uint256 indexed orderId, uint64 firstOrganization);

    /**
     * @dev Emitted when the refund (or exchange voucher) is released at an accredited return center's
     * receiving scan at `location`, before inspection.
     */
    event RefundReleasedOnReceipt(
        uint256 indexed orderId,
        uint64 location,
        uint256 refund,
        uint256 merchantAmount,
        uint256 points
    );

    /// @dev Emitted when the inspection of an order refunded on receipt decides the unit's fate.
    event DispositionDecided(uint256 indexed orderId, Grade grade, Disposition disposition);

    /// @dev Emitted when an order goes to dispute: `contested` by the buyer, else an inspection mismatch.
    event OrderDisputed(uint256 indexed orderId, bool contested);

    /// @dev Emitted when the arbiter decides a dispute (followed by {OrderSettled}).
    event DisputeResolved(uint256 indexed orderId, address indexed arbiter, Grade grade);

    /**
     * @dev Emitted when a returned order settles. `grade` None: full refund by timeout
     * ({claimUninspectedRefund}, {claimOverdueRefund}, or a replacement not delivered in time).
     */
    event OrderSettled(
        uint256 indexed orderId,
        Grade grade,
        bool statutory,
        uint256 refund,
        uint256 merchantAmount,
        uint256 points,
        Disposition disposition
    );

    /**
     * @dev Emitted when the merchant is credited `price + deliveryFee` without a return: the return
     * window closed with no request ({release}), the buyer never sent the unit back ({releaseUnreturned}),
     * or a replacement for a defective unit was delivered (`Reissued`).
     */
    event OrderCompleted(uint256 indexed orderId, uint256 merchantAmount);

    /// @dev Emitted when the buyer cancels an undelivered order and is credited.
    event OrderCancelled(uint256 indexed orderId, uint256 refund);

    /// @dev Emitted when `account` withdraws its credit in `currency`.
    event Withdrawn(address indexed currency, address indexed account, uint256 amount);

    /// @dev Emitted when the admin recovers coins or tokens sent to the escrow outside any order.
    event SurplusRecovered(address indexed currency, address indexed to, uint256 amount);

    /**
     * @dev Appends a new version of `market`'s return policy; existing orders keep theirs.
     *
     * Requirements:
     *
     * - the caller holds `POLICY_ADMIN_ROLE`.
     * - `market` is below 64 and `p` breaks no {PolicyViolation} rule.
     *
     * Emits a {PolicySet} event.
     */
    function setPolicy(uint32 market, Policy calldata p) external;

    /**
     * @dev Lists (or relists with new terms) the unit `gtin`/`serial` for sale in `market`, priced
     * in `currency` (`address(0)`: native coin). The buyer will pay `price + deliveryFee`.
     *
     * Requirements:
     *
     * - the caller is the product's brand in the registry and still holds the brand role there.
     * - the unit has been commissioned.
     * - the product is sold in `market` and `market` has a policy.
     * - `currency` is `address(0)` or a contract (an ERC-20 token).
     * - `returnShippingFee <= price`; each amount fits in 96 bits.
     * - the unit is the merchant's to sell: never sold, or its last order was cancelled or ended
     *   with the unit returned and restocked (not kept by the buyer, donated, recycled or destroyed,
     *   and never attested defective); and its lifecycle in the registry is open.
     *
     * Emits a {Listed} event.
     */
    function list(
        uint64 gtin,
        string calldata serial,
        uint32 market,
        address currency,
        uint256 price,
        uint256 deliveryFee,
        uint256 returnShippingFee
    ) external;

    /**
     * @dev Withdraws the listing of `unitId`.
     *
     * Requirements:
     *
     * - the unit is listed and the caller is its merchant.
     *
     * Emits a {Delisted} event.
     */
    function delist(bytes32 unitId) external;

    /**
     * @dev Buys the listed unit `unitId` under the market's current policy version, escrowing
     * `price + deliveryFee`. Returns the new order id (ids start at 1). `expectedTotal` is the
     * total the buyer saw: a listing changed in between (a merchant re-listing in front of the
     * purchase, against a standing token allowance) cannot charge more.
     *
     * Requirements:
     *
     * - the unit is listed and `expectedTotal == price + deliveryFee`.
     * - native currency: `msg.value == price + deliveryFee`; ERC-20: `msg.value == 0`, the caller
     *   approved the amount, and the escrow receives exactly it (fee-on-transfer tokens revert).
     *
     * Emits an {OrderPlaced} event.
     */
    function purchase(bytes32 unitId, uint256 expectedTotal) external payable returns (uint256 orderId);

    /**
     * @dev Pays the merchant `price + deliveryFee` once the return window has closed without a return.
     * Anyone may call.
     *
     * Requirements:
     *
     * - the order is `Active`, delivered, and `block.timestamp` is after
     *   delivery + max(withdrawalWindow, returnWindow).
     *
     * Emits an {OrderCompleted} event.
     */
    function release(uint256 orderId) external;

    /**
     * @dev Pays the merchant `price + deliveryFee` when the buyer requested a return but never sent the
     * unit back: the return warehouse has not scanned it in within the policy's `deliveryTimeout` after
     * the request. Anyone may call. Without this the escrow would be locked for good, since every buyer
     * remedy ({claimUninspectedRefund}, {claimOverdueRefund}) needs the receiving scan.
     *
     * Requirements:
     *
     * - the order is `ReturnRequested` and the unit has no receiving scan under {rmaRef}.
     * - `block.timestamp` is after `requestedAt + deliveryTimeout`.
     *
     * Emits an {OrderCompleted} event.
     */
    function releaseUnreturned(uint256 orderId) external;

    /**
     * @dev Cancels an order that was never delivered, crediting the buyer `price + deliveryFee`.
     *
     * Requirements:
     *
     * - the caller is the buyer; the order is `Active` with no delivery scan.
     * - `block.timestamp` is after `purchasedAt + deliveryTimeout`.
     *
     * Emits an {OrderCancelled} event.
     */
    function cancelUndelivered(uint256 orderId) external;

    /**
     * @dev Requests the return of the caller's order for `reason` (a {ReturnReason}), for a cash refund
     * or an exchange voucher (`remedy`, a {Remedy}).
     *
     * Requirements:
     *
     * - the caller is the buyer and the order is `Active`.
     * - the order was delivered, and `block.timestamp` is at most delivery + max(withdrawalWindow, returnWindow).
     * - `reason` is a {ReturnReason}; `remedy` is a {Remedy}, and `Exchange` only if the policy offers it.
     *
     * Emits a {ReturnRequested} event.
     */
    function requestReturn(uint256 orderId, uint8 reason, uint8 remedy) external;

    /**
     * @dev Same as {requestReturn}, from the buyer's EIP-712 signed {ReturnRequest} relayed by anyone.
     *
     * Requirements:
     *
     * - `request.buyer` is the order's buyer; signature, nonce and deadline are valid.
     * - the requirements of {requestReturn}.
     *
     * Emits a {ReturnRequested} event.
     */
    function requestReturnBySig(ReturnRequest calldata request, bytes calldata signature) external;

    /**
     * @dev Records an inspector's signed attestation, submitted by anyone. If `grade` equals
     * {deriveGrade} of `facts`, grade A settles at once and B or C moves the order to `Inspected`
     * until the buyer accepts, contests or the dispute window ends; otherwise the order is `Disputed`.
     *
     * Above the policy's `dualInspectionAbove` the first consistent attestation moves the order to
     * `SecondInspection`; the second, by an inspector of another organisation, must attest the same
     * facts and grade, or the order is `Disputed`. On an order `Refunded` on receipt the attestation
     * only decides the unit's disposition (and must be consistent). Where the policy refunds on return
     * and an accredited center received the unit, the refund is released first, in the same call
     * (as {releaseRefundOnReceipt}), so an inspection cannot get ahead of it.
     *
     * Requirements:
     *
     * - `facts` uses only the four defined bits and `grade` is A, B or C.
     * - the order is `ReturnRequested`, `SecondInspection` or `Refunded` and the return warehouse has
     *   scanned the unit in.
     * - the inspection SLA has not elapsed (after it the buyer is owed a full refund), unless the order
     *   was already refunded on receipt.
     * - `inspector` holds the registry's inspector role and belongs neither to the merchant's
     *   organisation nor (second inspection) to the first inspector's; signature, nonce and deadline are valid.
     *
     * Emits an {InspectionSubmitted} event, then {OrderSettled}, {OrderInspected}, {OrderDisputed},
     * {SecondInspectionRequired} or {DispositionDecided}.
     */
    function submitInspection(Inspection calldata inspection, bytes calldata signature) external;

    /**
     * @dev Accepts a B or C inspection and settles at its grade.
     *
     * Requirements:
     *
     * - the caller is the buyer and the order is `Inspected`.
     *
     * Emits an {OrderSettled} event.
     */
    function acceptInspection(uint256 orderId) external;

    /**
     * @dev Contests a B or C inspection, sending the order to the arbiter.
     *
     * Requirements:
     *
     * - the caller is the buyer, the order is `Inspected` and its dispute deadline has not passed.
     *
     * Emits an {OrderDisputed} event.
     */
    function contest(uint256 orderId) external;

    /**
     * @dev Settles an uncontested B or C inspection after its dispute window. Anyone may call.
     *
     * Requirements:
     *
     * - the order is `Inspected` and `block.timestamp` is after its dispute deadline.
     *
     * Emits an {OrderSettled} event.
     */
    function finalize(uint256 orderId) external;

    /**
     * @dev Decides a dispute: settles the order at `grade` (the statutory rules still apply).
     *
     * Requirements:
     *
     * - the caller holds `ARBITER_ROLE`, the order is `Disputed` and `grade` is A, B or C.
     *
     * Emits a {DisputeResolved} and an {OrderSettled} event.
     */
    function resolveDispute(uint256 orderId, uint8 grade) external;

    /**
     * @dev Refunds the buyer in full (`price + deliveryFee`) when the returned unit was not inspected
     * within the inspection SLA after the receiving scan (or after the request, if scanned earlier).
     *
     * Requirements:
     *
     * - the caller is the buyer, the order is `ReturnRequested` or `SecondInspection` (the second opinion
     *   never came) and the unit was scanned in.
     * - `block.timestamp` is after max(receivedAt, requestedAt) + inspectionSla.
     *
     * Emits an {OrderSettled} event with grade None.
     */
    function claimUninspectedRefund(uint256 orderId) external;

    /**
     * @dev Refunds the buyer in full (`price + deliveryFee`) when a statutory withdrawal has not been
     * settled by its legal deadline: the later of `requestedAt + refundDeadline` and the receiving
     * scan (EU Art. 13(3) lets the trader wait for the goods).
     *
     * Requirements:
     *
     * - the caller is the buyer; the order is `ReturnRequested`, `SecondInspection` or `Disputed` and its
     *   request was statutory.
     * - the unit was scanned in and `block.timestamp` is after the deadline above.
     *
     * Emits an {OrderSettled} event with grade None.
     */
    function claimOverdueRefund(uint256 orderId) external;

    /**
     * @dev Releases the refund of a return at the receiving scan, before inspection, when the order's
     * policy grants refund upon return: the buyer gets what a grade-A settlement would give (cash, or
     * the exchange voucher), the merchant the rest. Anyone may call it (normally the gateway, right
     * after the scan is confirmed).
     *
     * Requirements:
     *
     * - the order is `ReturnRequested` and its policy has `refundOnReturn`.
     * - the unit's receiving scan under {rmaRef} exists and was made at a location accredited in the
     *   registry as a return center for the order's market, by the organisation that runs it.
     * - the inspection SLA has not elapsed (after it the buyer is owed the full refund in cash).
     *
     * A return whose reason is `Defective` is paid as a defective unit: no return shipping deducted.
     *
     * Emits a {RefundReleasedOnReceipt} event.
     */
    function releaseRefundOnReceipt(uint256 orderId) external;

    /**
     * @dev Sets the {ReissueDesk}, the only account that may move orders through defect claims and
     * replacements.
     *
     * Requirements:
     *
     * - the caller holds `DEFAULT_ADMIN_ROLE`; `desk` is not zero; no desk was set before (open
     *   reissues live in the desk, so it is never replaced).
     *
     * Emits a {ReissueDeskSet} event.
     */
    function setReissueDesk(address desk) external;

    /**
     * @dev Opens the buyer's defect claim on an order instead of a return: `ReissueApproved` at once
     * when the price is at or under the policy's `reissueAutoApproveLimit`, else `DefectClaimed`.
     * The order's reason becomes `Defective`.
     *
     * Requirements:
     *
     * - the caller is the reissue desk.
     * - `buyer` is the order's buyer; the order is `Active`, delivered, and inside its return window.
     */
    function openDefectClaim(uint256 orderId, address buyer) external returns (bool autoApproved);

    /**
     * @dev Records the decision on a `DefectClaimed` order: `ReissueApproved`, or back to `Active`.
     *
     * Requirements:
     *
     * - the caller is the reissue desk (which checks who decided).
     */
    function decideDefectClaim(uint256 orderId, bool approve) external;

    /**
     * @dev Reserves unit `replacement` for the `ReissueApproved` order: it cannot be listed until the
     * reissue ends undelivered. {lastOrderOf} the replacement is then `orderId`.
     *
     * Requirements:
     *
     * - the caller is the reissue desk.
     * - the replacement is not listed and is the merchant's to sell (see {list}).
     */
    function reserveReplacement(uint256 orderId, bytes32 replacement) external;

    /**
     * @dev Ends a `ReissueApproved` order: `delivered` pays the merchant `price + deliveryFee`
     * (`Reissued`, {OrderCompleted}); otherwise the buyer is refunded in full ({OrderSettled}, grade
     * None) and the reserved `replacement` (if any) is released.
     *
     * Requirements:
     *
     * - the caller is the reissue desk (which checks the replacement's delivery or the timeout).
     */
    function closeReissue(uint256 orderId, bool delivered, bytes32 replacement) external;

    /**
     * @dev Sends the caller all its credit in `currency` (`address(0)`: native coin).
     *
     * Requirements:
     *
     * - the caller has a credit in `currency`; a native-coin recipient accepts the transfer.
     *
     * Emits a {Withdrawn} event.
     */
    function withdraw(address currency) external;

    /**
     * @dev Sends `to` what the escrow holds in `currency` beyond {totalOwed} (coins forced in,
     * tokens sent by mistake). Owed funds can never be touched.
     *
     * Requirements:
     *
     * - the caller holds `DEFAULT_ADMIN_ROLE`; `to` is not zero; there is a surplus.
     *
     * Emits a {SurplusRecovered} event.
     */
    function recoverSurplus(address currency, address to) external;

    /// @dev Returns version `version` of `market`'s policy (reverts if there is none).
    function policy(uint32 market, uint32 version) external view returns (Policy memory);

    /// @dev Returns the latest policy version of `market` (0: none).
    function currentPolicyVersion(uint32 market) external view returns (uint32);

    /// @dev Returns the listing of `unitId` (merchant zero: not listed).
    function listing(bytes32 unitId) external view returns (Listing memory);

    /// @dev Returns the latest order placed for `unitId` (0: none).
    function lastOrderOf(bytes32 unitId) external view returns (uint256);

    /// @dev Returns the order `orderId` (reverts if unknown).
    function order(uint256 orderId) external view returns (Order memory);

    /// @dev Returns the number of orders placed, which is also the latest order id.
    function orderCount() external view returns (uint256);

    /**
     * @dev Returns the EPCIS bizTransaction the carrier puts on the delivering scan:
     * `keccak256(abi.encode(block.chainid, address(this), orderId))`.
     */
    function orderRef(uint256 orderId) external view returns (bytes32);

    /**
     * @dev Returns the EPCIS bizTransaction (type `rma`) the return warehouse puts on the receiving
     * scan: `keccak256(abi.encode(orderRef(orderId), "RMA"))` (a bytes32 followed by an ABI-encoded string).
     */
    function rmaRef(uint256 orderId) external view returns (bytes32);

    /// @dev Returns the order's delivery time (0: not delivered), never earlier than its purchase.
    function deliveredAt(uint256 orderId) external view returns (uint256);

    /// @dev Returns the time the return warehouse scanned the returned unit in (0: not yet).
    function returnReceivedAt(uint256 orderId) external view returns (uint256);

    /**
     * @dev Returns the grade that `facts` earn under the order's policy: DEFECTIVE → A (the merchant's
     * fault); else USED → C; else SEAL_INTACT and (PACKAGING_INTACT or packaging not required) → A; else B.
     */
    function deriveGrade(uint256 orderId, uint8 facts) external view returns (Grade);

    /**
     * @dev Returns the settlement the order would get at `grade`, with the facts attested so far
     * (none before inspection, i.e. a hygiene seal is then taken as broken). For an `Active` order the
     * statutory flag is the one a return requested now would get.
     */
    function quote(uint256 orderId, uint8 grade) external view returns (Settlement memory);

    /// @dev Returns `account`'s withdrawable credit in `currency`.
    function credits(address currency, address account) external view returns (uint256);

    /// @dev Returns what the escrow owes in `currency`: escrow of open orders plus unwithdrawn credits.
    function totalOwed(address currency) external view returns (uint256);

    /// @dev Returns the EIP-712 type hash of {ReturnRequest}.
    function getReturnRequestTypeHash() external pure returns (bytes32);

    /// @dev Returns the EIP-712 type hash of {Inspection}.
    function getInspectionTypeHash() external pure returns (bytes32);

}
