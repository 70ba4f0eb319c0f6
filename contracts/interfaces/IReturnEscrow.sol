// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReturnPolicies} from "./IReturnPolicies.sol";

/**
 * @dev Escrowed cross-border sales of registered product units, with returns settled by the consumer
 * law of the buyer's market and, on top of it, the merchant's graded policy ({IReturnPolicies}).
 *
 * A brand lists a unit it holds in stock for a market it serves, in a currency the market allows; a
 * buyer pays price + delivery into escrow, committing to every term of the listing. The carrier's
 * delivery scan (milestone `Delivered` under {orderRef}) starts the return period; a return is
 * requested by the buyer (or relayed with their signature), dispatched (the carrier's pickup, the
 * buyer's proof) and received (the warehouse's scan under {rmaRef}); an inspector attests facts, and
 * the facts decide the refund on every path: acceptance, contest and arbitration, the arbiter's
 * silence, the statutory due date, the timeouts. Nothing open stays open: each state has a timeout
 * and the party it favours is named in the function that ends it.
 *
 * Money is never pushed: settlements credit the parties in the order's currency, who {withdraw} (or
 * {withdrawTo} another address). Store points are the only other means, and only for an exchange the
 * buyer chose or the grade terms' points on top of what the law pays.
 */
interface IReturnEscrow {
    /// @dev Why the buyer returns the unit: recorded for analytics; only `Defective` changes who pays shipping.
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
     * @dev Order states. `Settled`, `Completed`, `Cancelled` and `Reissued` are terminal for the money.
     *
     * - `SecondInspection`: a high-value return has one attestation and waits for another house's.
     * - `Refunded`: the refund was paid before any inspection (at an accredited center's receipt, or by a
     *   timeout); an inspection may still attest the facts that decide where the unit goes.
     * - `DefectClaimed`: a defect claim above the auto-approval limit waits for the merchant or the
     *   arbiter. `ReissueApproved`: a replacement is owed. `Reissued`: it was delivered.
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
     * @dev What the buyer takes for a return: cash, or store points worth the refund plus the policy's
     * bonus. The exchange is the buyer's express agreement to another means of refund (EU 2011/83 Art.
     * 13(1)) and stays revocable ({chooseRemedy}) until the refund is paid. A refund that a timeout
     * pays (the arbiter's silence, an overdue statutory refund, a return dispatched and never
     * received, an uninspected one) is cash whatever the remedy.
     */
    enum Remedy {
        Refund,
        Exchange
    }

    /// @dev How a settlement came about (the path that paid it).
    enum SettlementPath {
        Graded, // an inspection the buyer accepted or let pass, or grade A at once
        Arbitrated, // the arbiter's decision, on facts it may have corrected
        ArbiterSilent, // the arbiter did not decide in time: the attested facts decide
        Overdue, // the statutory refund fell due: the attested facts decide, or the uninspected amount
        Uninspected, // received but not inspected within the SLA: price and delivery back
        OnReceipt, // released at an accredited return center's receiving scan, as grade A
        Dispatched, // sent back (the carrier's scan) but never received: as grade A
        UnitClosed, // the unit was closed while the order held it: price and delivery back
        ReissueFailed // a replacement never came and the policy waives the defective unit's return
    }

    /// @dev A unit offered for sale by its brand (merchant zero: not listed), under the market's policy version then.
    struct Listing {
        address merchant;
        uint96 price;
        address currency;
        uint96 deliveryFee;
        uint96 returnShippingFee;
        uint32 market;
        uint32 policyVersion;
        uint8 classFlags;
    }

    /// @dev What a buyer commits to at purchase: any difference from the listing makes the purchase revert.
    struct ListingTerms {
        uint32 market;
        uint32 policyVersion;
        address currency;
        uint256 price;
        uint256 deliveryFee;
        uint256 returnShippingFee;
        uint8 classFlags;
    }

    /**
     * @dev An order. `policyVersion` is the market's version in force at purchase. `inWithdrawal`
     * records whether the return request fell in the statutory withdrawal period; `facts`, `grade` and
     * `diminishedValue` are the inspection's (or the arbiter's correction); after a settlement `grade`
     * is the grade settled on (None: no inspection decided it). `disputedAt` is when a dispute opened;
     * `windowExtension` the time defect claims kept the return period from running; `inspectorOrg` the
     * organisation of the inspection a dispute would be about (0: none; set when an inspection leaves
     * the order `Inspected` or `Disputed`, or attests during a dispute), which may not arbitrate it.
     */
    struct Order {
        address buyer;
        uint40 purchasedAt;
        OrderStatus status;
        ReturnReason reason;
        bool hygieneSealed;
        bool inWithdrawal;
        uint8 facts;
        IReturnPolicies.Grade grade;
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
        bool exceptionConfirmed;
        uint96 diminishedValue;
        uint40 disputedAt;
        uint32 windowExtension;
        uint64 inspectorOrg;
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
     * @dev An inspector's attestation of a returned unit: the facts, the grade it claims, the
     * diminished value of a used unit (base units; the policy caps what counts) and the evidence
     * (the SHA-256 digest inside the CIDv1 of the report and photos).
     * EIP-712 type: `Inspection(address inspector,uint256 orderId,uint8 facts,uint8 grade,uint96 diminishedValue,bytes32 evidence,uint256 nonce,uint64 deadline)`.
     */
    struct Inspection {
        address inspector;
        uint256 orderId;
        uint8 facts;
        uint8 grade;
        uint96 diminishedValue;
        bytes32 evidence;
        uint256 nonce;
        uint64 deadline;
    }

    /// @dev The market has no current policy, or the order's policy version is unknown.
    /// @param market The market.
    /// @param version The policy version (0: the market has none).
    error ReturnEscrowUnknownPolicy(uint32 market, uint32 version);

    /// @dev The GTIN is not registered in the registry.
    /// @param gtin The GTIN.
    error ReturnEscrowUnknownProduct(uint64 gtin);

    /// @dev The unit has not been commissioned in the registry.
    /// @param unitId The unit's id.
    error ReturnEscrowUnknownUnit(bytes32 unitId);

    /// @dev The product class is not sold in the market (markets are numbered 0-63).
    /// @param gtin The product class's GTIN.
    /// @param market The market.
    error ReturnEscrowMarketNotServed(uint64 gtin, uint32 market);

    /// @dev The market does not allow this currency.
    /// @param market The market.
    /// @param currency The currency (zero: the native coin).
    error ReturnEscrowCurrencyNotAllowed(uint32 market, address currency);

    /// @dev `account` is not the brand (merchant) of the unit, or no longer holds the registry's brand role.
    /// @param account The caller.
    error ReturnEscrowNotMerchant(address account);

    /// @dev Only the registry tells the escrow of class reviews.
    /// @param account The caller.
    error ReturnEscrowNotRegistry(address account);

    /// @dev `account` is neither the order's merchant nor the merchant's staff.
    /// @param orderId The order.
    /// @param account The caller.
    error ReturnEscrowNotMerchantSide(uint256 orderId, address account);

    /// @dev The return shipping fee exceeds the price.
    /// @param price The price.
    /// @param returnShippingFee The return shipping fee.
    error ReturnEscrowInvalidFees(uint256 price, uint256 returnShippingFee);

    /// @dev An amount exceeds the bound of stored amounts (`type(uint96).max`).
    /// @param amount The amount.
    error ReturnEscrowAmountTooLarge(uint256 amount);

    /// @dev The unit is not the merchant's to sell: its order `orderId` has not ended, ended with the
    /// unit kept by the buyer or gone elsewhere, or ended without an inspection that found it sellable.
    /// @param unitId The unit's id.
    /// @param orderId Its last order.
    error ReturnEscrowUnitUnavailable(bytes32 unitId, uint256 orderId);

    /// @dev The listing is not what the buyer agreed to.
    /// @param unitId The unit's id.
    error ReturnEscrowListingChanged(bytes32 unitId);

    /// @dev The unit is not listed for sale.
    /// @param unitId The unit's id.
    error ReturnEscrowNotListed(bytes32 unitId);

    /// @dev The payment does not match the amount due (native value, or tokens actually received).
    /// @param expected The amount due.
    /// @param received The amount paid or received.
    error ReturnEscrowWrongPayment(uint256 expected, uint256 received);

    /// @dev No order has this id.
    /// @param orderId The order id given.
    error ReturnEscrowUnknownOrder(uint256 orderId);

    /// @dev The order is not in a state that allows the operation.
    /// @param orderId The order.
    /// @param status Its status.
    error ReturnEscrowInvalidStatus(uint256 orderId, OrderStatus status);

    /// @dev `account` is not the order's buyer.
    /// @param orderId The order.
    /// @param account The caller.
    error ReturnEscrowNotBuyer(uint256 orderId, address account);

    /// @dev The order has no delivery scan.
    /// @param orderId The order.
    error ReturnEscrowNotDelivered(uint256 orderId);

    /// @dev The order was delivered, so it cannot be cancelled as undelivered.
    /// @param orderId The order.
    /// @param deliveredAt When it was delivered.
    error ReturnEscrowAlreadyDelivered(uint256 orderId, uint256 deliveredAt);

    /// @dev The return period closed at `closesAt`.
    /// @param orderId The order.
    /// @param closesAt When the return period closed.
    error ReturnEscrowReturnWindowClosed(uint256 orderId, uint256 closesAt);

    /// @dev A period (return, dispute, delivery, a scan's relay delay) is still open until `closesAt` inclusive.
    /// @param orderId The order.
    /// @param closesAt The period's last second.
    error ReturnEscrowWindowOpen(uint256 orderId, uint256 closesAt);

    /// @dev The dispute window closed at `closedAt`.
    /// @param orderId The order.
    /// @param closedAt When the dispute window closed.
    error ReturnEscrowDisputeWindowClosed(uint256 orderId, uint256 closedAt);

    /// @dev The arbiter's time to decide ended at `lapsedAt`: the attested facts decide now.
    /// @param orderId The order.
    /// @param lapsedAt When the arbiter's time ended.
    error ReturnEscrowDisputeLapsed(uint256 orderId, uint256 lapsedAt);

    /// @dev A dispute opened before any inspection lapsed undecided: the return's own timeouts run now.
    /// @param orderId The order.
    /// @param disputedAt When that dispute opened.
    error ReturnEscrowAlreadyDisputed(uint256 orderId, uint256 disputedAt);

    /// @dev The reason code is outside {ReturnReason}.
    /// @param reason The reason code given.
    error ReturnEscrowInvalidReason(uint8 reason);

    /// @dev The grade is not A, B or C.
    /// @param grade The grade given.
    error ReturnEscrowInvalidGrade(uint8 grade);

    /// @dev The facts have bits other than the four defined ones.
    /// @param facts The fact bits given.
    error ReturnEscrowInvalidFacts(uint8 facts);

    /// @dev `account` does not hold the inspector role in the registry.
    /// @param account The caller.
    error ReturnEscrowNotInspector(address account);

    /// @dev The return warehouse has not scanned the returned unit in (after the return request).
    /// @param orderId The order.
    error ReturnEscrowNotReturned(uint256 orderId);

    /// @dev The unit came back (received at `at`) or was sent back (dispatched at `at`), so it is not unreturned.
    /// @param orderId The order.
    /// @param at When it was received or dispatched.
    error ReturnEscrowAlreadyReturned(uint256 orderId, uint256 at);

    /// @dev The return was received (or no carrier's scan proves its dispatch).
    /// @param orderId The order.
    error ReturnEscrowNotDispatched(uint256 orderId);

    /// @dev The inspection SLA ends at `slaEndsAt`; the claim is possible after it.
    /// @param orderId The order.
    /// @param slaEndsAt The SLA's last second.
    error ReturnEscrowSlaNotElapsed(uint256 orderId, uint256 slaEndsAt);

    /// @dev The inspection SLA ended at `slaEndedAt`: the buyer may claim a full refund instead.
    /// @param orderId The order.
    /// @param slaEndedAt The SLA's last second.
    error ReturnEscrowSlaElapsed(uint256 orderId, uint256 slaEndedAt);

    /// @dev The return request was not a statutory withdrawal.
    /// @param orderId The order.
    error ReturnEscrowNotStatutory(uint256 orderId);

    /// @dev The statutory refund is not due yet (0: not until the unit is received or its dispatch proved).
    /// @param orderId The order.
    /// @param dueAt When the refund falls due (0: not known until the unit is received or its dispatch proved).
    error ReturnEscrowRefundNotDue(uint256 orderId, uint256 dueAt);

    /// @dev `account` has no credit in `currency` (or there is no surplus to recover).
    /// @param currency The currency (zero: the native coin).
    /// @param account The account (or the escrow, for a surplus).
    error ReturnEscrowNothingToWithdraw(address currency, address account);

    /// @dev Sending the native coin to `account` failed.
    /// @param account The recipient.
    /// @param amount The amount sent.
    error ReturnEscrowNativeTransferFailed(address account, uint256 amount);

    /// @dev An address argument is zero.
    error ReturnEscrowZeroAddress();

    /// @dev Only the reissue desk may call this.
    /// @param account The caller.
    error ReturnEscrowNotReissueDesk(address account);

    /// @dev The reissue desk is set once, to `desk`.
    /// @param desk The reissue desk already set.
    error ReturnEscrowReissueDeskSet(address desk);

    /// @dev The remedy is outside {Remedy}.
    /// @param remedy The remedy given.
    error ReturnEscrowInvalidRemedy(uint8 remedy);

    /// @dev The order's policy offers no exchange.
    /// @param orderId The order.
    error ReturnEscrowExchangeNotOffered(uint256 orderId);

    /// @dev The order's policy does not release refunds on receipt.
    /// @param orderId The order.
    error ReturnEscrowNoRefundOnReturn(uint256 orderId);

    /// @dev The receiving scan was not made by a return center accredited for the order's market.
    /// @param orderId The order.
    /// @param location The receiving scan's GLN.
    /// @param organization The GLN of the scanning signer's organisation.
    error ReturnEscrowCenterNotAccredited(uint256 orderId, uint64 location, uint64 organization);

    /// @dev The inspector is the buyer, or belongs to the merchant's, the buyer's or the first inspector's organisation.
    /// @param inspector The inspector.
    /// @param organization The inspector's organisation GLN.
    error ReturnEscrowInspectorNotIndependent(address inspector, uint64 organization);

    /// @dev The arbiter is the order's buyer or merchant, or belongs to the buyer's, the merchant's or an
    /// inspecting house's organisation.
    /// @param orderId The order.
    /// @param arbiter The caller.
    error ReturnEscrowArbiterNotIndependent(uint256 orderId, address arbiter);

    /// @dev An inspection's grade differs from the one its facts give where that is refused (a disposition
    /// after a refund, or an attestation during a dispute).
    /// @param orderId The order.
    /// @param claimed The grade the inspection claims.
    /// @param derived The grade its facts give.
    error ReturnEscrowGradeMismatch(uint256 orderId, IReturnPolicies.Grade claimed, IReturnPolicies.Grade derived);

    /// @dev The unit is not closed (the claim needs it closed while the order held it).
    /// @param orderId The order.
    error ReturnEscrowUnitNotClosed(uint256 orderId);

    /// @dev Emitted when the brand lists (or relists with new terms) a unit.
    event Listed(
        bytes32 indexed unitId,
        address indexed merchant,
        uint64 indexed gtin,
        uint32 market,
        address currency,
        uint256 price,
        uint256 deliveryFee,
        uint256 returnShippingFee,
        uint8 classFlags
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
        uint256 returnShippingFee,
        bool hygieneSealed,
        bool exceptionConfirmed
    );

    /// @dev Emitted when the buyer requests a return; `inWithdrawal`: inside the statutory withdrawal period.
    event ReturnRequested(uint256 indexed orderId, address indexed buyer, ReturnReason reason, bool inWithdrawal, Remedy remedy);

    /// @dev Emitted when the buyer changes the remedy before the refund is paid.
    event RemedyChosen(uint256 indexed orderId, Remedy remedy);

    /// @dev Emitted when an inspector's attestation is accepted; `derivedGrade` is the grade the facts give.
    event InspectionSubmitted(
        uint256 indexed orderId,
        address indexed inspector,
        uint8 facts,
        IReturnPolicies.Grade claimedGrade,
        IReturnPolicies.Grade derivedGrade,
        uint96 diminishedValue,
        bytes32 evidence
    );

    /// @dev Emitted when a B or C inspection awaits the buyer's acceptance until `disputeDeadline`.
    event OrderInspected(uint256 indexed orderId, IReturnPolicies.Grade grade, uint40 disputeDeadline);

    /// @dev Emitted when the admin sets the reissue desk.
    event ReissueDeskSet(address desk);

    /// @dev Emitted when a high-value return's first attestation awaits an inspector of another organisation.
    event SecondInspectionRequired(uint256 indexed orderId, uint64 firstOrganization);

    /// @dev Emitted when the refund was paid before an inspection and an inspection then decides the unit's fate.
    event DispositionDecided(uint256 indexed orderId, IReturnPolicies.Grade grade, IReturnPolicies.Disposition disposition);

    /**
     * @dev Emitted when an order goes to dispute: by the buyer contesting a grade, by an inspection
     * mismatch (`by` zero), or before any inspection by the buyer or the merchant's side. The arbiter
     * decides by `decideBy`, else the attested facts decide.
     */
    event OrderDisputed(uint256 indexed orderId, address indexed by, uint40 decideBy);

    /**
     * @dev Emitted when the arbiter decides a dispute on `facts` (which it may have corrected) and
     * their grade, with its reason and evidence (a digest; followed by {OrderSettled}).
     */
    event DisputeResolved(
        uint256 indexed orderId,
        address indexed arbiter,
        uint8 facts,
        IReturnPolicies.Grade grade,
        uint96 diminishedValue,
        bytes32 reason,
        bytes32 evidence
    );

    /// @dev Emitted when a dispute's arbiter did not decide by `decideBy`: visible silence, then the rule decides.
    event DisputeLapsed(uint256 indexed orderId, uint40 decideBy);

    /// @dev Emitted when an order settles; the settlement carries its parts (see {IReturnPolicies-Settlement}).
    event OrderSettled(
        uint256 indexed orderId,
        SettlementPath path,
        IReturnPolicies.Grade grade,
        IReturnPolicies.Settlement settlement
    );

    /// @dev Emitted when a settlement's points could not be minted and were paid in cash instead.
    event PointsPaidInCash(uint256 indexed orderId, uint256 amount);

    /// @dev Emitted when the refund was released at the accredited return center at `location` (followed by {OrderSettled}).
    event RefundReleasedOnReceipt(uint256 indexed orderId, uint64 location);

    /**
     * @dev Emitted when the merchant is credited `price + deliveryFee` without a return: the return
     * period closed with no request ({release}), the buyer never sent the unit back
     * ({releaseUnreturned}), or a replacement for a defective unit was delivered (`Reissued`).
     */
    event OrderCompleted(uint256 indexed orderId, uint256 merchantAmount);

    /// @dev Emitted when the buyer cancels an undelivered order and is credited.
    event OrderCancelled(uint256 indexed orderId, uint256 refund);

    /// @dev Emitted when a defect claim turns into a return of the unit at the merchant's expense.
    event DefectReturnOpened(uint256 indexed orderId);

    /// @dev Emitted when `account` withdraws its credit in `currency` to `to`.
    event Withdrawn(address indexed currency, address indexed account, address to, uint256 amount);

    /// @dev Emitted when the admin recovers coins or tokens sent to the escrow outside any order.
    event SurplusRecovered(address indexed currency, address indexed to, uint256 amount);

    /**
     * @dev Lists (or relists with new terms) unit `gtin`/`serial` for sale in `market`: the price,
     * the outbound delivery fee and the return shipping the buyer bears where the grade terms say so,
     * in `currency` (zero: the native coin).
     *
     * Requirements:
     *
     * - the caller registered `gtin` and holds the registry's brand role; the class is sold in `market`
     *   and the market has a policy and allows `currency`.
     * - the unit is commissioned, open, and its last order (if any) ended with it back in stock after an
     *   inspection that found it sellable.
     * - `returnShippingFee <= price`; amounts fit in `uint96`.
     *
     * Emits a {Listed} event.
     * @param gtin The unit's GTIN.
     * @param serial The unit's serial.
     * @param market The market it is sold in.
     * @param currency The currency (zero: the native coin).
     * @param price The price.
     * @param deliveryFee The outbound delivery fee.
     * @param returnShippingFee The return shipping the buyer bears where the grade terms say so.
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
     * @dev Withdraws the caller's listing of `unitId`.
     *
     * Requirements: the unit is listed by the caller.
     *
     * Emits a {Delisted} event.
     * @param unitId The unit's id.
     */
    function delist(bytes32 unitId) external;

    /**
     * @dev Buys the listed unit, committing to `expected` (market, the policy version it was listed
     * under, currency, price, delivery fee, return shipping fee and class flags: any difference
     * reverts; a relisting changes them). `confirmsExceptions`: the buyer confirms the statutory exceptions shown to them
     * (China's hygiene exception applies only then). Pays price + delivery fee in native value, or
     * pulls exactly that many tokens (approved beforehand).
     *
     * Requirements:
     *
     * - the unit is listed, open, and the listing equals `expected`.
     * - the payment matches (no value with a token currency).
     *
     * Emits an {OrderPlaced} event.
     * @param unitId The unit's id.
     * @param expected The listing's terms as the buyer saw them.
     * @param confirmsExceptions Whether the buyer confirms the statutory exceptions shown to them.
     * @return orderId The new order's id.
     */
    function purchase(bytes32 unitId, ListingTerms calldata expected, bool confirmsExceptions) external payable returns (uint256 orderId);

    /**
     * @dev Pays the merchant price + delivery fee once the return period of a delivered order closed
     * with no return requested; anyone may call.
     *
     * Requirements: the order is `Active`, delivered, and its return period (statutory and voluntary,
     * plus any extension) has closed.
     *
     * Emits an {OrderCompleted} event.
     * @param orderId The order.
     */
    function release(uint256 orderId) external;

    /**
     * @dev Pays the merchant price + delivery fee when the buyer requested a return but never sent the
     * unit back; anyone may call.
     *
     * Requirements:
     *
     * - the order is `ReturnRequested`; no receiving scan and no carrier's scan proving dispatch
     *   recorded since the request; the unit is open.
     * - the delivery timeout since the request, and the policy's relay delay after it, have passed
     *   (a scan signed in time and relayed late still counts).
     *
     * Emits an {OrderCompleted} event.
     * @param orderId The order.
     */
    function releaseUnreturned(uint256 orderId) external;

    /**
     * @dev Refunds price + delivery fee when the unit was never delivered; the buyer calls.
     *
     * Requirements: the caller is the buyer; the order is `Active` and undelivered; the delivery
     * timeout since purchase and the relay delay after it have passed.
     *
     * Emits an {OrderCancelled} event.
     * @param orderId The order.
     */
    function cancelUndelivered(uint256 orderId) external;

    /**
     * @dev Requests a return as the buyer, with a reason and the remedy (cash or exchange voucher).
     *
     * Requirements: the caller is the buyer; the order is `Active`, delivered and inside its return
     * period; `reason` and `remedy` are known; an exchange is offered by the policy.
     *
     * Emits a {ReturnRequested} event.
     * @param orderId The order.
     * @param reason The `ReturnReason`.
     * @param remedy The `Remedy`: 0 refund, 1 exchange voucher.
     */
    function requestReturn(uint256 orderId, uint8 reason, uint8 remedy) external;

    /**
     * @dev {requestReturn} on the buyer's behalf from their signed {ReturnRequest}; anyone may submit it.
     *
     * Requirements: as {requestReturn} for `request.buyer`; signature, nonce and deadline are valid.
     *
     * Emits a {ReturnRequested} event.
     * @param request The buyer's signed request.
     * @param signature The buyer's EIP-712 signature of `request`.
     */
    function requestReturnBySig(ReturnRequest calldata request, bytes calldata signature) external;

    /**
     * @dev Changes the remedy of a return before its refund is paid (the exchange is revocable).
     *
     * Requirements: the caller is the buyer; the order is `ReturnRequested`, `SecondInspection`,
     * `Inspected` or `Disputed`; an exchange is offered by the policy.
     *
     * Emits a {RemedyChosen} event.
     * @param orderId The order.
     * @param remedy The `Remedy` from now on.
     */
    function chooseRemedy(uint256 orderId, uint8 remedy) external;

    /**
     * @dev Records an inspector's signed attestation; anyone may submit it. Grade A settles at once
     * (after a second opinion above the currency's dual-inspection amount); B and C wait for the buyer
     * until the dispute window closes; facts that do not give the claimed grade, or a second opinion
     * that differs, open a dispute. After a refund paid before inspection it decides the unit's fate.
     * During a party's dispute opened before any inspection it attests the facts for the arbiter, and
     * they decide if the arbiter stays silent (above the dual-inspection amount: two houses' agreeing
     * facts); the order stays `Disputed`, and a grade that contradicts the facts is refused.
     *
     * Requirements:
     *
     * - the order is `ReturnRequested` (received), `SecondInspection`, `Refunded` without facts, or
     *   `Disputed` by a party before any inspection and not yet attested (`inspectorOrg` 0).
     * - signature, nonce and deadline are valid; the signer is an accredited inspector who is not the
     *   buyer and belongs to neither the merchant's, the buyer's nor (second opinion) the first
     *   inspector's organisation; facts use the defined bits; the grade is A, B or C.
     * - before a refund: the inspection SLA since the receipt has not ended.
     *
     * Emits an {InspectionSubmitted} event, then {OrderSettled}, {OrderInspected},
     * {SecondInspectionRequired}, {OrderDisputed} or {DispositionDecided}.
     * @param inspection The inspector's signed attestation.
     * @param signature The inspector's EIP-712 signature of `inspection`.
     */
    function submitInspection(Inspection calldata inspection, bytes calldata signature) external;

    /**
     * @dev Accepts a B or C inspection as the buyer: settles at the inspected grade.
     *
     * Requirements: the caller is the buyer; the order is `Inspected`.
     *
     * Emits an {OrderSettled} event.
     * @param orderId The order.
     */
    function acceptInspection(uint256 orderId) external;

    /**
     * @dev Contests a B or C inspection as the buyer inside the dispute window.
     *
     * Requirements: the caller is the buyer; the order is `Inspected`; the dispute window is open.
     *
     * Emits an {OrderDisputed} event.
     * @param orderId The order.
     */
    function contest(uint256 orderId) external;

    /**
     * @dev Settles a B or C inspection the buyer neither accepted nor contested; anyone may call.
     *
     * Requirements: the order is `Inspected`; the dispute window has closed.
     *
     * Emits an {OrderSettled} event.
     * @param orderId The order.
     */
    function finalize(uint256 orderId) external;

    /**
     * @dev Opens a dispute (mediation) before any inspection, as the buyer or the merchant's side
     * (the merchant or its staff).
     *
     * Requirements: the order is `ReturnRequested` and was never disputed (a lapsed dispute is not
     * opened again); the caller is the buyer, the merchant or the merchant's staff.
     *
     * Emits an {OrderDisputed} event.
     * @param orderId The order.
     */
    function openDispute(uint256 orderId) external;

    /**
     * @dev Decides a dispute: the arbiter states the facts (correcting the inspector's if it finds
     * them wrong) and the diminished value, with a reason (a short ASCII code, right-padded with zero
     * bytes, such as "facts_corrected") and evidence (the SHA-256 digest inside the CIDv1 of its
     * ruling); the facts give the grade and the order settles by them.
     *
     * Requirements: the caller holds `ARBITER_ROLE` and is neither party nor works for one (shares
     * neither's organisation in the registry), nor for a house that inspected the unit for this order
     * (it would judge its own inspection); the order is `Disputed`; the arbiter's time
     * (the policy's `arbiterTimeout` since the dispute opened) has not run out; facts use the defined bits.
     *
     * Emits a {DisputeResolved} and an {OrderSettled} event.
     * @param orderId The order.
     * @param facts The facts the arbiter finds (bits).
     * @param diminishedValue The diminished value the arbiter finds, in base units (the policy caps what counts).
     * @param reason The arbiter's reason code.
     * @param evidence The digest of the arbiter's ruling or evidence.
     */
    function resolveDispute(uint256 orderId, uint8 facts, uint96 diminishedValue, bytes32 reason, bytes32 evidence) external;

    /**
     * @dev Ends a dispute the arbiter did not decide in time; anyone may call. With attested facts the
     * order settles by them; before any inspection, or above the currency's `dualInspectionAbove` when
     * no two houses agreed, the order goes back to awaiting its return, whose own timeouts then apply
     * (the SLA kept running: an uninspected unit is refunded in full).
     *
     * Requirements: the order is `Disputed` and the arbiter's time has run out.
     *
     * Emits a {DisputeLapsed} event, then {OrderSettled} when facts were attested.
     * @param orderId The order.
     */
    function settleLapsedDispute(uint256 orderId) external;

    /**
     * @dev Refunds price + delivery fee when the return was received but not inspected within the
     * SLA (or a second opinion never came), or when the unit was closed while the order held it
     * before any facts were attested; the buyer calls.
     *
     * Requirements: the caller is the buyer; the order is `ReturnRequested` or `SecondInspection`;
     * the SLA since the receipt has ended, or the unit is closed.
     *
     * Emits an {OrderSettled} event.
     * @param orderId The order.
     */
    function claimUninspectedRefund(uint256 orderId) external;

    /**
     * @dev Pays the statutory refund once due: by the attested facts where an inspection (or the
     * arbiter) stated them, else as grade A with the seal intact (no exception proved), in cash
     * whatever the remedy (a refund the merchant let fall due is a timeout refund); the buyer calls.
     *
     * Requirements:
     *
     * - the caller is the buyer; the request fell in the withdrawal period; the order is
     *   `ReturnRequested`, `SecondInspection`, `Inspected` or `Disputed`.
     * - the refund is due ({refundDueAt}) and that time has passed.
     *
     * Emits an {OrderSettled} event.
     * @param orderId The order.
     */
    function claimOverdueRefund(uint256 orderId) external;

    /**
     * @dev Refunds a return whose dispatch a carrier's scan proves but which was never received, as
     * grade A with the seal intact, in cash whatever the remedy, once the delivery timeout since the
     * dispatch (and the relay delay) passed; the buyer calls. The merchant is never paid for a unit sent back without a decision.
     *
     * Requirements: the caller is the buyer; the order is `ReturnRequested`; dispatched, not received.
     *
     * Emits an {OrderSettled} event.
     * @param orderId The order.
     */
    function claimDispatchedRefund(uint256 orderId) external;

    /**
     * @dev Releases the refund (or the exchange voucher) when an accredited return center for the
     * order's market scanned the unit in, before inspection, as grade A with the seal intact;
     * anyone may call.
     *
     * Requirements: the order is `ReturnRequested`; the policy has `refundOnReturn`; the receiving scan
     * was made at a return center accredited for the market; the inspection SLA has not ended.
     *
     * Emits a {RefundReleasedOnReceipt} and an {OrderSettled} event.
     * @param orderId The order.
     */
    function releaseRefundOnReceipt(uint256 orderId) external;

    /**
     * @dev Sets, once, the {ReissueDesk} allowed to move orders through defect claims and replacements.
     *
     * Requirements: the caller holds `DEFAULT_ADMIN_ROLE`; `desk` is not zero; no desk is set.
     *
     * Emits a {ReissueDeskSet} event.
     * @param desk The reissue desk.
     */
    function setReissueDesk(address desk) external;

    /**
     * @dev Opens a defect claim of `buyer` on an `Active`, delivered order inside its return period:
     * approved at once when the price is at or under the currency's auto-approval limit.
     *
     * Requirements: the caller is the reissue desk; as {requestReturn} for `buyer`.
     * @param orderId The order.
     * @param buyer The buyer claiming.
     * @return autoApproved True when the claim was approved at once.
     */
    function openDefectClaim(uint256 orderId, address buyer) external returns (bool autoApproved);

    /**
     * @dev Decides a `DefectClaimed` order: approved, it owes a replacement; rejected, it is `Active`
     * again and its return period is extended by `pendingFor`, the time the claim was pending.
     *
     * Requirements: the caller is the reissue desk; the order is `DefectClaimed`.
     * @param orderId The order.
     * @param approve True to approve, false to reject.
     * @param pendingFor How long the claim was pending (seconds).
     */
    function decideDefectClaim(uint256 orderId, bool approve, uint256 pendingFor) external;

    /**
     * @dev Turns a defect claim nobody decided in time (or an unfulfilled reissue that needs the unit
     * back) into a return at the merchant's expense: reason `Defective`, requested now (at the claim
     * if the unit was already received or its dispatch proved under the order's RMA since then: those
     * scans count), and a withdrawal if the claim was made in the withdrawal period (the time since the
     * claim extends the return period, as a rejected claim's pending time does).
     *
     * Requirements: the caller is the reissue desk; the order is `DefectClaimed` or `ReissueApproved`.
     *
     * Emits a {DefectReturnOpened} event.
     * @param orderId The order.
     * @param replacement The replacement unit reserved for the order, whose reservation is freed (zero: none).
     */
    function openDefectReturn(uint256 orderId, bytes32 replacement) external;

    /**
     * @dev Reserves `replacement` for an approved reissue so that it cannot be listed meanwhile.
     *
     * Requirements: the caller is the reissue desk; the order is `ReissueApproved`; the replacement is
     * the merchant's stock (see {list}).
     * @param orderId The order.
     * @param replacement The replacement's unit id.
     */
    function reserveReplacement(uint256 orderId, bytes32 replacement) external;

    /**
     * @dev Ends an approved reissue: delivered, the merchant is paid; not delivered and the policy
     * waives the defective unit's return, the buyer is refunded in full and the reservation freed.
     *
     * Requirements: the caller is the reissue desk; the order is `ReissueApproved`.
     *
     * Emits an {OrderCompleted} or {OrderSettled} event.
     * @param orderId The order.
     * @param delivered Whether the replacement was delivered.
     * @param replacement The replacement's unit id (zero: none linked).
     */
    function closeReissue(uint256 orderId, bool delivered, bytes32 replacement) external;

    /**
     * @dev Withdraws the caller's credit in `currency` to itself.
     *
     * Requirements: the caller has a credit in `currency`.
     *
     * Emits a {Withdrawn} event.
     * @param currency The currency (zero: the native coin).
     */
    function withdraw(address currency) external;

    /**
     * @dev Withdraws the caller's credit in `currency` to `to`: a blocked or blacklisted address can
     * still be paid elsewhere.
     *
     * Requirements: the caller has a credit in `currency`; `to` is not zero.
     *
     * Emits a {Withdrawn} event.
     * @param currency The currency (zero: the native coin).
     * @param to Where the credit is sent.
     */
    function withdrawTo(address currency, address to) external;

    /**
     * @dev Sends to `to` what the escrow holds of `currency` beyond what it owes.
     *
     * Requirements: the caller holds `DEFAULT_ADMIN_ROLE`; there is a surplus.
     *
     * Emits a {SurplusRecovered} event.
     * @param currency The currency (zero: the native coin).
     * @param to Where the surplus is sent.
     */
    function recoverSurplus(address currency, address to) external;

    /// @dev Returns the listing of `unitId` (merchant zero: not listed).
    /// @param unitId The unit's id.
    /// @return The listing.
    function listing(bytes32 unitId) external view returns (Listing memory);

    /// @dev Returns the id of the unit's latest order (0: never sold).
    /// @param unitId The unit's id.
    /// @return The order id.
    function lastOrderOf(bytes32 unitId) external view returns (uint256);

    /// @dev Returns the GTIN of `unitId` as its latest listing named it, kept once sold (0: never listed, or delisted).
    /// @param unitId The unit's id.
    /// @return The unit's GTIN-14.
    function unitGtin(bytes32 unitId) external view returns (uint64);

    /// @dev Returns the order. Reverts {ReturnEscrowUnknownOrder} if it does not exist.
    /// @param orderId The order.
    /// @return The order.
    function order(uint256 orderId) external view returns (Order memory);

    /// @dev Returns the number of orders placed (ids run from 1).
    /// @return The number of orders.
    function orderCount() external view returns (uint256);

    /// @dev Returns the business-transaction reference a carrier's delivery scan carries: keccak256(chain id, escrow, order id).
    /// @param orderId The order.
    /// @return The order reference.
    function orderRef(uint256 orderId) external view returns (bytes32);

    /// @dev Returns the RMA reference a return's scans carry: keccak256(orderRef, "RMA").
    /// @param orderId The order.
    /// @return The RMA reference.
    function rmaRef(uint256 orderId) external view returns (bytes32);

    /// @dev Returns when the unit was delivered (the carrier's scan, bounded by the relay delay; 0: not delivered).
    /// @param orderId The order.
    /// @return When it was delivered (unix seconds).
    function deliveredAt(uint256 orderId) external view returns (uint256);

    /// @dev Returns when the return was received (the warehouse's scan after the request; 0: not yet).
    /// @param orderId The order.
    /// @return When the return was received (unix seconds).
    function returnReceivedAt(uint256 orderId) external view returns (uint256);

    /// @dev Returns when a carrier's scan proves the return was sent back after the request (0: no proof).
    /// @param orderId The order.
    /// @return When the return was dispatched (unix seconds).
    function dispatchedAt(uint256 orderId) external view returns (uint256);

    /**
     * @dev Returns the organisation whose inspector gave a high-value return's first opinion (0: none yet).
     * A second opinion, or an attestation for the arbiter, must come from another house; after a dispute
     * that lapses with nothing attested, the next first inspection replaces it.
     * @param orderId The order.
     * @return The first inspecting house's organisation (its GLN).
     */
    function firstInspectorOrganization(uint256 orderId) external view returns (uint64);

    /// @dev Returns the last second a return may be requested (0: not delivered).
    /// @param orderId The order.
    /// @return The last second of the return period (unix seconds).
    function returnWindowCloses(uint256 orderId) external view returns (uint256);

    /**
     * @dev Returns when the statutory refund of a returned order falls due (0: not a withdrawal, or
     * not due until the unit is received or its dispatch proved).
     * @param orderId The order.
     * @return When the statutory refund falls due (unix seconds).
     */
    function refundDueAt(uint256 orderId) external view returns (uint256);

    /**
     * @dev Returns the settlement `facts` would give the order at `grade` now (with `diminishedValue`):
     * the escrow's own arithmetic (see {IReturnPolicies-settlement}), for the amounts a page shows.
     * @param orderId The order.
     * @param grade The grade.
     * @param facts The attested fact bits.
     * @param diminishedValue The attested diminished value, in base units.
     * @return The settlement, as its parts.
     */
    function quote(uint256 orderId, uint8 grade, uint8 facts, uint256 diminishedValue) external view returns (IReturnPolicies.Settlement memory);

    /// @dev Returns the credit of `account` in `currency`.
    /// @param currency The currency (zero: the native coin).
    /// @param account The account.
    /// @return Its credit, in base units.
    function credits(address currency, address account) external view returns (uint256);

    /// @dev Returns what the escrow owes in `currency`: open orders' escrow plus unwithdrawn credits.
    /// @param currency The currency (zero: the native coin).
    /// @return What the escrow owes in it, in base units.
    function totalOwed(address currency) external view returns (uint256);

    /// @dev Returns the EIP-712 type hash of {ReturnRequest}.
    /// @return keccak256 of the `ReturnRequest` type string.
    function getReturnRequestTypeHash() external pure returns (bytes32);

    /// @dev Returns the EIP-712 type hash of {Inspection}.
    /// @return keccak256 of the `Inspection` type string.
    function getInspectionTypeHash() external pure returns (bytes32);
}
