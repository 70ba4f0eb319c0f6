// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ICloseGuard} from "./interfaces/ICloseGuard.sol";
import {IReturnEscrow} from "./interfaces/IReturnEscrow.sol";
import {IReturnPolicies} from "./interfaces/IReturnPolicies.sol";
import {IStorePoints} from "./interfaces/IStorePoints.sol";
import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {DelegatedSignatures} from "./utils/DelegatedSignatures.sol";
import {ActorRoles} from "./utils/ActorRoles.sol";
import {GS1} from "./utils/GS1.sol";
import {BuyerClaims} from "./utils/BuyerClaims.sol";
import {ReturnClock} from "./utils/ReturnClock.sol";
import {ReturnInspection} from "./utils/ReturnInspection.sol";
import {Parties} from "./utils/Parties.sol";
import {ReturnSettlement} from "./utils/ReturnSettlement.sol";
import {UnitCustody} from "./utils/UnitCustody.sol";

/**
 * @title ReturnEscrow
 * @dev Escrowed sales with statutory and graded returns. See {IReturnEscrow}; the law, the policies
 * and the settlement arithmetic live in {ReturnPolicies}, the registry's closings ask this contract
 * ({ICloseGuard}) whether the unit is the closer's to close.
 *
 * Times read from the registry are the signers' attested times, bounded by the policy's relay delay:
 * a scan recorded later than that after its signed time counts at its recording less the delay.
 *
 * Accounting invariant: for every currency, `totalOwed` = the escrow of open orders plus unwithdrawn
 * credits, and the contract's balance equals it unless someone forces coins in or sends tokens
 * outside an order (see {recoverSurplus}). Amounts are stored as uint96.
 */
contract ReturnEscrow is IReturnEscrow, ICloseGuard, ReentrancyGuardTransient, DelegatedSignatures {
    using SafeERC20 for IERC20;
    using ReturnClock for Order;
    using ReturnSettlement for Order;

    /// @dev Decides disputes (and defect claims the merchant does not concede); a role of {ReturnPolicies}.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @dev Sets the reissue desk and recovers surplus; the default admin role of {ReturnPolicies}.
    bytes32 private constant _ADMIN_ROLE = 0x00;

    bytes32 private constant _RETURN_REQUEST_TYPEHASH =
        keccak256("ReturnRequest(address buyer,uint256 orderId,uint8 reason,uint8 remedy,uint256 nonce,uint64 deadline)");
    bytes32 private constant _INSPECTION_TYPEHASH =
        keccak256(
            "Inspection(address inspector,uint256 orderId,uint8 facts,uint8 grade,uint96 diminishedValue,bytes32 evidence,uint256 nonce,uint64 deadline)"
        );

    uint8 private constant _HYGIENE_SEALED = 1; // product class flag bit 0
    uint16 private constant _REVIEWED = 1 << 8; // in `_reviewedFlags`: the class was reviewed

    /// @dev The unit registry: products, brands, inspectors and delivery/return milestones.
    ITraceRegistry public immutable registry;

    /// @dev The compensation points ledger; this contract is its one minter.
    IStorePoints public immutable points;

    /// @dev The law, the policies, the currencies and the settlement arithmetic.
    IReturnPolicies public immutable policies;

    /// @dev The contract that processes defect claims and replacements (see {ReissueDesk}).
    address public reissueDesk;

    /// @dev A {Listing} with the policy version it was listed under, plus the unit's latest order, in three words.
    struct UnitState {
        address merchant;
        uint96 price;
        address currency;
        uint96 deliveryFee;
        uint96 returnShippingFee;
        uint32 market;
        uint32 policyVersion;
        uint8 classFlags;
        uint40 lastOrder; // 2^40 orders: more than any EVM chain can mine (SafeCast guards it)
        // A GTIN-14 is below 10^14 < 2^48. Kept after the purchase: the purchase re-reads the class's
        // reviewed flags, and the reissue desk checks that a replacement is the sold unit's product.
        uint48 gtin;
    }

    mapping(bytes32 unitId => UnitState) private _units;
    // The accreditor's latest review of a class (`_REVIEWED` | flags; 0: never reviewed), pushed by the
    // registry so that a purchase checks it without an external call.
    mapping(uint64 gtin => uint16) private _reviewedFlags;
    mapping(uint256 orderId => Order) private _orders;
    uint256 private _orderCount;
    mapping(address currency => mapping(address account => uint256)) private _credits;
    mapping(address currency => uint256) private _owed;
    mapping(uint256 orderId => uint64) private _firstInspectorOrg;

    /// @dev Only holders of `role` in {ReturnPolicies}, where every trusted power is kept.
    modifier onlyRole(bytes32 role) {
        if (!IAccessControl(address(policies)).hasRole(role, msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, role);
        }
        _;
    }

    /// @dev Only the {ReissueDesk} moves orders through defect claims and replacements.
    modifier onlyReissueDesk() {
        if (msg.sender != reissueDesk) revert ReturnEscrowNotReissueDesk(msg.sender);
        _;
    }

    /**
     * @dev Binds the escrow to `registry_`, `points_` and `policies_`; the admin and the arbiter are
     * roles of `policies_` ({ReturnPolicies} keeps every trusted power in one place).
     */
    constructor(ITraceRegistry registry_, IStorePoints points_, IReturnPolicies policies_) DelegatedSignatures("ReturnTrace ReturnEscrow", "2") {
        if (address(registry_) == address(0) || address(points_) == address(0) || address(policies_) == address(0)) {
            revert ReturnEscrowZeroAddress();
        }
        registry = registry_;
        points = points_;
        policies = policies_;
    }

    // ---------------------------------------------------------------- listing and purchase

    /// @inheritdoc IReturnEscrow
    function list(
        uint64 gtin,
        string calldata serial,
        uint32 market,
        address currency,
        uint256 price,
        uint256 deliveryFee,
        uint256 returnShippingFee
    ) external {
        ITraceRegistry.Product memory prod = registry.product(gtin);
        if (prod.brand == address(0)) revert ReturnEscrowUnknownProduct(gtin);
        if (prod.brand != msg.sender || registry.actor(msg.sender).roles & ActorRoles.BRAND == 0) {
            revert ReturnEscrowNotMerchant(msg.sender);
        }
        if (market >= 64 || (prod.markets >> market) & 1 == 0) revert ReturnEscrowMarketNotServed(gtin, market);
        uint32 version = policies.currentPolicyVersion(market);
        if (version == 0) revert ReturnEscrowUnknownPolicy(market, 0);
        if (!policies.currency(market, currency).allowed) revert ReturnEscrowCurrencyNotAllowed(market, currency);
        if (returnShippingFee > price) revert ReturnEscrowInvalidFees(price, returnShippingFee);
        if (price > type(uint96).max) revert ReturnEscrowAmountTooLarge(price);
        if (deliveryFee > type(uint96).max) revert ReturnEscrowAmountTooLarge(deliveryFee);

        // A registered GTIN is valid, so it has at most 14 digits as {GS1-unitId} needs.
        bytes32 unitId = GS1.unitId(gtin, bytes(serial));
        if (registry.eventCount(unitId) == 0) revert ReturnEscrowUnknownUnit(unitId);

        UnitState storage u = _units[unitId];
        uint40 last = u.lastOrder;
        // A unit that went elsewhere, or came back uninspected, cannot be sold: it might not be delivered as described.
        if ((last != 0 && !_backInStock(last)) || registry.isClosed(unitId)) revert ReturnEscrowUnitUnavailable(unitId, last);
        _units[unitId] = UnitState({
            merchant: msg.sender,
            price: uint96(price),
            currency: currency,
            deliveryFee: uint96(deliveryFee),
            returnShippingFee: uint96(returnShippingFee),
            market: market,
            policyVersion: version,
            classFlags: prod.classFlags,
            lastOrder: last,
            gtin: uint48(gtin)
        });
        emit Listed(unitId, msg.sender, gtin, market, currency, price, deliveryFee, returnShippingFee, prod.classFlags);
    }

    /// @inheritdoc IReturnEscrow
    function delist(bytes32 unitId) external {
        UnitState storage u = _units[unitId];
        address merchant = u.merchant;
        if (merchant == address(0)) revert ReturnEscrowNotListed(unitId);
        if (merchant != msg.sender) revert ReturnEscrowNotMerchant(msg.sender);
        uint40 last = u.lastOrder;
        delete _units[unitId];
        u.lastOrder = last;
        emit Delisted(unitId);
    }

    /// @inheritdoc IReturnEscrow
    function purchase(
        bytes32 unitId,
        ListingTerms calldata expected,
        bool confirmsExceptions
    ) external payable nonReentrant returns (uint256 orderId) {
        UnitState memory l = _units[unitId];
        if (l.merchant == address(0)) revert ReturnEscrowNotListed(unitId);
        if (
            expected.market != l.market ||
            expected.policyVersion != l.policyVersion ||
            expected.currency != l.currency ||
            expected.price != l.price ||
            expected.deliveryFee != l.deliveryFee ||
            expected.returnShippingFee != l.returnShippingFee ||
            expected.classFlags != l.classFlags ||
            _stale(l.gtin, l.classFlags)
        ) revert ReturnEscrowListingChanged(unitId);
        uint256 total = uint256(l.price) + l.deliveryFee;
        if (l.currency == address(0)) {
            if (msg.value != total) revert ReturnEscrowWrongPayment(total, msg.value);
        } else if (msg.value != 0) {
            revert ReturnEscrowWrongPayment(0, msg.value);
        }

        orderId = ++_orderCount;
        bool hygieneSealed = l.classFlags & _HYGIENE_SEALED != 0;
        // Consume the listing (clearing its words refunds gas) and remember the unit's order.
        _units[unitId] = UnitState({
            merchant: address(0),
            price: 0,
            currency: address(0),
            deliveryFee: 0,
            returnShippingFee: 0,
            market: 0,
            policyVersion: 0,
            classFlags: 0,
            lastOrder: SafeCast.toUint40(orderId),
            gtin: l.gtin // the word is written anyway: keeping the sold unit's product costs nothing
        });
        Order storage o = _orders[orderId];
        o.buyer = msg.sender;
        o.purchasedAt = uint40(block.timestamp);
        o.status = OrderStatus.Active;
        o.hygieneSealed = hygieneSealed;
        o.merchant = l.merchant;
        o.price = l.price;
        o.currency = l.currency;
        o.deliveryFee = l.deliveryFee;
        o.unitId = unitId;
        o.returnShippingFee = l.returnShippingFee;
        o.market = l.market;
        o.policyVersion = l.policyVersion;
        o.exceptionConfirmed = confirmsExceptions;
        _owed[l.currency] += total;
        emit OrderPlaced(
            orderId,
            unitId,
            msg.sender,
            l.merchant,
            l.market,
            l.policyVersion,
            l.currency,
            l.price,
            l.deliveryFee,
            l.returnShippingFee,
            hygieneSealed,
            confirmsExceptions
        );

        if (l.currency != address(0)) _collect(IERC20(l.currency), total);
    }

    // ---------------------------------------------------------------- no return

    /// @inheritdoc IReturnEscrow
    function release(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.Active);
        IReturnPolicies.Policy memory p = _policyOf(o);
        uint256 delivered = _deliveredAt(orderId, o, p);
        if (delivered == 0) revert ReturnEscrowNotDelivered(orderId);
        uint256 closesAt = _windowCloses(o, p, delivered);
        if (block.timestamp <= closesAt) revert ReturnEscrowWindowOpen(orderId, closesAt);
        _complete(orderId, o, OrderStatus.Completed);
    }

    /// @inheritdoc IReturnEscrow
    function releaseUnreturned(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.ReturnRequested);
        IReturnPolicies.Policy memory p = _policyOf(o);
        // A unit received or proved sent back is never the merchant's to keep without a decision.
        uint256 back = _backAt(orderId, o, p);
        if (back != 0) revert ReturnEscrowAlreadyReturned(orderId, back);
        if (registry.isClosed(o.unitId)) revert ReturnEscrowInvalidStatus(orderId, o.status);
        // A scan signed before the timeout may be relayed up to the relay delay after it.
        uint256 closesAt = uint256(o.requestedAt) + p.deliveryTimeout + p.maxRelayDelay;
        if (block.timestamp <= closesAt) revert ReturnEscrowWindowOpen(orderId, closesAt);
        _complete(orderId, o, OrderStatus.Completed);
    }

    /// @inheritdoc IReturnEscrow
    function cancelUndelivered(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        _requireStatus(orderId, o.status, OrderStatus.Active);
        IReturnPolicies.Policy memory p = _policyOf(o);
        uint256 delivered = _deliveredAt(orderId, o, p);
        if (delivered != 0) revert ReturnEscrowAlreadyDelivered(orderId, delivered);
        uint256 cancellableAfter = uint256(o.purchasedAt) + p.deliveryTimeout + p.maxRelayDelay;
        if (block.timestamp <= cancellableAfter) revert ReturnEscrowWindowOpen(orderId, cancellableAfter);

        o.status = OrderStatus.Cancelled;
        uint256 amount = _total(o);
        _credits[o.currency][msg.sender] += amount;
        emit OrderCancelled(orderId, amount);
    }

    // ---------------------------------------------------------------- returns

    /// @inheritdoc IReturnEscrow
    function requestReturn(uint256 orderId, uint8 reason, uint8 remedy) external {
        _requestReturn(msg.sender, orderId, reason, remedy);
    }

    /// @inheritdoc IReturnEscrow
    function requestReturnBySig(ReturnRequest calldata request, bytes calldata signature) external {
        bytes32 structHash = keccak256(
            abi.encode(
                _RETURN_REQUEST_TYPEHASH,
                request.buyer,
                request.orderId,
                request.reason,
                request.remedy,
                request.nonce,
                request.deadline
            )
        );
        _useSignature(request.buyer, structHash, request.nonce, request.deadline, signature);
        _requestReturn(request.buyer, request.orderId, request.reason, request.remedy);
    }

    /// @inheritdoc IReturnEscrow
    function chooseRemedy(uint256 orderId, uint8 remedy) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        OrderStatus status = o.status;
        if (
            status != OrderStatus.ReturnRequested &&
            status != OrderStatus.SecondInspection &&
            status != OrderStatus.Inspected &&
            status != OrderStatus.Disputed
        ) revert ReturnEscrowInvalidStatus(orderId, status);
        o.remedy = _checkRemedy(orderId, _policyOf(o), remedy);
        emit RemedyChosen(orderId, Remedy(remedy));
    }

    /// @inheritdoc IReturnEscrow
    function submitInspection(Inspection calldata inspection, bytes calldata signature) external {
        Order storage o = _orders[inspection.orderId];
        bytes32 rma = _rmaRef(inspection.orderId);
        (IReturnPolicies.Policy memory p, uint64 organization) = ReturnInspection.check(o, inspection, _firstInspectorOrg, registry, policies, rma);
        _useSignature(
            inspection.inspector,
            _hashInspection(inspection),
            inspection.nonce,
            inspection.deadline,
            signature
        );
        if (o.status == OrderStatus.ReturnRequested && p.refundOnReturn) {
            // Refund upon return comes before the inspection, whoever acts first: release it now.
            (ITraceRegistry.MilestoneRecord memory scan, bool accredited) = _receipt(inspection.orderId, o);
            if (accredited) _releaseOnReceipt(inspection.orderId, o, scan.location);
        }
        ReturnInspection.apply_(o, inspection, p, organization, _firstInspectorOrg, _credits[o.currency], policies, points);
    }

    /// @inheritdoc IReturnEscrow
    function acceptInspection(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        _requireStatus(orderId, o.status, OrderStatus.Inspected);
        _settle(orderId, o, SettlementPath.Graded, o.grade);
    }

    /// @inheritdoc IReturnEscrow
    function contest(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        _requireStatus(orderId, o.status, OrderStatus.Inspected);
        uint256 disputeDeadline = o.disputeDeadline;
        if (block.timestamp > disputeDeadline) revert ReturnEscrowDisputeWindowClosed(orderId, disputeDeadline);
        _dispute(orderId, o, msg.sender);
    }

    /// @inheritdoc IReturnEscrow
    function finalize(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.Inspected);
        uint256 disputeDeadline = o.disputeDeadline;
        if (block.timestamp <= disputeDeadline) revert ReturnEscrowWindowOpen(orderId, disputeDeadline);
        _settle(orderId, o, SettlementPath.Graded, o.grade);
    }

    /// @inheritdoc IReturnEscrow
    function openDispute(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.ReturnRequested);
        if (msg.sender != o.buyer && !Parties.merchantSide(registry, msg.sender, o.merchant)) revert ReturnEscrowNotMerchantSide(orderId, msg.sender);
        // Once: a party re-opening each lapsed dispute would hold the other's money for ever.
        if (o.disputedAt != 0) revert ReturnEscrowAlreadyDisputed(orderId, o.disputedAt);
        _dispute(orderId, o, msg.sender);
    }

    /// @inheritdoc IReturnEscrow
    function resolveDispute(
        uint256 orderId,
        uint8 facts,
        uint96 diminishedValue,
        bytes32 reason,
        bytes32 evidence
    ) external onlyRole(ARBITER_ROLE) {
        Order storage o = _orders[orderId];
        IReturnPolicies.Grade grade = ReturnInspection.arbitrate(o, orderId, facts, diminishedValue, reason, evidence, _firstInspectorOrg, registry, policies);
        _settle(orderId, o, SettlementPath.Arbitrated, grade);
    }

    /// @inheritdoc IReturnEscrow
    function settleLapsedDispute(uint256 orderId) external {
        Order storage o = _orders[orderId];
        if (ReturnInspection.lapse(o, orderId, policies)) _settle(orderId, o, SettlementPath.ArbiterSilent, _factsGrade(o));
    }

    /// @inheritdoc IReturnEscrow
    function claimUninspectedRefund(uint256 orderId) external {
        BuyerClaims.uninspected(_orders[orderId], _credits[_orders[orderId].currency], _claimContext(orderId));
    }

    /// @inheritdoc IReturnEscrow
    function claimOverdueRefund(uint256 orderId) external {
        BuyerClaims.overdue(_orders[orderId], _credits[_orders[orderId].currency], _claimContext(orderId));
    }

    /// @inheritdoc IReturnEscrow
    function claimDispatchedRefund(uint256 orderId) external {
        BuyerClaims.dispatched(_orders[orderId], _credits[_orders[orderId].currency], _claimContext(orderId));
    }

    /// @inheritdoc IReturnEscrow
    function releaseRefundOnReceipt(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.ReturnRequested);
        IReturnPolicies.Policy memory p = _policyOf(o);
        if (!p.refundOnReturn) revert ReturnEscrowNoRefundOnReturn(orderId);
        (ITraceRegistry.MilestoneRecord memory scan, bool accredited) = _receipt(orderId, o);
        uint256 received = _receivedAt(orderId, o, p);
        if (received == 0) revert ReturnEscrowNotReturned(orderId);
        if (!accredited) revert ReturnEscrowCenterNotAccredited(orderId, scan.location, scan.organization);
        // After the SLA the buyer is owed the full timeout refund in cash; this release would undercut it.
        uint256 slaEnd = received + p.inspectionSla;
        if (block.timestamp > slaEnd) revert ReturnEscrowSlaElapsed(orderId, slaEnd);
        _releaseOnReceipt(orderId, o, scan.location);
    }

    // ---------------------------------------------------------------- defects and reissue (see {ReissueDesk})

    /// @inheritdoc IReturnEscrow
    function setReissueDesk(address desk) external onlyRole(_ADMIN_ROLE) {
        if (desk == address(0)) revert ReturnEscrowZeroAddress();
        // Set once: open reissues live in the desk's storage, and a new desk could not finish them.
        if (reissueDesk != address(0)) revert ReturnEscrowReissueDeskSet(reissueDesk);
        reissueDesk = desk;
        emit ReissueDeskSet(desk);
    }

    /// @inheritdoc IReturnEscrow
    function openDefectClaim(uint256 orderId, address buyer) external onlyReissueDesk returns (bool autoApproved) {
        (Order storage o, , ) = _checkReturnable(buyer, orderId);
        autoApproved = o.price <= policies.currency(o.market, o.currency).reissueAutoApproveLimit;
        o.reason = ReturnReason.Defective;
        o.status = autoApproved ? OrderStatus.ReissueApproved : OrderStatus.DefectClaimed;
        o.requestedAt = uint40(block.timestamp); // when the claim was made (see {openDefectReturn})
    }

    /// @inheritdoc IReturnEscrow
    function decideDefectClaim(uint256 orderId, bool approve, uint256 pendingFor) external onlyReissueDesk {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.DefectClaimed);
        if (approve) {
            o.status = OrderStatus.ReissueApproved;
        } else {
            _extendWindow(o, pendingFor); // the return period did not run while the claim was pending
            o.status = OrderStatus.Active;
        }
    }

    /// @inheritdoc IReturnEscrow
    function openDefectReturn(uint256 orderId, bytes32 replacement) external onlyReissueDesk {
        Order storage o = _orders[orderId];
        OrderStatus status = o.status;
        if (status != OrderStatus.DefectClaimed && status != OrderStatus.ReissueApproved) {
            revert ReturnEscrowInvalidStatus(orderId, status);
        }
        _freeReservation(orderId, replacement);
        IReturnPolicies.Policy memory p = _policyOf(o);
        uint256 delivered = _deliveredAt(orderId, o, p);
        // Nor did it run while the claim waited for a decision or a replacement: the return is the
        // withdrawal the buyer could have made when claiming, whoever let the claim lapse.
        _extendWindow(o, block.timestamp - o.requestedAt);
        o.status = OrderStatus.ReturnRequested;
        o.reason = ReturnReason.Defective;
        o.inWithdrawal = _inWithdrawal(o, delivered);
        // The return runs from now, unless the unit went back while the claim was open: the scans under
        // its RMA since the claim count (else the merchant holding it would be paid for it as unreturned).
        if (_backAt(orderId, o, p) == 0) o.requestedAt = uint40(block.timestamp);
        emit DefectReturnOpened(orderId);
        emit ReturnRequested(orderId, o.buyer, ReturnReason.Defective, o.inWithdrawal, o.remedy);
    }

    /// @inheritdoc IReturnEscrow
    function reserveReplacement(uint256 orderId, bytes32 replacement) external onlyReissueDesk {
        _requireStatus(orderId, _orders[orderId].status, OrderStatus.ReissueApproved);
        UnitState storage u = _units[replacement];
        uint64 last = u.lastOrder;
        if (u.merchant != address(0) || (last != 0 && !_backInStock(last))) {
            revert ReturnEscrowUnitUnavailable(replacement, last);
        }
        u.lastOrder = SafeCast.toUint40(orderId); // reserved: it cannot be listed while the reissue is open
    }

    /// @inheritdoc IReturnEscrow
    function closeReissue(uint256 orderId, bool delivered, bytes32 replacement) external onlyReissueDesk {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.ReissueApproved);
        if (delivered) {
            _complete(orderId, o, OrderStatus.Reissued);
        } else {
            _freeReservation(orderId, replacement);
            _refundInFull(orderId, o, SettlementPath.ReissueFailed, OrderStatus.Settled); // the buyer keeps the defective unit
        }
    }

    // ---------------------------------------------------------------- money

    /// @inheritdoc IReturnEscrow
    function withdraw(address currency) external nonReentrant {
        _withdraw(currency, msg.sender);
    }

    /// @inheritdoc IReturnEscrow
    function withdrawTo(address currency, address to) external nonReentrant {
        if (to == address(0)) revert ReturnEscrowZeroAddress();
        _withdraw(currency, to);
    }

    /// @inheritdoc IReturnEscrow
    function recoverSurplus(address currency, address to) external nonReentrant onlyRole(_ADMIN_ROLE) {
        if (to == address(0)) revert ReturnEscrowZeroAddress();
        uint256 balance = currency == address(0) ? address(this).balance : IERC20(currency).balanceOf(address(this));
        uint256 owed = _owed[currency];
        if (balance <= owed) revert ReturnEscrowNothingToWithdraw(currency, to);
        uint256 amount = balance - owed;
        emit SurplusRecovered(currency, to, amount);
        _send(currency, to, amount);
    }

    // ---------------------------------------------------------------- the registry's close guard

    /// @inheritdoc ICloseGuard
    function classFlagsReviewed(uint64 gtin, uint8 classFlags) external {
        if (msg.sender != address(registry)) revert ReturnEscrowNotRegistry(msg.sender);
        _reviewedFlags[gtin] = uint16(classFlags) | _REVIEWED;
    }

    /// @inheritdoc ICloseGuard
    function scanPredatesOrder(bytes32 unitId, bytes32 ref, uint256 recordedAt) external view returns (bool) {
        uint256 last = _units[unitId].lastOrder;
        Order storage o = _orders[last];
        if (ref == _orderRef(last)) return recordedAt < o.purchasedAt;
        // Zero: a carrier's packing of the unit as returned, which counts from the request as the RMA's scans do.
        return (ref == bytes32(0) || ref == _rmaRef(last)) && (o.requestedAt == 0 || recordedAt < o.requestedAt);
    }

    /// @inheritdoc ICloseGuard
    function mayClose(bytes32 unitId, address, uint32, uint8 bizStep, uint8 disposition) external view returns (bool) {
        UnitState storage u = _units[unitId];
        uint64 last = u.lastOrder;
        return UnitCustody.mayClose(_orders[last], last, u.merchant, policies, bizStep, disposition);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IReturnEscrow
    function listing(bytes32 unitId) external view returns (Listing memory) {
        UnitState storage u = _units[unitId];
        return
            Listing({
                merchant: u.merchant,
                price: u.price,
                currency: u.currency,
                deliveryFee: u.deliveryFee,
                returnShippingFee: u.returnShippingFee,
                market: u.market,
                policyVersion: u.policyVersion,
                classFlags: u.classFlags
            });
    }

    /// @inheritdoc IReturnEscrow
    function lastOrderOf(bytes32 unitId) external view returns (uint256) {
        return _units[unitId].lastOrder;
    }

    /// @inheritdoc IReturnEscrow
    function unitGtin(bytes32 unitId) external view returns (uint64) {
        return _units[unitId].gtin;
    }

    /// @inheritdoc IReturnEscrow
    function order(uint256 orderId) external view returns (Order memory) {
        return _existingOrder(orderId);
    }

    /// @inheritdoc IReturnEscrow
    function orderCount() external view returns (uint256) {
        return _orderCount;
    }

    /// @inheritdoc IReturnEscrow
    function orderRef(uint256 orderId) external view returns (bytes32) {
        return _orderRef(orderId);
    }

    /// @inheritdoc IReturnEscrow
    function rmaRef(uint256 orderId) external view returns (bytes32) {
        return _rmaRef(orderId);
    }

    /// @inheritdoc IReturnEscrow
    function deliveredAt(uint256 orderId) external view returns (uint256) {
        Order storage o = _existingOrder(orderId);
        return _deliveredAt(orderId, o, _policyOf(o));
    }

    /// @inheritdoc IReturnEscrow
    function returnReceivedAt(uint256 orderId) external view returns (uint256) {
        Order storage o = _existingOrder(orderId);
        return _receivedAt(orderId, o, _policyOf(o));
    }

    /// @inheritdoc IReturnEscrow
    function dispatchedAt(uint256 orderId) external view returns (uint256) {
        Order storage o = _existingOrder(orderId);
        return _dispatchedAt(orderId, o, _policyOf(o));
    }

    /// @inheritdoc IReturnEscrow
    function firstInspectorOrganization(uint256 orderId) external view returns (uint64) {
        _existingOrder(orderId);
        return _firstInspectorOrg[orderId];
    }

    /// @inheritdoc IReturnEscrow
    function returnWindowCloses(uint256 orderId) external view returns (uint256) {
        Order storage o = _existingOrder(orderId);
        IReturnPolicies.Policy memory p = _policyOf(o);
        uint256 delivered = _deliveredAt(orderId, o, p);
        return delivered == 0 ? 0 : _windowCloses(o, p, delivered);
    }

    /// @inheritdoc IReturnEscrow
    function refundDueAt(uint256 orderId) external view returns (uint256) {
        Order storage o = _existingOrder(orderId);
        return o.inWithdrawal ? _refundDueAt(orderId, o, _policyOf(o)) : 0;
    }

    /// @inheritdoc IReturnEscrow
    function quote(uint256 orderId, uint8 grade, uint8 facts, uint256 diminishedValue) external view returns (IReturnPolicies.Settlement memory) {
        return ReturnSettlement.quote(_existingOrder(orderId), registry, policies, _orderRef(orderId), grade, facts, diminishedValue);
    }

    /// @inheritdoc IReturnEscrow
    function credits(address currency, address account) external view returns (uint256) {
        return _credits[currency][account];
    }

    /// @inheritdoc IReturnEscrow
    function totalOwed(address currency) external view returns (uint256) {
        return _owed[currency];
    }

    /// @inheritdoc IReturnEscrow
    function getReturnRequestTypeHash() external pure returns (bytes32) {
        return _RETURN_REQUEST_TYPEHASH;
    }

    /// @inheritdoc IReturnEscrow
    function getInspectionTypeHash() external pure returns (bytes32) {
        return _INSPECTION_TYPEHASH;
    }

    // ---------------------------------------------------------------- internals: returns and inspections

    function _requestReturn(address buyer, uint256 orderId, uint8 reason, uint8 remedy) private {
        if (reason > uint8(type(ReturnReason).max)) revert ReturnEscrowInvalidReason(reason);
        (Order storage o, IReturnPolicies.Policy memory p, bool inWithdrawal) = _checkReturnable(buyer, orderId);
        o.remedy = _checkRemedy(orderId, p, remedy);
        o.status = OrderStatus.ReturnRequested;
        o.reason = ReturnReason(reason);
        o.inWithdrawal = inWithdrawal;
        o.requestedAt = uint40(block.timestamp);
        emit ReturnRequested(orderId, buyer, ReturnReason(reason), inWithdrawal, Remedy(remedy));
    }

    function _checkRemedy(uint256 orderId, IReturnPolicies.Policy memory p, uint8 remedy) private pure returns (Remedy) {
        if (remedy > uint8(type(Remedy).max)) revert ReturnEscrowInvalidRemedy(remedy);
        if (remedy == uint8(Remedy.Exchange) && !p.exchangeOffered) revert ReturnEscrowExchangeNotOffered(orderId);
        return Remedy(remedy);
    }

    /// @dev An `Active`, delivered order of `buyer` inside its return period; `inWithdrawal`: inside the statutory one.
    function _checkReturnable(
        address buyer,
        uint256 orderId
    ) private view returns (Order storage o, IReturnPolicies.Policy memory p, bool inWithdrawal) {
        o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.Active);
        if (o.buyer != buyer) revert ReturnEscrowNotBuyer(orderId, buyer);
        p = _policyOf(o);
        uint256 delivered = _deliveredAt(orderId, o, p);
        if (delivered == 0) revert ReturnEscrowNotDelivered(orderId);
        uint256 closesAt = _windowCloses(o, p, delivered);
        if (block.timestamp > closesAt) revert ReturnEscrowReturnWindowClosed(orderId, closesAt);
        inWithdrawal = _inWithdrawal(o, delivered);
    }

    function _dispute(uint256 orderId, Order storage o, address by) private {
        ReturnInspection.openDispute(o, orderId, by, _policyOf(o).arbiterTimeout);
    }

    /// @dev The grade the order's attested facts give (the facts decide, whatever grade was claimed).
    function _factsGrade(Order storage o) private view returns (IReturnPolicies.Grade) {
        return policies.deriveGrade(o.market, o.policyVersion, o.facts);
    }

    // ---------------------------------------------------------------- internals: settlement

    function _settle(uint256 orderId, Order storage o, SettlementPath path, IReturnPolicies.Grade grade) private {
        o.settle(_credits[o.currency], policies, points, orderId, path, grade);
    }

    function _settleUnproved(uint256 orderId, Order storage o, SettlementPath path) private {
        o.settleUnproved(_credits[o.currency], policies, points, orderId, path);
    }

    function _releaseOnReceipt(uint256 orderId, Order storage o, uint64 location) private {
        emit RefundReleasedOnReceipt(orderId, location);
        _settleUnproved(orderId, o, SettlementPath.OnReceipt);
    }

    function _refundInFull(uint256 orderId, Order storage o, SettlementPath path, OrderStatus status) private {
        o.refundInFull(_credits[o.currency], orderId, path, status);
    }

    /// @dev Ends an order without a return (or with a replacement delivered): price and delivery fee to the merchant.
    function _complete(uint256 orderId, Order storage o, OrderStatus status) private {
        o.status = status;
        uint256 amount = _total(o);
        _credits[o.currency][o.merchant] += amount;
        emit OrderCompleted(orderId, amount);
    }

    /// @dev Adds `pendingFor` to the order's return period (capped: it is stored in 32 bits).
    function _extendWindow(Order storage o, uint256 pendingFor) private {
        uint256 extended = uint256(o.windowExtension) + pendingFor;
        o.windowExtension = extended > type(uint32).max ? type(uint32).max : uint32(extended);
    }

    /// @dev Frees `replacement` if this order reserved it.
    function _freeReservation(uint256 orderId, bytes32 replacement) private {
        if (replacement != bytes32(0) && _units[replacement].lastOrder == orderId) _units[replacement].lastOrder = 0;
    }

    /// @dev Whether a listing's flags are not the class's flags since the accreditor's latest review.
    function _stale(uint48 gtin, uint8 classFlags) private view returns (bool) {
        uint16 reviewed = _reviewedFlags[uint64(gtin)];
        return reviewed != 0 && uint8(reviewed) != classFlags;
    }

    /// @dev Whether the unit of ended order `orderId` is the merchant's to sell again (see {UnitCustody-backInStock}).
    function _backInStock(uint256 orderId) private view returns (bool) {
        return UnitCustody.backInStock(_orders[orderId], policies);
    }

    function _withdraw(address currency, address to) private {
        uint256 amount = _credits[currency][msg.sender];
        if (amount == 0) revert ReturnEscrowNothingToWithdraw(currency, msg.sender);
        _credits[currency][msg.sender] = 0;
        _owed[currency] -= amount;
        emit Withdrawn(currency, msg.sender, to, amount);
        _send(currency, to, amount);
    }

    /// @dev Pulls `amount` of `token` from the caller and checks that exactly that much arrived.
    function _collect(IERC20 token, uint256 amount) private {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 balance = token.balanceOf(address(this));
        uint256 received = balance > before ? balance - before : 0;
        if (received != amount) revert ReturnEscrowWrongPayment(amount, received);
    }

    function _send(address currency, address to, uint256 amount) private {
        if (currency == address(0)) {
            (bool ok, ) = to.call{value: amount}("");
            if (!ok) revert ReturnEscrowNativeTransferFailed(to, amount);
        } else {
            IERC20(currency).safeTransfer(to, amount);
        }
    }

    function _hashInspection(Inspection calldata i) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _INSPECTION_TYPEHASH,
                    i.inspector,
                    i.orderId,
                    i.facts,
                    i.grade,
                    i.diminishedValue,
                    i.evidence,
                    i.nonce,
                    i.deadline
                )
            );
    }

    // ---------------------------------------------------------------- internals: the order's clock (see {ReturnClock})

    function _deliveredAt(uint256 orderId, Order storage o, IReturnPolicies.Policy memory p) private view returns (uint256) {
        return o.deliveredAt(registry, _orderRef(orderId), p.maxRelayDelay);
    }

    function _receivedAt(uint256 orderId, Order storage o, IReturnPolicies.Policy memory p) private view returns (uint256) {
        return o.receivedAt(registry, _rmaRef(orderId), p.maxRelayDelay);
    }

    function _dispatchedAt(uint256 orderId, Order storage o, IReturnPolicies.Policy memory p) private view returns (uint256) {
        return o.dispatchedAt(registry, _rmaRef(orderId), p.maxRelayDelay);
    }

    /// @dev When the unit came back since the request: its receipt, else the proof of its dispatch (0: neither).
    function _backAt(uint256 orderId, Order storage o, IReturnPolicies.Policy memory p) private view returns (uint256 back) {
        back = _receivedAt(orderId, o, p);
        if (back == 0) back = _dispatchedAt(orderId, o, p);
    }

    function _receipt(uint256 orderId, Order storage o) private view returns (ITraceRegistry.MilestoneRecord memory, bool) {
        return o.receipt(registry, _rmaRef(orderId));
    }

    function _inWithdrawal(Order storage o, uint256 delivered) private view returns (bool) {
        return o.withinWithdrawal(policies, delivered);
    }

    function _windowCloses(Order storage o, IReturnPolicies.Policy memory p, uint256 delivered) private view returns (uint256) {
        return o.windowCloses(policies, delivered, p.returnWindow);
    }

    function _refundDueAt(uint256 orderId, Order storage o, IReturnPolicies.Policy memory p) private view returns (uint256) {
        return o.refundDueAt(registry, policies, _rmaRef(orderId), p);
    }

    // ---------------------------------------------------------------- internals: small helpers

    function _claimContext(uint256 orderId) private view returns (BuyerClaims.Context memory) {
        return BuyerClaims.Context({registry: registry, policies: policies, points: points, rma: _rmaRef(orderId), orderId: orderId});
    }

    function _policyOf(Order storage o) private view returns (IReturnPolicies.Policy memory) {
        return policies.policy(o.market, o.policyVersion);
    }

    function _total(Order storage o) private view returns (uint256) {
        return uint256(o.price) + o.deliveryFee;
    }

    function _orderRef(uint256 orderId) private view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), orderId));
    }

    function _rmaRef(uint256 orderId) private view returns (bytes32) {
        return keccak256(abi.encode(_orderRef(orderId), "RMA"));
    }

    function _existingOrder(uint256 orderId) private view returns (Order storage o) {
        o = _orders[orderId];
        if (o.status == OrderStatus.None) revert ReturnEscrowUnknownOrder(orderId);
    }

    function _requireStatus(uint256 orderId, OrderStatus status, OrderStatus expected) private pure {
        if (status == expected) return;
        if (status == OrderStatus.None) revert ReturnEscrowUnknownOrder(orderId);
        revert ReturnEscrowInvalidStatus(orderId, status);
    }

    function _requireBuyer(uint256 orderId, Order storage o) private view {
        address buyer = o.buyer;
        if (buyer == address(0)) revert ReturnEscrowUnknownOrder(orderId);
        if (buyer != msg.sender) revert ReturnEscrowNotBuyer(orderId, msg.sender);
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }
}
