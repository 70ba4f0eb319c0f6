// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IReturnEscrow} from "../interfaces/IReturnEscrow.sol";
import {IReturnPolicies} from "../interfaces/IReturnPolicies.sol";
import {IStorePoints} from "../interfaces/IStorePoints.sol";
import {ITraceRegistry} from "../interfaces/ITraceRegistry.sol";
import {ReturnClock} from "./ReturnClock.sol";
import {Facts} from "./Facts.sol";

/**
 * @dev How {ReturnEscrow} pays a settlement: the amounts from {IReturnPolicies-settlement} (the one
 * place the arithmetic lives), credited to buyer and merchant in the order's currency, the points
 * minted last. A linked library (public functions, called by DELEGATECALL, so the escrow's storage and
 * address): the escrow's state machine and its payments are separate code within one contract.
 */
library ReturnSettlement {

    /// @dev Settles at `grade` with the order's attested facts and ends the order (`Settled`).
    function settle(
        IReturnEscrow.Order storage o,
        mapping(address account => uint256) storage credits,
        IReturnPolicies policies,
        IStorePoints points,
        uint256 orderId,
        IReturnEscrow.SettlementPath path,
        IReturnPolicies.Grade grade
    ) public {
        IReturnPolicies.Settlement memory s = policies.settlement(_terms(o, path), o.inWithdrawal, grade, o.facts, o.diminishedValue);
        o.status = IReturnEscrow.OrderStatus.Settled;
        o.grade = grade;
        emit IReturnEscrow.OrderSettled(orderId, path, grade, s);
        _pay(o, credits, points, orderId, s);
    }

    /**
     * @dev Pays a return whose facts nobody attested as grade A with the seal and packaging intact (so
     * no exception applies), defective when that is the buyer's reason; the unit's fate waits for an
     * inspection (`Refunded`).
     */
    function settleUnproved(
        IReturnEscrow.Order storage o,
        mapping(address account => uint256) storage credits,
        IReturnPolicies policies,
        IStorePoints points,
        uint256 orderId,
        IReturnEscrow.SettlementPath path
    ) public {
        uint8 facts = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT;
        if (o.reason == IReturnEscrow.ReturnReason.Defective) facts |= Facts.DEFECTIVE;
        IReturnPolicies.Settlement memory s = policies.settlement(_terms(o, path), o.inWithdrawal, IReturnPolicies.Grade.A, facts, 0);
        o.status = IReturnEscrow.OrderStatus.Refunded;
        emit IReturnEscrow.OrderSettled(orderId, path, IReturnPolicies.Grade.None, s);
        _pay(o, credits, points, orderId, s);
    }

    /// @dev Price and delivery fee back to the buyer in cash, nothing deducted; the order ends in `status`.
    function refundInFull(
        IReturnEscrow.Order storage o,
        mapping(address account => uint256) storage credits,
        uint256 orderId,
        IReturnEscrow.SettlementPath path,
        IReturnEscrow.OrderStatus status
    ) public {
        o.status = status;
        IReturnPolicies.Settlement memory s;
        s.statutory = o.inWithdrawal; // everything back: at least what the law gives, whatever the facts
        s.priceRefunded = o.price;
        s.deliveryRefunded = o.deliveryFee;
        s.refund = uint256(o.price) + o.deliveryFee;
        emit IReturnEscrow.OrderSettled(orderId, path, IReturnPolicies.Grade.None, s);
        credits[o.buyer] += s.refund;
    }

    /**
     * @dev What settling `o` at `grade` on `facts` would pay now (see {IReturnEscrow-quote}): an active
     * order counts as a withdrawal while undelivered (its delivery scan under `ref`) or within the period.
     */
    function quote(
        IReturnEscrow.Order storage o,
        ITraceRegistry registry,
        IReturnPolicies policies,
        bytes32 ref,
        uint8 grade,
        uint8 facts,
        uint256 diminishedValue
    ) public view returns (IReturnPolicies.Settlement memory) {
        if (grade == 0 || grade > uint8(type(IReturnPolicies.Grade).max)) revert IReturnEscrow.ReturnEscrowInvalidGrade(grade);
        if (facts > Facts.ALL) revert IReturnEscrow.ReturnEscrowInvalidFacts(facts);
        bool inWithdrawal = o.inWithdrawal;
        if (o.status == IReturnEscrow.OrderStatus.Active) {
            uint256 delivered = ReturnClock.deliveredAt(o, registry, ref, policies.policy(o.market, o.policyVersion).maxRelayDelay);
            inWithdrawal = delivered == 0 || ReturnClock.withinWithdrawal(o, policies, delivered);
        }
        return policies.settlement(terms(o), inWithdrawal, IReturnPolicies.Grade(grade), facts, diminishedValue);
    }

    /// @dev What the policies' arithmetic needs to know of an order.
    function terms(IReturnEscrow.Order storage o) internal view returns (IReturnPolicies.OrderTerms memory) {
        return
            IReturnPolicies.OrderTerms({
                market: o.market,
                policyVersion: o.policyVersion,
                price: o.price,
                deliveryFee: o.deliveryFee,
                returnShippingFee: o.returnShippingFee,
                hygieneSealed: o.hygieneSealed,
                exceptionConfirmed: o.exceptionConfirmed,
                exchange: o.remedy == IReturnEscrow.Remedy.Exchange
            });
    }

    /**
     * @dev The order's terms for a settlement on `path`. A refund someone's silence made due (the
     * arbiter's, the statutory deadline's, a lost return's) is cash: the exchange voucher is the buyer's
     * choice for a return that runs its course (EU 2011/83 Art. 13(1)).
     */
    function _terms(IReturnEscrow.Order storage o, IReturnEscrow.SettlementPath path) private view returns (IReturnPolicies.OrderTerms memory t) {
        t = terms(o);
        if (
            path == IReturnEscrow.SettlementPath.ArbiterSilent ||
            path == IReturnEscrow.SettlementPath.Overdue ||
            path == IReturnEscrow.SettlementPath.Dispatched
        ) t.exchange = false;
    }

    /**
     * @dev Credits a settlement's cash to buyer and merchant, then mints its points (the only external
     * call, last). Points that cannot be minted are paid in cash from the merchant's share instead.
     */
    function _pay(
        IReturnEscrow.Order storage o,
        mapping(address account => uint256) storage credits,
        IStorePoints points,
        uint256 orderId,
        IReturnPolicies.Settlement memory s
    ) private {
        address buyer = o.buyer;
        address merchant = o.merchant;
        if (s.refund != 0) credits[buyer] += s.refund;
        if (s.merchantAmount != 0) credits[merchant] += s.merchantAmount;
        if (s.points != 0) {
            try points.mint(buyer, merchant, o.currency, s.points) {} catch {
                // The merchant holds the cash value of what it could not issue as points.
                uint256 cash = s.points < s.merchantAmount ? s.points : s.merchantAmount;
                credits[merchant] -= cash;
                credits[buyer] += cash;
                emit IReturnEscrow.PointsPaidInCash(orderId, cash);
            }
        }
    }
}
