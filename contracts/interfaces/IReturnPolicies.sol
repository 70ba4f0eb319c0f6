// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev The rules a return is settled by, apart from the orders and the money: the consumer law of
 * each market (kept by a law admin), the merchants' return policies (kept by a policy admin, refused
 * when they contradict the law), the currencies each market sells in, the calendar legal periods run
 * on, and the settlement arithmetic itself, which {ReturnEscrow} calls and nothing else repeats.
 *
 * Markets are numbered 0-63. Amounts are in the base units of an order's currency; basis points:
 * 10,000 = 100 %. Inspection facts are bits: 1 `SEAL_INTACT`, 2 `PACKAGING_INTACT`, 4 `USED`, 8 `DEFECTIVE`.
 */
interface IReturnPolicies {
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

    /// @dev Which rule {setPolicy} found broken.
    enum PolicyViolation {
        BpsAboveMax, // a grade's refundBps or pointsBps, the exchange bonus or the diminished-value cap exceeds 10000
        SplitAboveMax, // a grade's refundBps + pointsBps exceeds 10000
        NoReturnWindow, // the market's law gives no withdrawal and the policy no return window
        NoInspectionSla, // inspectionSla is zero
        NoDisputeWindow, // disputeWindow is zero (the buyer could never contest)
        NoDeliveryTimeout, // deliveryTimeout is zero (the buyer could cancel before any delivery)
        NoArbiterTimeout, // arbiterTimeout is zero (a silent arbiter would hold the money)
        SlaBeyondRefundDeadline, // inspectionSla + disputeWindow do not fit in the law's refund days
        BonusWithoutExchange, // exchangeBonusBps set while exchangeOffered is false
        HygieneExemptionNotInLaw, // hygieneExempt where the market's law has no hygiene exception
        RelayDelayTooLong, // maxRelayDelay above MAX_RELAY_DELAY
        NoLaw // the market has no law set: the law admin sets it first (an empty law for a market without one)
    }

    /**
     * @dev A market's consumer law, as the contracts apply it (set by the law admin).
     *
     * - `withdrawalDays`: the statutory right to withdraw, in whole days from delivery (0: none).
     * - `refundDays`: the refund is due within this many days of the request (EU 2011/83 Art. 13(1)),
     *   or of the merchant's receipt when `refundFromReceipt` (China, CRPL Art. 25).
     * - `refundsDelivery`: a withdrawal refunds the standard delivery too (EU Art. 13(1)).
     * - `hygieneException`: sealed hygiene goods opened after delivery lose the right (EU Art. 16(e));
     *   `exceptionNeedsConfirmation`: only if the buyer confirmed it at purchase (China).
     * - `usedLosesRight`: goods must come back in good condition (China); else a used unit keeps the
     *   right less its `diminishedValue` (EU Art. 14(2)), paid in cash.
     * - `utcOffsetMinutes`: the market's latest time zone: a period ends at midnight there (the
     *   buyer's last moment); `weekendsExtend`: a period ending on a Saturday or Sunday ends on the
     *   next working day, as one ending on a registered holiday does (Regulation 1182/71 Art. 3(4);
     *   China's Civil Code Art. 203).
     */
    struct Law {
        uint16 withdrawalDays;
        uint16 refundDays;
        bool refundFromReceipt;
        bool refundsDelivery;
        bool hygieneException;
        bool exceptionNeedsConfirmation;
        bool usedLosesRight;
        bool diminishedValue;
        bool weekendsExtend;
        int16 utcOffsetMinutes;
    }

    /// @dev Terms of one grade: shares of the price in basis points, who pays return shipping, unit's fate.
    struct GradeTerms {
        uint16 refundBps;
        uint16 pointsBps;
        bool merchantPaysReturnShipping;
        Disposition disposition;
    }

    /**
     * @dev A market's return policy version, set by the policy admin. Durations are in seconds.
     *
     * - `returnWindow`: a voluntary return window from delivery, beyond the law's (0: the law's only).
     * - `inspectionSla`: from the return warehouse's receiving scan to the inspection.
     * - `disputeWindow`: from a B/C inspection, for the buyer to contest.
     * - `deliveryTimeout`: from purchase, after which an undelivered order may be cancelled; from a
     *   return request, after which a unit neither received nor dispatched is released to the
     *   merchant; from a dispatch, after which a unit never received is refunded.
     * - `arbiterTimeout`: a dispute nobody decides within it settles by the attested facts.
     * - `maxRelayDelay`: a scan counts at its signed time if relayed within this delay, else at its
     *   recording less it; claims that rely on a missing scan wait it out too.
     * - `hygieneExempt`: the merchant invokes the law's hygiene exception (and tells the buyer before purchase).
     * - `packagingRequiredForA`: grade A also needs intact packaging.
     * - `terms`: grade terms for A, B, C at indexes 0, 1, 2: what a return outside the statutory right
     *   pays, and who bears the return shipping the listing names.
     * - `refundOnReturn`: the refund is released at the receiving scan of an accredited return center.
     * - `exchangeOffered`, `exchangeBonusBps`: the buyer may take store points worth the refund plus a bonus.
     * - `maxDiminishedBps`: the most of the price an inspector may attest as diminished value.
     * - `freePickup`: the merchant collects returns at the door; the refund is then never withheld
     *   for the unit's receipt (EU Art. 13(3)), and the carrier's pickup scan proves the dispatch.
     * - `waiveDefectReturn`: a buyer whose replacement never came keeps the defective unit.
     */
    struct Policy {
        uint32 returnWindow;
        uint32 inspectionSla;
        uint32 disputeWindow;
        uint32 deliveryTimeout;
        uint32 arbiterTimeout;
        uint32 maxRelayDelay;
        bool hygieneExempt;
        bool packagingRequiredForA;
        GradeTerms[3] terms;
        bool refundOnReturn;
        bool exchangeOffered;
        uint16 exchangeBonusBps;
        uint16 maxDiminishedBps;
        bool freePickup;
        bool waiveDefectReturn;
    }

    /**
     * @dev A currency a market sells in (set by the policy admin), with its decimals and the amounts
     * the policies compare prices with, in its base units.
     */
    struct Currency {
        bool allowed;
        uint8 decimals;
        uint96 reissueAutoApproveLimit; // a defect claim on an order priced at or under it is approved at once
        uint96 dualInspectionAbove; // a return of an order priced above it needs two independent inspections (0: never)
    }

    /**
     * @dev What a settlement needs to know of an order: its terms at purchase and the buyer's choices.
     */
    struct OrderTerms {
        uint32 market;
        uint32 policyVersion;
        uint256 price;
        uint256 deliveryFee;
        uint256 returnShippingFee; // the return shipping the buyer was told they bear, where the terms say so
        bool hygieneSealed;
        bool exceptionConfirmed; // the buyer confirmed the hygiene exception at purchase
        bool exchange; // the buyer chose the exchange voucher
    }

    /**
     * @dev A settlement as parts: refund + merchantAmount == price + deliveryFee. The cash value of the
     * return is `priceRefunded + deliveryRefunded − shippingDeducted`: what came back of the price (the
     * price less `diminished`, the attested diminished value, or less what the grade terms keep), of the
     * delivery fee, and the return shipping deducted. It is the `refund`, or for an exchange the
     * `voucher` less its `bonus` (the voucher is part of `points`; the refund is then zero).
     */
    struct Settlement {
        bool statutory;
        uint256 refund;
        uint256 merchantAmount;
        uint256 points;
        uint256 voucher;
        uint256 bonus;
        uint256 diminished;
        uint256 shippingDeducted;
        Disposition disposition;
        uint256 priceRefunded;
        uint256 deliveryRefunded;
    }

    /// @dev The policy breaks rule `violation`.
    /// @param violation The rule the policy breaks.
    error ReturnPoliciesInvalidPolicy(PolicyViolation violation);

    /// @dev Markets are numbered 0-63.
    /// @param market The market number given.
    error ReturnPoliciesInvalidMarket(uint32 market);

    /// @dev The market has no policy with this version.
    /// @param market The market (0-63).
    /// @param version The policy version asked for.
    error ReturnPoliciesUnknownPolicy(uint32 market, uint32 version);

    /// @dev The grade is not A, B or C.
    /// @param grade The grade given.
    error ReturnPoliciesInvalidGrade(uint8 grade);

    /// @dev A currency is the native coin (zero address) or a contract; its decimals at most 36.
    /// @param currency The currency given.
    error ReturnPoliciesInvalidCurrency(address currency);

    /// @dev The law's time zone is outside UTC-12:00 to UTC+14:00.
    /// @param utcOffsetMinutes The time zone given, in minutes from UTC.
    error ReturnPoliciesInvalidTimeZone(int16 utcOffsetMinutes);

    /// @dev Emitted when the law admin sets `market`'s law.
    event LawSet(uint32 indexed market, Law law);

    /// @dev Emitted when the law admin registers (or removes) a public holiday: `day` counts days since 1970-01-01.
    event HolidaySet(uint32 indexed market, uint32 indexed day, bool holiday);

    /// @dev Emitted when `version` of `market`'s policy is set.
    event PolicySet(uint32 indexed market, uint32 indexed version, Policy policy);

    /// @dev Emitted when the policy admin allows (or stops) a currency in a market.
    event CurrencySet(uint32 indexed market, address indexed currency, Currency terms);

    /**
     * @dev Sets `market`'s consumer law; policies set afterwards are checked against it.
     *
     * Requirements:
     *
     * - the caller holds `LAW_ADMIN_ROLE`; `market` < 64; the time zone is within UTC-12 to UTC+14.
     *
     * Emits a {LawSet} event.
     * @param market The market (0-63).
     * @param law The market's law from now on (it applies to open orders too: laws are not versioned).
     */
    function setLaw(uint32 market, Law calldata law) external;

    /**
     * @dev Registers `day` (days since 1970-01-01, in the market's time zone) as a public holiday of
     * `market` (or removes it): a legal period ending on it ends on the next working day.
     *
     * Requirements:
     *
     * - the caller holds `LAW_ADMIN_ROLE`; `market` < 64.
     *
     * Emits a {HolidaySet} event.
     * @param market The market (0-63).
     * @param day The day, counted in days since 1970-01-01.
     * @param holiday True to register it, false to remove it.
     */
    function setHoliday(uint32 market, uint32 day, bool holiday) external;

    /**
     * @dev Adds a new version of `market`'s return policy; orders keep the version they were placed under.
     *
     * Requirements:
     *
     * - the caller holds `POLICY_ADMIN_ROLE`; `market` < 64 and has a law.
     * - the policy keeps every rule of {PolicyViolation}.
     *
     * Emits a {PolicySet} event.
     * @param market The market (0-63).
     * @param policy The new policy version's terms.
     */
    function setPolicy(uint32 market, Policy calldata policy) external;

    /**
     * @dev Allows `currency` in `market` with its terms (`allowed` false: stops new listings in it).
     *
     * Requirements:
     *
     * - the caller holds `POLICY_ADMIN_ROLE`; `market` < 64; `currency` is zero (native) or a contract.
     *
     * Emits a {CurrencySet} event.
     * @param market The market (0-63).
     * @param currency The currency (zero: the native coin).
     * @param terms Whether it is allowed, its decimals and its thresholds.
     */
    function setCurrency(uint32 market, address currency, Currency calldata terms) external;

    /// @dev Returns `market`'s law.
    /// @param market The market (0-63).
    /// @return The market's law (all zero if none is set).
    function law(uint32 market) external view returns (Law memory);

    /// @dev Returns whether `market` has a law set (an empty one counts: a market without consumer law).
    /// @param market The market (0-63).
    /// @return True if a law is set.
    function hasLaw(uint32 market) external view returns (bool);

    /// @dev Returns whether `day` is a registered public holiday of `market`.
    /// @param market The market (0-63).
    /// @param day The day, counted in days since 1970-01-01.
    /// @return True if the day is a registered holiday.
    function isHoliday(uint32 market, uint32 day) external view returns (bool);

    /// @dev Returns version `version` of `market`'s policy. Reverts {ReturnPoliciesUnknownPolicy} if it does not exist.
    /// @param market The market (0-63).
    /// @param version The policy version (from 1).
    /// @return The policy version's terms.
    function policy(uint32 market, uint32 version) external view returns (Policy memory);

    /// @dev Returns the latest policy version of `market` (0: none yet).
    /// @param market The market (0-63).
    /// @return The latest version.
    function currentPolicyVersion(uint32 market) external view returns (uint32);

    /// @dev Returns `currency`'s terms in `market` (not allowed: all zero).
    /// @param market The market (0-63).
    /// @param currency The currency (zero: the native coin).
    /// @return The currency's terms in the market.
    function currency(uint32 market, address currency) external view returns (Currency memory);

    /**
     * @dev Returns the last second of a legal period of `dayCount` whole days that starts with an event at
     * `start`: the day of the event does not count, the period ends at midnight of its last day in
     * the market's time zone, and a last day that is a weekend day (where the law says so) or a
     * registered holiday moves to the next working day (Regulation 1182/71 Art. 3).
     * @param market The market (0-63).
     * @param start The time of the event the period starts with (unix seconds).
     * @param dayCount The period's length in whole days.
     * @return The period's last second (unix seconds).
     */
    function periodEnd(uint32 market, uint256 start, uint256 dayCount) external view returns (uint256);

    /**
     * @dev Returns the grade attested `facts` give under the policy version: A if defective, C if
     * used, A if the seal (and, where the policy asks, the packaging) is intact, else B.
     * @param market The market (0-63).
     * @param version The order's policy version.
     * @param facts The attested fact bits.
     * @return The grade the facts give.
     */
    function deriveGrade(uint32 market, uint32 version, uint8 facts) external view returns (Grade);

    /**
     * @dev Returns the settlement of an order with terms `order` at `grade`, with the inspection's
     * `facts` and attested `diminishedValue`; `inWithdrawal` says the return request fell in the
     * statutory withdrawal period. The law decides where it applies: the right (lost by an opened
     * hygiene seal the buyer was told of, and where the law says so by use), the full price (less the
     * capped diminished value of a used unit, in cash), the delivery fee, and only the return
     * shipping the buyer was told they bear; outside it the grade terms decide. A defective unit never
     * pays return shipping. An exchange turns the refund into a voucher of store points plus the bonus.
     * @param order The order's terms at purchase and the buyer's choices.
     * @param inWithdrawal Whether the return request fell in the statutory withdrawal period.
     * @param grade The grade that decides.
     * @param facts The attested fact bits.
     * @param diminishedValue The attested diminished value, in the currency's base units (the policy caps what counts).
     * @return The settlement, as its parts.
     */
    function settlement(
        OrderTerms calldata order,
        bool inWithdrawal,
        Grade grade,
        uint8 facts,
        uint256 diminishedValue
    ) external view returns (Settlement memory);
}
