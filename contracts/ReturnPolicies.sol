// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IReturnPolicies} from "./interfaces/IReturnPolicies.sol";
import {Facts} from "./utils/Facts.sol";

/**
 * @title ReturnPolicies
 * @dev Consumer law, return policies, currencies, the legal calendar and the settlement arithmetic.
 * See {IReturnPolicies}.
 *
 * Settlement arithmetic (P price, D delivery fee, F return shipping the listing named, t the grade's
 * terms, v the attested diminished value, capped at `maxDiminishedBps` of P):
 *
 * - statutory: the request fell in the withdrawal period and the right was not lost (an opened
 *   hygiene seal the merchant invokes, confirmed at purchase where the law asks; use, where the law
 *   says goods must come back in good condition). A defective unit never loses it.
 * - statutory A/B: refund = P; statutory C: refund = P − v where the law allows a diminished value,
 *   else the grade terms; + D where the law refunds delivery; points = ⌊P·t.pointsBps/10⁴⌋ on top for C.
 * - otherwise (or C without a diminished-value rule): refund = ⌊P·t.refundBps/10⁴⌋, points = ⌊P·t.pointsBps/10⁴⌋.
 * - then, unless the terms make the merchant pay it or the unit is defective, refund −= min(F, refund).
 * - merchant = P + D − refund. An exchange: voucher = refund + ⌊refund·bonusBps/10⁴⌋ in points, refund = 0.
 */
contract ReturnPolicies is IReturnPolicies, AccessControl {
    /// @dev Sets market return policies and the currencies markets sell in.
    bytes32 public constant POLICY_ADMIN_ROLE = keccak256("POLICY_ADMIN_ROLE");

    /// @dev Keeps each market's consumer law and public holidays.
    bytes32 public constant LAW_ADMIN_ROLE = keccak256("LAW_ADMIN_ROLE");

    /// @dev Decides the escrow's disputes and the defect claims a merchant does not concede.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @dev The longest relay delay a policy may allow a scan.
    uint256 public constant MAX_RELAY_DELAY = 3 days;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _MARKETS = 64;
    uint256 private constant _DAY = 1 days;

    mapping(uint32 market => Law) private _laws;
    mapping(uint32 market => bool) private _hasLaw;
    mapping(uint32 market => mapping(uint32 day => bool)) private _holidays;
    mapping(uint32 market => uint32) private _policyVersions;
    mapping(uint32 market => mapping(uint32 version => Policy)) private _policies;
    mapping(uint32 market => mapping(address currency => Currency)) private _currencies;

    /**
     * @dev Grants the default admin, law admin, policy admin and arbiter roles: separate keys, so that
     * the key that sets a merchant's policy cannot change the law it is held to, nor decide disputes.
     * Every trusted power of the deployment is a role here (the escrow and the reissue desk ask this
     * contract): one place to audit, to hand to a multisig and to put behind a timelock.
     */
    constructor(address admin, address lawAdmin, address policyAdmin, address arbiter) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LAW_ADMIN_ROLE, lawAdmin);
        _grantRole(POLICY_ADMIN_ROLE, policyAdmin);
        _grantRole(ARBITER_ROLE, arbiter);
    }

    // ---------------------------------------------------------------- law

    /// @inheritdoc IReturnPolicies
    function setLaw(uint32 market, Law calldata l) external onlyRole(LAW_ADMIN_ROLE) {
        _checkMarket(market);
        if (l.utcOffsetMinutes < -720 || l.utcOffsetMinutes > 840) revert ReturnPoliciesInvalidTimeZone(l.utcOffsetMinutes);
        _laws[market] = l;
        _hasLaw[market] = true;
        emit LawSet(market, l);
    }

    /// @inheritdoc IReturnPolicies
    function setHoliday(uint32 market, uint32 day, bool holiday) external onlyRole(LAW_ADMIN_ROLE) {
        _checkMarket(market);
        _holidays[market][day] = holiday;
        emit HolidaySet(market, day, holiday);
    }

    // ---------------------------------------------------------------- policies and currencies

    /// @inheritdoc IReturnPolicies
    function setPolicy(uint32 market, Policy calldata p) external onlyRole(POLICY_ADMIN_ROLE) {
        _checkMarket(market);
        if (!_hasLaw[market]) revert ReturnPoliciesInvalidPolicy(PolicyViolation.NoLaw);
        _validatePolicy(_laws[market], p);
        uint32 version = _policyVersions[market] + 1;
        _policyVersions[market] = version;
        _policies[market][version] = p;
        emit PolicySet(market, version, p);
    }

    /// @inheritdoc IReturnPolicies
    function setCurrency(uint32 market, address currency_, Currency calldata terms) external onlyRole(POLICY_ADMIN_ROLE) {
        _checkMarket(market);
        if ((currency_ != address(0) && currency_.code.length == 0) || terms.decimals > 36) {
            revert ReturnPoliciesInvalidCurrency(currency_);
        }
        _currencies[market][currency_] = terms;
        emit CurrencySet(market, currency_, terms);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IReturnPolicies
    function law(uint32 market) external view returns (Law memory) {
        return _laws[market];
    }

    /// @inheritdoc IReturnPolicies
    function hasLaw(uint32 market) external view returns (bool) {
        return _hasLaw[market];
    }

    /// @inheritdoc IReturnPolicies
    function isHoliday(uint32 market, uint32 day) external view returns (bool) {
        return _holidays[market][day];
    }

    /// @inheritdoc IReturnPolicies
    function policy(uint32 market, uint32 version) external view returns (Policy memory) {
        return _policy(market, version);
    }

    /// @inheritdoc IReturnPolicies
    function currentPolicyVersion(uint32 market) external view returns (uint32) {
        return _policyVersions[market];
    }

    /// @inheritdoc IReturnPolicies
    function currency(uint32 market, address currency_) external view returns (Currency memory) {
        return _currencies[market][currency_];
    }

    /// @inheritdoc IReturnPolicies
    function periodEnd(uint32 market, uint256 start, uint256 dayCount) public view returns (uint256) {
        Law storage l = _laws[market];
        int256 offset = int256(l.utcOffsetMinutes) * 60;
        // The event's local day does not count (Reg. 1182/71 Art. 3(1)); the period ends with its last day.
        uint256 last = uint256(int256(start) + offset) / _DAY + dayCount;
        bool weekends = l.weekendsExtend;
        mapping(uint32 => bool) storage holidays = _holidays[market];
        // Two weeks of consecutive rest days is more than any calendar has; the bound keeps gas finite.
        for (uint256 i = 0; i < 14; ++i) {
            uint256 weekday = (last + 3) % 7; // 1970-01-01 was a Thursday; 0 is Monday
            if (!(weekends && weekday >= 5) && !holidays[uint32(last)]) break;
            ++last;
        }
        return uint256(int256((last + 1) * _DAY) - offset) - 1;
    }

    /// @inheritdoc IReturnPolicies
    function deriveGrade(uint32 market, uint32 version, uint8 facts) external view returns (Grade) {
        return _deriveGrade(_policy(market, version).packagingRequiredForA, facts);
    }

    /// @inheritdoc IReturnPolicies
    function settlement(
        OrderTerms calldata o,
        bool inWithdrawal,
        Grade grade,
        uint8 facts,
        uint256 diminishedValue
    ) external view returns (Settlement memory s) {
        if (grade == Grade.None || uint8(grade) > uint8(type(Grade).max)) revert ReturnPoliciesInvalidGrade(uint8(grade));
        Policy storage p = _policy(o.market, o.policyVersion);
        Law storage l = _laws[o.market];
        GradeTerms storage t = p.terms[uint8(grade) - 1];
        uint256 price = o.price;
        bool defective = facts & Facts.DEFECTIVE != 0;
        s.statutory = inWithdrawal && l.withdrawalDays != 0 && (defective || !_rightLost(l, p, o, facts));

        uint256 refund;
        if (s.statutory && (grade != Grade.C || l.diminishedValue)) {
            refund = price; // the law overrides the grade terms
            if (grade == Grade.C) {
                // Art. 14(2): only the diminished value the inspector attested, within the policy's cap.
                uint256 cap = (price * p.maxDiminishedBps) / _BPS;
                s.diminished = diminishedValue < cap ? diminishedValue : cap;
                refund -= s.diminished;
                s.points = (price * t.pointsBps) / _BPS; // on top of the cash, never instead
            }
        } else {
            refund = (price * t.refundBps) / _BPS;
            s.points = (price * t.pointsBps) / _BPS;
        }
        s.priceRefunded = refund;
        if (s.statutory && l.refundsDelivery) {
            s.deliveryRefunded = o.deliveryFee;
            refund += o.deliveryFee;
        }
        if (!t.merchantPaysReturnShipping && !defective) {
            uint256 shipping = o.returnShippingFee;
            s.shippingDeducted = shipping < refund ? shipping : refund;
            refund -= s.shippingDeducted;
        }
        s.merchantAmount = price + o.deliveryFee - refund;
        if (o.exchange) {
            // The cash stays with the merchant; the buyer's voucher is the refund plus the bonus.
            s.bonus = (refund * p.exchangeBonusBps) / _BPS;
            s.voucher = refund + s.bonus;
            s.points += s.voucher;
            s.merchantAmount = price + o.deliveryFee;
            refund = 0;
        }
        s.refund = refund;
        s.disposition = t.disposition;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Whether the inspected facts take the statutory right away (not for defects: callers check).
    function _rightLost(Law storage l, Policy storage p, OrderTerms calldata o, uint8 facts) private view returns (bool) {
        bool hygiene = l.hygieneException &&
            p.hygieneExempt &&
            o.hygieneSealed &&
            facts & Facts.SEAL_INTACT == 0 &&
            (!l.exceptionNeedsConfirmation || o.exceptionConfirmed);
        return hygiene || (l.usedLosesRight && facts & Facts.USED != 0);
    }

    function _deriveGrade(bool packagingRequiredForA, uint8 facts) private pure returns (Grade) {
        if (facts & Facts.DEFECTIVE != 0) return Grade.A;
        if (facts & Facts.USED != 0) return Grade.C;
        if (facts & Facts.SEAL_INTACT != 0 && (facts & Facts.PACKAGING_INTACT != 0 || !packagingRequiredForA)) return Grade.A;
        return Grade.B;
    }

    function _validatePolicy(Law storage l, Policy calldata p) private view {
        for (uint256 i = 0; i < 3; ++i) {
            uint256 refundBps = p.terms[i].refundBps;
            uint256 pointsBps = p.terms[i].pointsBps;
            if (refundBps > _BPS || pointsBps > _BPS) revert ReturnPoliciesInvalidPolicy(PolicyViolation.BpsAboveMax);
            if (refundBps + pointsBps > _BPS) revert ReturnPoliciesInvalidPolicy(PolicyViolation.SplitAboveMax);
        }
        if (p.exchangeBonusBps > _BPS || p.maxDiminishedBps > _BPS) revert ReturnPoliciesInvalidPolicy(PolicyViolation.BpsAboveMax);
        if (l.withdrawalDays == 0 && p.returnWindow == 0) revert ReturnPoliciesInvalidPolicy(PolicyViolation.NoReturnWindow);
        if (p.inspectionSla == 0) revert ReturnPoliciesInvalidPolicy(PolicyViolation.NoInspectionSla);
        if (p.exchangeBonusBps != 0 && !p.exchangeOffered) revert ReturnPoliciesInvalidPolicy(PolicyViolation.BonusWithoutExchange);
        if (p.disputeWindow == 0) revert ReturnPoliciesInvalidPolicy(PolicyViolation.NoDisputeWindow);
        if (p.deliveryTimeout == 0) revert ReturnPoliciesInvalidPolicy(PolicyViolation.NoDeliveryTimeout);
        if (p.arbiterTimeout == 0) revert ReturnPoliciesInvalidPolicy(PolicyViolation.NoArbiterTimeout);
        if (p.maxRelayDelay > MAX_RELAY_DELAY) revert ReturnPoliciesInvalidPolicy(PolicyViolation.RelayDelayTooLong);
        if (p.hygieneExempt && !l.hygieneException) revert ReturnPoliciesInvalidPolicy(PolicyViolation.HygieneExemptionNotInLaw);
        // The facts must be attested and contestable before the law's refund falls due.
        if (l.withdrawalDays != 0 && l.refundDays != 0 && uint256(p.inspectionSla) + p.disputeWindow > uint256(l.refundDays) * _DAY) {
            revert ReturnPoliciesInvalidPolicy(PolicyViolation.SlaBeyondRefundDeadline);
        }
    }

    function _policy(uint32 market, uint32 version) private view returns (Policy storage) {
        if (version == 0 || version > _policyVersions[market]) revert ReturnPoliciesUnknownPolicy(market, version);
        return _policies[market][version];
    }

    function _checkMarket(uint32 market) private pure {
        if (market >= _MARKETS) revert ReturnPoliciesInvalidMarket(market);
    }
}
