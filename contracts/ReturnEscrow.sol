// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IReturnEscrow} from "./interfaces/IReturnEscrow.sol";
import {IStorePoints} from "./interfaces/IStorePoints.sol";
import {ITraceRegistry} from "./interfaces/ITraceRegistry.sol";
import {DelegatedSignatures} from "./utils/DelegatedSignatures.sol";
import {ActorRoles} from "./utils/ActorRoles.sol";
import {GS1} from "./utils/GS1.sol";

/**
 * @title ReturnEscrow
 * @dev Escrowed sales with statutory and graded returns. See {IReturnEscrow}.
 *
 * Settlement arithmetic (P price, D delivery fee, F return shipping fee, t the grade's terms in the
 * order's policy version): the settlement is statutory when the request fell inside the withdrawal
 * window and the hygiene exclusion does not apply (policy `hygieneExempt`, hygiene-sealed class and
 * seal not attested intact). Statutory A/B: refund = P (+ D if `refundsDeliveryOnWithdrawal`), no
 * points. Statutory C: refund = ⌊P·t.refundBps/10⁴⌋ (+ D likewise), points = ⌊P·t.pointsBps/10⁴⌋.
 * Otherwise refund = ⌊P·t.refundBps/10⁴⌋, points = ⌊P·t.pointsBps/10⁴⌋. Then, unless
 * `t.merchantPaysReturnShipping`, refund -= min(F, refund). The merchant gets P + D − refund, so
 * nothing is created or lost. Timeout refunds are P + D with nothing deducted.
 *
 * Accounting invariant: for every currency, `totalOwed` = the escrow of non-terminal orders plus
 * unwithdrawn credits, and the contract's balance equals it unless someone forces coins in or sends
 * tokens outside an order (see {recoverSurplus}). Amounts are stored as uint96.
 */
contract ReturnEscrow is IReturnEscrow, AccessControl, ReentrancyGuardTransient, DelegatedSignatures {
    using SafeERC20 for IERC20;

    /// @dev Sets market return policies.
    bytes32 public constant POLICY_ADMIN_ROLE = keccak256("POLICY_ADMIN_ROLE");

    /// @dev Decides disputes.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    bytes32 private constant _RETURN_REQUEST_TYPEHASH =
        keccak256("ReturnRequest(address buyer,uint256 orderId,uint8 reason,uint8 remedy,uint256 nonce,uint64 deadline)");
    bytes32 private constant _INSPECTION_TYPEHASH =
        keccak256(
            "Inspection(address inspector,uint256 orderId,uint8 facts,uint8 grade,bytes32 evidence,uint256 nonce,uint64 deadline)"
        );

    uint8 private constant _SEAL_INTACT = 1;
    uint8 private constant _PACKAGING_INTACT = 2;
    uint8 private constant _USED = 4;
    uint8 private constant _DEFECTIVE = 8;
    uint8 private constant _ALL_FACTS = 15;
    uint256 private constant _BPS = 10_000;
    uint256 private constant _MARKETS = 64;

    /// @dev The unit registry: products, brands, inspectors and delivery/return milestones.
    ITraceRegistry public immutable registry;

    /// @dev The compensation points ledger; this contract must hold its minter role.
    IStorePoints public immutable points;

    /// @dev The contract that processes defect claims and replacements (see {ReissueDesk}).
    address public reissueDesk;

    /// @dev A {Listing} plus the unit's latest order, in three words.
    struct UnitState {
        address merchant;
        uint96 price;
        address currency;
        uint96 deliveryFee;
        uint96 returnShippingFee;
        uint32 market;
        bool hygieneSealed;
        uint64 lastOrder;
    }

    mapping(uint32 market => uint32) private _policyVersions;
    mapping(uint32 market => mapping(uint32 version => Policy)) private _policies;
    mapping(bytes32 unitId => UnitState) private _units;
    mapping(uint256 orderId => Order) private _orders;
    uint256 private _orderCount;
    mapping(address currency => mapping(address account => uint256)) private _credits;
    mapping(address currency => uint256) private _owed;
    mapping(uint256 orderId => uint64) private _firstInspectorOrg;

    /// @dev Only the {ReissueDesk} moves orders through defect claims and replacements.
    modifier onlyReissueDesk() {
        if (msg.sender != reissueDesk) revert ReturnEscrowNotReissueDesk(msg.sender);
        _;
    }

    /**
     * @dev Grants `admin` the default admin and policy admin roles (the arbiter role is granted
     * separately) and binds the escrow to `registry_` and `points_`.
     */
    constructor(
        address admin,
        ITraceRegistry registry_,
        IStorePoints points_
    ) DelegatedSignatures("ReturnTrace ReturnEscrow", "1") {
        if (admin == address(0) || address(registry_) == address(0) || address(points_) == address(0)) {
            revert ReturnEscrowZeroAddress();
        }
        registry = registry_;
        points = points_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(POLICY_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- policies

    /// @inheritdoc IReturnEscrow
    function setPolicy(uint32 market, Policy calldata p) external onlyRole(POLICY_ADMIN_ROLE) {
        if (market >= _MARKETS) revert ReturnEscrowInvalidMarket(market);
        _validatePolicy(p);
        uint32 version = _policyVersions[market] + 1;
        _policyVersions[market] = version;
        _policies[market][version] = p;
        emit PolicySet(market, version, p);
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
        if (market >= _MARKETS || (prod.markets >> market) & 1 == 0) revert ReturnEscrowMarketNotServed(gtin, market);
        if (_policyVersions[market] == 0) revert ReturnEscrowUnknownPolicy(market, 0);
        if (currency != address(0) && currency.code.length == 0) revert ReturnEscrowInvalidCurrency(currency);
        if (returnShippingFee > price) revert ReturnEscrowInvalidFees(price, returnShippingFee);
        if (price > type(uint96).max) revert ReturnEscrowAmountTooLarge(price);
        if (deliveryFee > type(uint96).max) revert ReturnEscrowAmountTooLarge(deliveryFee);

        // A registered GTIN is valid, so it has at most 14 digits as {GS1-unitId} needs.
        bytes32 unitId = GS1.unitId(gtin, bytes(serial));
        if (registry.eventCount(unitId) == 0) revert ReturnEscrowUnknownUnit(unitId);

        UnitState storage u = _units[unitId];
        uint64 last = u.lastOrder;
        // A donated, recycled or destroyed unit cannot be delivered: selling it would strand the buyer's money.
        if ((last != 0 && !_backInStock(last)) || registry.isClosed(unitId)) revert ReturnEscrowUnitUnavailable(unitId, last);
        _units[unitId] = UnitState({
            merchant: msg.sender,
            price: uint96(price),
            currency: currency,
            deliveryFee: uint96(deliveryFee),
            returnShippingFee: uint96(returnShippingFee),
            market: market,
            hygieneSealed: prod.classFlags & 1 != 0,
            lastOrder: last
        });
        emit Listed(unitId, msg.sender, gtin, market, currency, price, deliveryFee, returnShippingFee);
    }

    /// @inheritdoc IReturnEscrow
    function delist(bytes32 unitId) external {
        UnitState storage u = _units[unitId];
        address merchant = u.merchant;
        if (merchant == address(0)) revert ReturnEscrowNotListed(unitId);
        if (merchant != msg.sender) revert ReturnEscrowNotMerchant(msg.sender);
        uint64 last = u.lastOrder;
        delete _units[unitId];
        u.lastOrder = last;
        emit Delisted(unitId);
    }

    /// @inheritdoc IReturnEscrow
    function purchase(bytes32 unitId, uint256 expectedTotal) external payable nonReentrant returns (uint256 orderId) {
        UnitState memory l = _units[unitId];
        if (l.merchant == address(0)) revert ReturnEscrowNotListed(unitId);
        uint256 total = uint256(l.price) + l.deliveryFee;
        if (total != expectedTotal) revert ReturnEscrowPriceChanged(unitId, total, expectedTotal);
        if (l.currency == address(0)) {
            if (msg.value != total) revert ReturnEscrowWrongPayment(total, msg.value);
        } else if (msg.value != 0) {
            revert ReturnEscrowWrongPayment(0, msg.value);
        }

        orderId = ++_orderCount;
        uint32 version = _policyVersions[l.market];
        // Consume the listing (clearing two words refunds gas) and remember the unit's order.
        _units[unitId] = UnitState({
            merchant: address(0),
            price: 0,
            currency: address(0),
            deliveryFee: 0,
            returnShippingFee: 0,
            market: 0,
            hygieneSealed: false,
            lastOrder: uint64(orderId)
        });
        _orders[orderId] = Order({
            buyer: msg.sender,
            purchasedAt: uint40(block.timestamp),
            status: OrderStatus.Active,
            reason: ReturnReason.Withdrawal,
            hygieneSealed: l.hygieneSealed,
            statutory: false,
            facts: 0,
            grade: Grade.None,
            remedy: Remedy.Refund,
            merchant: l.merchant,
            price: l.price,
            currency: l.currency,
            deliveryFee: l.deliveryFee,
            unitId: unitId,
            returnShippingFee: l.returnShippingFee,
            market: l.market,
            policyVersion: version,
            requestedAt: 0,
            disputeDeadline: 0
        });
        _owed[l.currency] += total;
        emit OrderPlaced(
            orderId,
            unitId,
            msg.sender,
            l.merchant,
            l.market,
            version,
            l.currency,
            l.price,
            l.deliveryFee,
            l.returnShippingFee
        );

        if (l.currency != address(0)) _collect(IERC20(l.currency), total);
    }

    // ---------------------------------------------------------------- no return

    /// @inheritdoc IReturnEscrow
    function release(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.Active);
        uint256 delivered = _deliveredAt(orderId, o);
        if (delivered == 0) revert ReturnEscrowNotDelivered(orderId);
        Policy storage p = _policyOf(o);
        uint256 closesAt = delivered + _max(p.withdrawalWindow, p.returnWindow);
        if (block.timestamp <= closesAt) revert ReturnEscrowWindowOpen(orderId, closesAt);
        _complete(orderId, o, OrderStatus.Completed);
    }

    /// @inheritdoc IReturnEscrow
    function releaseUnreturned(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.ReturnRequested);
        uint256 received = _receivedAt(orderId, o);
        if (received != 0) revert ReturnEscrowAlreadyReturned(orderId, received);
        uint256 closesAt = uint256(o.requestedAt) + _policyOf(o).deliveryTimeout;
        if (block.timestamp <= closesAt) revert ReturnEscrowWindowOpen(orderId, closesAt);
        _complete(orderId, o, OrderStatus.Completed);
    }

    /// @inheritdoc IReturnEscrow
    function cancelUndelivered(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        _requireStatus(orderId, o.status, OrderStatus.Active);
        uint256 delivered = _deliveredAt(orderId, o);
        if (delivered != 0) revert ReturnEscrowAlreadyDelivered(orderId, delivered);
        uint256 cancellableAfter = uint256(o.purchasedAt) + _policyOf(o).deliveryTimeout;
        if (block.timestamp <= cancellableAfter) revert ReturnEscrowDeliveryPending(orderId, cancellableAfter);

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
    function submitInspection(Inspection calldata inspection, bytes calldata signature) external {
        (Order storage o, Policy storage p, uint64 organization) = _checkInspection(inspection);
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
            if (accredited) _releaseOnReceipt(inspection.orderId, o, p, scan.location);
        }
        _applyInspection(inspection, o, p, organization);
    }

    /// @inheritdoc IReturnEscrow
    function acceptInspection(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        _requireStatus(orderId, o.status, OrderStatus.Inspected);
        _settle(orderId, o, _policyOf(o), o.grade);
    }

    /// @inheritdoc IReturnEscrow
    function contest(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        _requireStatus(orderId, o.status, OrderStatus.Inspected);
        uint256 disputeDeadline = o.disputeDeadline;
        if (block.timestamp > disputeDeadline) revert ReturnEscrowDisputeWindowClosed(orderId, disputeDeadline);
        o.status = OrderStatus.Disputed;
        emit OrderDisputed(orderId, true);
    }

    /// @inheritdoc IReturnEscrow
    function finalize(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.Inspected);
        uint256 disputeDeadline = o.disputeDeadline;
        if (block.timestamp <= disputeDeadline) revert ReturnEscrowWindowOpen(orderId, disputeDeadline);
        _settle(orderId, o, _policyOf(o), o.grade);
    }

    /// @inheritdoc IReturnEscrow
    function resolveDispute(uint256 orderId, uint8 grade) external onlyRole(ARBITER_ROLE) {
        Grade g = _toGrade(grade);
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.Disputed);
        emit DisputeResolved(orderId, msg.sender, g);
        _settle(orderId, o, _policyOf(o), g);
    }

    /// @inheritdoc IReturnEscrow
    function claimUninspectedRefund(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        // A high-value return whose second opinion never came is as uninspected as one with none.
        if (o.status != OrderStatus.SecondInspection) _requireStatus(orderId, o.status, OrderStatus.ReturnRequested);
        uint256 slaEnd = _receivedAtOrRequest(orderId, o) + _policyOf(o).inspectionSla;
        if (block.timestamp <= slaEnd) revert ReturnEscrowSlaNotElapsed(orderId, slaEnd);
        _refundInFull(orderId, o);
    }

    /// @inheritdoc IReturnEscrow
    function claimOverdueRefund(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireBuyer(orderId, o);
        OrderStatus status = o.status;
        if (
            status != OrderStatus.ReturnRequested &&
            status != OrderStatus.Disputed &&
            status != OrderStatus.SecondInspection
        ) revert ReturnEscrowInvalidStatus(orderId, status);
        if (!o.statutory) revert ReturnEscrowNotStatutory(orderId);
        uint256 received = _receivedAt(orderId, o);
        if (received == 0) revert ReturnEscrowNotReturned(orderId);
        uint256 dueAt = _max(uint256(o.requestedAt) + _policyOf(o).refundDeadline, received);
        if (block.timestamp <= dueAt) revert ReturnEscrowRefundNotDue(orderId, dueAt);
        _refundInFull(orderId, o);
    }

    /// @inheritdoc IReturnEscrow
    function releaseRefundOnReceipt(uint256 orderId) external {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.ReturnRequested);
        Policy storage p = _policyOf(o);
        if (!p.refundOnReturn) revert ReturnEscrowNoRefundOnReturn(orderId);
        (ITraceRegistry.MilestoneRecord memory scan, bool accredited) = _receipt(orderId, o);
        if (scan.at == 0) revert ReturnEscrowNotReturned(orderId);
        if (!accredited) revert ReturnEscrowCenterNotAccredited(orderId, scan.location, scan.organization);
        // After the SLA the buyer is owed the full timeout refund in cash; this release would undercut it.
        uint256 slaEnd = _max(scan.at, o.requestedAt) + p.inspectionSla;
        if (block.timestamp > slaEnd) revert ReturnEscrowSlaElapsed(orderId, slaEnd);
        _releaseOnReceipt(orderId, o, p, scan.location);
    }

    // ---------------------------------------------------------------- defects and reissue (see {ReissueDesk})

    /// @inheritdoc IReturnEscrow
    function setReissueDesk(address desk) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (desk == address(0)) revert ReturnEscrowZeroAddress();
        // Set once: open reissues live in the desk's storage, and a new desk could not finish them.
        if (reissueDesk != address(0)) revert ReturnEscrowReissueDeskSet(reissueDesk);
        reissueDesk = desk;
        emit ReissueDeskSet(desk);
    }

    /// @inheritdoc IReturnEscrow
    function openDefectClaim(uint256 orderId, address buyer) external onlyReissueDesk returns (bool autoApproved) {
        (Order storage o, Policy storage p, ) = _checkReturnable(buyer, orderId);
        autoApproved = o.price <= p.reissueAutoApproveLimit;
        o.reason = ReturnReason.Defective;
        o.status = autoApproved ? OrderStatus.ReissueApproved : OrderStatus.DefectClaimed;
    }

    /// @inheritdoc IReturnEscrow
    function decideDefectClaim(uint256 orderId, bool approve) external onlyReissueDesk {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.DefectClaimed);
        o.status = approve ? OrderStatus.ReissueApproved : OrderStatus.Active;
    }

    /// @inheritdoc IReturnEscrow
    function reserveReplacement(uint256 orderId, bytes32 replacement) external onlyReissueDesk {
        _requireStatus(orderId, _orders[orderId].status, OrderStatus.ReissueApproved);
        UnitState storage u = _units[replacement];
        uint64 last = u.lastOrder;
        if (u.merchant != address(0) || (last != 0 && !_backInStock(last))) {
            revert ReturnEscrowUnitUnavailable(replacement, last);
        }
        u.lastOrder = uint64(orderId); // reserved: it cannot be listed while the reissue is open
    }

    /// @inheritdoc IReturnEscrow
    function closeReissue(uint256 orderId, bool delivered, bytes32 replacement) external onlyReissueDesk {
        Order storage o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.ReissueApproved);
        if (delivered) {
            _complete(orderId, o, OrderStatus.Reissued);
        } else {
            // Back to the merchant's stock, but only the unit this order reserved.
            if (replacement != bytes32(0) && _units[replacement].lastOrder == orderId) _units[replacement].lastOrder = 0;
            _refundInFull(orderId, o);
        }
    }

    // ---------------------------------------------------------------- money

    /// @inheritdoc IReturnEscrow
    function withdraw(address currency) external nonReentrant {
        uint256 amount = _credits[currency][msg.sender];
        if (amount == 0) revert ReturnEscrowNothingToWithdraw(currency, msg.sender);
        _credits[currency][msg.sender] = 0;
        _owed[currency] -= amount;
        emit Withdrawn(currency, msg.sender, amount);
        _send(currency, msg.sender, amount);
    }

    /// @inheritdoc IReturnEscrow
    function recoverSurplus(address currency, address to) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert ReturnEscrowZeroAddress();
        uint256 balance = currency == address(0) ? address(this).balance : IERC20(currency).balanceOf(address(this));
        uint256 owed = _owed[currency];
        if (balance <= owed) revert ReturnEscrowNothingToWithdraw(currency, to);
        uint256 amount = balance - owed;
        emit SurplusRecovered(currency, to, amount);
        _send(currency, to, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IReturnEscrow
    function policy(uint32 market, uint32 version) external view returns (Policy memory) {
        if (version == 0 || version > _policyVersions[market]) revert ReturnEscrowUnknownPolicy(market, version);
        return _policies[market][version];
    }

    /// @inheritdoc IReturnEscrow
    function currentPolicyVersion(uint32 market) external view returns (uint32) {
        return _policyVersions[market];
    }

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
                hygieneSealed: u.hygieneSealed
            });
    }

    /// @inheritdoc IReturnEscrow
    function lastOrderOf(bytes32 unitId) external view returns (uint256) {
        return _units[unitId].lastOrder;
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
        return _deliveredAt(orderId, _existingOrder(orderId));
    }

    /// @inheritdoc IReturnEscrow
    function returnReceivedAt(uint256 orderId) external view returns (uint256) {
        return _receivedAt(orderId, _existingOrder(orderId));
    }

    /// @inheritdoc IReturnEscrow
    function deriveGrade(uint256 orderId, uint8 facts) external view returns (Grade) {
        if (facts > _ALL_FACTS) revert ReturnEscrowInvalidFacts(facts);
        Order storage o = _existingOrder(orderId);
        return _deriveGrade(_policyOf(o).packagingRequiredForA, facts);
    }

    /// @inheritdoc IReturnEscrow
    function quote(uint256 orderId, uint8 grade) external view returns (Settlement memory) {
        Grade g = _toGrade(grade);
        Order storage o = _existingOrder(orderId);
        Policy storage p = _policyOf(o);
        bool requestStatutory = o.statutory;
        if (o.status == OrderStatus.Active) {
            uint256 window = p.withdrawalWindow;
            uint256 delivered = _deliveredAt(orderId, o);
            requestStatutory = window != 0 && (delivered == 0 || block.timestamp <= delivered + window);
        }
        return _settlement(o, p, requestStatutory, g, o.facts);
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



    // ---------------------------------------------------------------- internals

    function _requestReturn(address buyer, uint256 orderId, uint8 reason, uint8 remedy) private {
        if (reason > uint8(type(ReturnReason).max)) revert ReturnEscrowInvalidReason(reason);
        if (remedy > uint8(type(Remedy).max)) revert ReturnEscrowInvalidRemedy(remedy);
        (Order storage o, Policy storage p, bool statutory) = _checkReturnable(buyer, orderId);
        if (remedy == uint8(Remedy.Exchange) && !p.exchangeOffered) revert ReturnEscrowExchangeNotOffered(orderId);

        o.status = OrderStatus.ReturnRequested;
        o.reason = ReturnReason(reason);
        o.remedy = Remedy(remedy);
        o.statutory = statutory;
        o.requestedAt = uint40(block.timestamp);
        emit ReturnRequested(orderId, buyer, ReturnReason(reason), statutory, Remedy(remedy));
    }

    /// @dev An `Active`, delivered order of `buyer` inside its return window; `statutory`: inside the withdrawal window.
    function _checkReturnable(
        address buyer,
        uint256 orderId
    ) private view returns (Order storage o, Policy storage p, bool statutory) {
        o = _orders[orderId];
        _requireStatus(orderId, o.status, OrderStatus.Active);
        if (o.buyer != buyer) revert ReturnEscrowNotBuyer(orderId, buyer);
        uint256 delivered = _deliveredAt(orderId, o);
        if (delivered == 0) revert ReturnEscrowNotDelivered(orderId);
        p = _policyOf(o);
        uint256 withdrawal = p.withdrawalWindow;
        uint256 closesAt = delivered + _max(withdrawal, p.returnWindow);
        if (block.timestamp > closesAt) revert ReturnEscrowReturnWindowClosed(orderId, closesAt);
        statutory = withdrawal != 0 && block.timestamp <= delivered + withdrawal;
    }

    /// @dev The return-received scan under {rmaRef}, and whether an accredited return center for the order's market made it.
    function _receipt(
        uint256 orderId,
        Order storage o
    ) private view returns (ITraceRegistry.MilestoneRecord memory scan, bool accredited) {
        scan = registry.milestone(o.unitId, _rmaRef(orderId), ITraceRegistry.Milestone.ReturnReceived);
        accredited = scan.at != 0 && registry.returnCenterAccredited(scan.location, scan.organization, o.market);
    }

    /**
     * @dev Pays a return on receipt as grade A with the seal taken as intact (the merchant's policy takes
     * the risk the inspection would otherwise price), and as defective when that is the buyer's reason,
     * so that the merchant bears its return shipping as it would after the inspection.
     */
    function _releaseOnReceipt(uint256 orderId, Order storage o, Policy storage p, uint64 location) private {
        uint8 facts = _SEAL_INTACT | _PACKAGING_INTACT;
        if (o.reason == ReturnReason.Defective) facts |= _DEFECTIVE;
        Settlement memory s = _settlement(o, p, o.statutory, Grade.A, facts);
        o.status = OrderStatus.Refunded;
        emit RefundReleasedOnReceipt(orderId, location, s.refund, s.merchantAmount, s.points);
        _pay(o, s);
    }

    /// @dev Checks everything about an inspection but its signature; returns the order, its policy and the inspector's organisation.
    function _checkInspection(
        Inspection calldata inspection
    ) private view returns (Order storage o, Policy storage p, uint64 organization) {
        uint8 facts = inspection.facts;
        if (facts > _ALL_FACTS) revert ReturnEscrowInvalidFacts(facts);
        _toGrade(inspection.grade);
        uint256 orderId = inspection.orderId;
        o = _orders[orderId];
        OrderStatus status = o.status;
        if (
            status != OrderStatus.ReturnRequested &&
            status != OrderStatus.SecondInspection &&
            status != OrderStatus.Refunded
        ) _requireStatus(orderId, status, OrderStatus.ReturnRequested);
        address inspector = inspection.inspector;
        ITraceRegistry.Actor memory a = registry.actor(inspector);
        if (a.roles & ActorRoles.INSPECTOR == 0) revert ReturnEscrowNotInspector(inspector);
        organization = a.organization;
        // An inspector grades the merchant's money: it may not work for the merchant, and a second
        // opinion must come from another house.
        if (
            organization == registry.actor(o.merchant).organization ||
            (status == OrderStatus.SecondInspection && organization == _firstInspectorOrg[orderId])
        ) revert ReturnEscrowInspectorNotIndependent(inspector, organization);
        p = _policyOf(o);
        // The SLA protects a refund; once refunded on receipt, a late inspection still decides the unit's fate.
        if (status != OrderStatus.Refunded) {
            uint256 slaEnd = _receivedAtOrRequest(orderId, o) + p.inspectionSla;
            if (block.timestamp > slaEnd) revert ReturnEscrowSlaElapsed(orderId, slaEnd);
        }
    }

    /**
     * @dev Records a verified inspection and moves the order on: settled (A), inspected (B/C),
     * disputed, waiting for a second opinion, or (refunded on receipt) its disposition decided.
     */
    function _applyInspection(
        Inspection calldata inspection,
        Order storage o,
        Policy storage p,
        uint64 organization
    ) private {
        uint256 orderId = inspection.orderId;
        uint8 facts = inspection.facts;
        Grade claimed = Grade(inspection.grade);
        Grade derived = _deriveGrade(p.packagingRequiredForA, facts);
        OrderStatus status = o.status;
        // A second opinion agrees only on the same facts and grade; compare before overwriting.
        bool disagrees = claimed != derived ||
            (status == OrderStatus.SecondInspection && (facts != o.facts || claimed != o.grade));
        o.facts = facts;
        o.grade = claimed;
        emit InspectionSubmitted(orderId, inspection.inspector, facts, claimed, derived, inspection.evidence);

        if (status == OrderStatus.Refunded) {
            // The money moved at receipt; this attestation only decides where the unit goes.
            if (claimed != derived) revert ReturnEscrowGradeMismatch(orderId, claimed, derived);
            o.status = OrderStatus.Settled;
            emit DispositionDecided(orderId, claimed, p.terms[uint8(claimed) - 1].disposition);
        } else if (disagrees) {
            o.status = OrderStatus.Disputed;
            emit OrderDisputed(orderId, false);
        } else if (
            status == OrderStatus.ReturnRequested && p.dualInspectionAbove != 0 && o.price > p.dualInspectionAbove
        ) {
            o.status = OrderStatus.SecondInspection;
            _firstInspectorOrg[orderId] = organization;
            emit SecondInspectionRequired(orderId, organization);
        } else if (claimed == Grade.A) {
            _settle(orderId, o, p, Grade.A);
        } else {
            uint40 disputeDeadline = uint40(block.timestamp + p.disputeWindow);
            o.status = OrderStatus.Inspected;
            o.disputeDeadline = disputeDeadline;
            emit OrderInspected(orderId, claimed, disputeDeadline);
        }
    }

    /// @dev Pays out a settlement at `grade` under the order's policy and terminates the order.
    function _settle(uint256 orderId, Order storage o, Policy storage p, Grade grade) private {
        Settlement memory s = _settlement(o, p, o.statutory, grade, o.facts);
        o.status = OrderStatus.Settled;
        o.grade = grade;
        emit OrderSettled(orderId, grade, s.statutory, s.refund, s.merchantAmount, s.points, s.disposition);
        _pay(o, s);
    }

    /// @dev Credits a settlement's cash to buyer and merchant and mints its points (the only external call, last).
    function _pay(Order storage o, Settlement memory s) private {
        address currency = o.currency;
        address buyer = o.buyer;
        address merchant = o.merchant;
        if (s.refund != 0) _credits[currency][buyer] += s.refund;
        if (s.merchantAmount != 0) _credits[currency][merchant] += s.merchantAmount;
        if (s.points != 0) points.mint(buyer, merchant, s.points);
    }

    /// @dev Whether the unit of an ended order is the merchant's to sell again.
    function _backInStock(uint256 orderId) private view returns (bool) {
        Order storage o = _orders[orderId];
        OrderStatus status = o.status;
        if (status == OrderStatus.Cancelled) return true; // never delivered
        if (status != OrderStatus.Settled) return false; // open, or completed: the buyer kept it
        // A unit attested defective is never sold again, whatever the grade terms say; nor one attested
        // used that came back by a timeout refund.
        uint8 facts = o.facts;
        if (facts & _DEFECTIVE != 0) return false;
        // A timeout refund after a return request: the unit came back. After an unfulfilled reissue
        // (no request) the buyer kept the defective unit.
        if (o.grade == Grade.None) return o.requestedAt != 0 && facts & _USED == 0;
        return _policyOf(o).terms[uint8(o.grade) - 1].disposition == Disposition.Restock;
    }

    /// @dev Ends an order without a return (or with a replacement delivered): price and delivery fee to the merchant.
    function _complete(uint256 orderId, Order storage o, OrderStatus status) private {
        o.status = status;
        uint256 amount = _total(o);
        _credits[o.currency][o.merchant] += amount;
        emit OrderCompleted(orderId, amount);
    }

    /// @dev Timeout refund: price and delivery fee back to the buyer, nothing deducted.
    function _refundInFull(uint256 orderId, Order storage o) private {
        o.status = OrderStatus.Settled;
        o.grade = Grade.None;
        uint256 amount = _total(o);
        _credits[o.currency][o.buyer] += amount;
        emit OrderSettled(orderId, Grade.None, o.statutory, amount, 0, 0, Disposition.Restock);
    }

    /// @dev The settlement arithmetic described in contract's documentation, for `grade` and `facts`.
    function _settlement(
        Order storage o,
        Policy storage p,
        bool requestStatutory,
        Grade grade,
        uint8 facts
    ) private view returns (Settlement memory s) {
        GradeTerms storage t = p.terms[uint8(grade) - 1];
        uint256 price = o.price;
        uint256 fee = o.deliveryFee;
        // Art. 16(e) exempts opened hygiene goods, not defective ones: a non-conforming unit keeps
        // its statutory refund and the merchant bears its return shipping.
        bool defective = facts & _DEFECTIVE != 0;
        s.statutory =
            requestStatutory &&
            !(p.hygieneExempt && o.hygieneSealed && facts & _SEAL_INTACT == 0 && !defective);
        uint256 refund;
        if (s.statutory && grade != Grade.C) {
            refund = price; // the law overrides the A/B grade terms
        } else {
            refund = (price * t.refundBps) / _BPS; // for statutory C: Art. 14(2) diminished value
            s.points = (price * t.pointsBps) / _BPS;
        }
        if (s.statutory && p.refundsDeliveryOnWithdrawal) refund += fee;
        if (!t.merchantPaysReturnShipping && !defective) {
            uint256 shipping = o.returnShippingFee;
            refund -= shipping < refund ? shipping : refund;
        }
        s.merchantAmount = price + fee - refund;
        if (o.remedy == Remedy.Exchange) {
            // The cash stays with the merchant; the buyer's voucher is the refund plus the bonus.
            s.points += refund + (refund * p.exchangeBonusBps) / _BPS;
            s.merchantAmount = price + fee;
            refund = 0;
        }
        s.refund = refund;
        s.disposition = t.disposition;
    }

    function _deriveGrade(bool packagingRequiredForA, uint8 facts) private pure returns (Grade) {
        if (facts & _DEFECTIVE != 0) return Grade.A;
        if (facts & _USED != 0) return Grade.C;
        if (facts & _SEAL_INTACT != 0 && (facts & _PACKAGING_INTACT != 0 || !packagingRequiredForA)) return Grade.A;
        return Grade.B;
    }

    function _validatePolicy(Policy calldata p) private pure {
        for (uint256 i = 0; i < 3; ++i) {
            uint256 refundBps = p.terms[i].refundBps;
            uint256 pointsBps = p.terms[i].pointsBps;
            if (refundBps > _BPS || pointsBps > _BPS) revert ReturnEscrowInvalidPolicy(PolicyViolation.BpsAboveMax);
            if (refundBps + pointsBps > _BPS) revert ReturnEscrowInvalidPolicy(PolicyViolation.SplitAboveMax);
        }
        if (p.withdrawalWindow == 0 && p.returnWindow == 0) revert ReturnEscrowInvalidPolicy(PolicyViolation.NoReturnWindow);
        if (p.inspectionSla == 0) revert ReturnEscrowInvalidPolicy(PolicyViolation.NoInspectionSla);
        if (p.exchangeBonusBps > _BPS) revert ReturnEscrowInvalidPolicy(PolicyViolation.BpsAboveMax);
        if (p.exchangeBonusBps != 0 && !p.exchangeOffered) {
            revert ReturnEscrowInvalidPolicy(PolicyViolation.BonusWithoutExchange);
        }
        if (p.disputeWindow == 0) revert ReturnEscrowInvalidPolicy(PolicyViolation.NoDisputeWindow);
        if (p.deliveryTimeout == 0) revert ReturnEscrowInvalidPolicy(PolicyViolation.NoDeliveryTimeout);
        if (p.withdrawalWindow != 0 && uint256(p.inspectionSla) + p.disputeWindow > p.refundDeadline) {
            revert ReturnEscrowInvalidPolicy(PolicyViolation.RefundDeadlineTooShort);
        }
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
                    i.evidence,
                    i.nonce,
                    i.deadline
                )
            );
    }

    /// @dev Delivery time from the carrier's scan under {orderRef}, never before the purchase (0: none).
    function _deliveredAt(uint256 orderId, Order storage o) private view returns (uint256 t) {
        t = registry.milestoneAt(o.unitId, _orderRef(orderId), ITraceRegistry.Milestone.Delivered);
        if (t != 0) t = _max(t, o.purchasedAt);
    }

    /// @dev Time of the return warehouse's receiving scan under {rmaRef} (0: none).
    function _receivedAt(uint256 orderId, Order storage o) private view returns (uint256) {
        return registry.milestoneAt(o.unitId, _rmaRef(orderId), ITraceRegistry.Milestone.ReturnReceived);
    }

    /// @dev Start of the inspection SLA: the receiving scan, but not before the request. Reverts if not received.
    function _receivedAtOrRequest(uint256 orderId, Order storage o) private view returns (uint256) {
        uint256 received = _receivedAt(orderId, o);
        if (received == 0) revert ReturnEscrowNotReturned(orderId);
        return _max(received, o.requestedAt);
    }

    function _policyOf(Order storage o) private view returns (Policy storage) {
        return _policies[o.market][o.policyVersion];
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

    function _toGrade(uint8 grade) private pure returns (Grade) {
        if (grade == 0 || grade > uint8(type(Grade).max)) revert ReturnEscrowInvalidGrade(grade);
        return Grade(grade);
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }
}
