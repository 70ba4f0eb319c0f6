// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @dev Product units identified by GS1 GTIN + serial, and their EPCIS-shaped lifecycle events
 * signed by the actors who observed them. Per unit the contract keeps only the head of an
 * append-only hash chain, a closed flag and an event counter, packed in one storage slot; the
 * events themselves are in the logs, from which anyone can rebuild a unit's history and check it
 * against the head.
 *
 * Units travel together in parcels identified by their SSCC (EPCIS AggregationEvent ADD/DELETE): a
 * parcel has a chain of its own, so one signed scan of the parcel covers every unit in it.
 */
interface ITraceRegistry {
    /**
     * @dev EPCIS business steps. Each maps to a CBV 2.0 bizStep
     * (`https://ref.gs1.org/cbv/BizStep-<name>`) except the ReturnTrace extensions
     * `CustomsClearing` and `Delivering` (`urn:returntrace:bizstep:<name>`); see docs/protocol.md.
     *
     * A `CustomsClearing` event's `bizTransaction` may be the commitment to its customs declaration
     * ({customsCommitment}): the declaration's reference never goes on a public chain in plain text;
     * whoever holds it and its salt proves the link to customs (returned goods relief).
     */
    enum BizStep {
        None,
        Commissioning,
        Packing,
        Unpacking,
        Shipping,
        Departing,
        Arriving,
        CustomsClearing,
        Delivering,
        Accepting,
        Receiving,
        Inspecting,
        Holding,
        Storing,
        Repackaging,
        Destroying,
        Decommissioning
    }

    /**
     * @dev EPCIS dispositions: CBV 2.0 (`https://ref.gs1.org/cbv/Disp-<name>`) up to `RetailSold`,
     * then ReturnTrace extensions (`urn:returntrace:disp:<name>`); see docs/protocol.md.
     */
    enum Disposition {
        None,
        Active,
        InTransit,
        InProgress,
        Returned,
        Damaged,
        Conformant,
        NonConformant,
        SellableAccessible,
        SellableNotAccessible,
        NonSellableOther,
        Destroyed,
        Disposed,
        Inactive,
        Recalled,
        NeedsReplacement,
        Expired,
        ContainerClosed,
        ContainerOpen,
        RetailSold,
        Delivered,
        Donated,
        Recycled
    }

    /**
     * @dev Facts the escrow reads from the registry, recorded when the step that makes them happens:
     * a carrier's delivery under the order's reference, a warehouse's receiving scan (disposition
     * `Returned`) under the RMA, and a carrier's pickup of a return (`Accepting` under the RMA, or a
     * packing with disposition `Returned` into a parcel, recorded for each unit packed under the zero
     * reference): the buyer's proof of dispatch (EU 2011/83 Art. 13(3)).
     */
    enum Milestone {
        Delivered,
        ReturnReceived,
        Dispatched
    }

    /**
     * @dev Where and by whom a milestone was scanned: the time the signer attested (see
     * {milestoneAt}), the GLN of the scan's location, the GLN of the signer's organisation when it
     * signed, and when the chain recorded it (the block's time), from which the escrow bounds how late
     * a scan may be relayed.
     */
    struct MilestoneRecord {
        uint40 at;
        uint64 location;
        uint64 organization;
        uint40 recordedAt;
    }

    /**
     * @dev An accredited local return center at one location (GLN): the organisation that runs it and
     * the markets it is accredited for (bit m: market m; 0: revoked).
     */
    struct ReturnCenter {
        uint64 organization;
        uint64 markets;
    }

    /// @dev What an {Aggregation} does to its parcel: EPCIS AggregationEvent `ADD` or `DELETE`.
    enum AggregationAction {
        None,
        Add,
        Delete
    }

    /// @dev A product class, registered once per GTIN by its brand.
    struct Product {
        address brand;
        uint8 classFlags; // bit 0: hygiene-sealed (EU 2011/83 Art. 16(e))
        uint64 markets; // bit m set: the class is sold in market m
    }

    /// @dev An accredited actor: which steps it may sign (role bits) and the organisation it belongs to.
    struct Actor {
        uint32 roles;
        uint64 organization; // GLN of the legal entity
    }

    /**
     * @dev The brand's commissioning of one unit, which creates it.
     * EIP-712 type: `Commission(uint64 gtin,string serial,uint64 location,uint40 eventTime,bytes32 evidence)`.
     */
    struct Commission {
        uint64 gtin;
        string serial;
        uint64 location;
        uint40 eventTime;
        bytes32 evidence;
    }

    /**
     * @dev Commissionings signed at once by a brand.
     * EIP-712 type: `CommissionBatch(address signer,Commission[] units,uint256 nonce,uint64 deadline)` followed
     * by the `Commission` type.
     */
    struct SignedCommissionBatch {
        address signer;
        Commission[] units;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /**
     * @dev A lifecycle event of an existing unit. `location` is the GLN of the read point and business
     * location, `evidence` the SHA-256 digest inside the evidence file's CIDv1 (or zero),
     * `bizTransaction` the order or RMA reference (or zero).
     * EIP-712 type: `LifecycleEvent(bytes32 unitId,uint8 bizStep,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence,bytes32 bizTransaction)`.
     */
    struct LifecycleEvent {
        bytes32 unitId;
        uint8 bizStep;
        uint8 disposition;
        uint64 location;
        uint40 eventTime;
        bytes32 evidence;
        bytes32 bizTransaction;
    }

    /**
     * @dev The brand's decommissioning of one of its units while the unit is its stock: it closes the
     * unit (see {decommission}). The unit is named by GTIN and serial, which prove whose it is.
     * EIP-712 type: `Decommission(uint64 gtin,string serial,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence)`.
     */
    struct Decommission {
        uint64 gtin;
        string serial;
        uint8 disposition;
        uint64 location;
        uint40 eventTime;
        bytes32 evidence;
    }

    /**
     * @dev Decommissionings signed at once by a brand. EIP-712 type:
     * `DecommissionBatch(address signer,Decommission[] units,uint256 nonce,uint64 deadline)` followed by the
     * `Decommission` type.
     */
    struct SignedDecommissionBatch {
        address signer;
        Decommission[] units;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /**
     * @dev Lifecycle events signed at once by one actor: a single scan, or a scanning session over a
     * consolidated parcel. EIP-712 type: `EventBatch(address signer,LifecycleEvent[] events,uint256 nonce,uint64 deadline)`
     * followed by the `LifecycleEvent` type.
     */
    struct SignedEventBatch {
        address signer;
        LifecycleEvent[] events;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /**
     * @dev Units packed into, or unpacked from, the parcel with SSCC `sscc` (an EPCIS AggregationEvent
     * whose parentID is the SSCC and whose childEPCs are the units). `action` is an
     * {AggregationAction}; the other fields mean what they mean in a {LifecycleEvent}.
     * EIP-712 type: `Aggregation(uint64 sscc,bytes32[] childIds,uint8 action,uint8 bizStep,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence,bytes32 bizTransaction)`.
     */
    struct Aggregation {
        uint64 sscc;
        bytes32[] childIds;
        uint8 action;
        uint8 bizStep;
        uint8 disposition;
        uint64 location;
        uint40 eventTime;
        bytes32 evidence;
        bytes32 bizTransaction;
    }

    /**
     * @dev Aggregations signed at once by one actor. EIP-712 type:
     * `AggregationBatch(address signer,Aggregation[] aggregations,uint256 nonce,uint64 deadline)` followed by
     * the `Aggregation` type.
     */
    struct SignedAggregationBatch {
        address signer;
        Aggregation[] aggregations;
        uint256 nonce;
        uint64 deadline;
        bytes signature;
    }

    /// @dev The GTIN is not 14 digits with a correct check digit.
    /// @param gtin The GTIN given.
    error TraceRegistryInvalidGtin(uint64 gtin);

    /// @dev The serial is not 1-20 characters of GS1 character set 82.
    /// @param serial The serial given.
    error TraceRegistryInvalidSerial(string serial);

    /// @dev The GLN is not 13 digits with a correct check digit.
    /// @param gln The GLN given.
    error TraceRegistryInvalidGln(uint64 gln);

    /// @dev The GTIN has not been registered as a product.
    /// @param gtin The GTIN-14.
    error TraceRegistryUnknownProduct(uint64 gtin);

    /// @dev The GTIN is registered already.
    /// @param gtin The GTIN-14.
    error TraceRegistryProductExists(uint64 gtin);

    /// @dev `signer` is not the brand that registered `gtin`.
    /// @param signer The signer or caller.
    /// @param gtin The GTIN-14.
    error TraceRegistryNotBrandOf(address signer, uint64 gtin);

    /// @dev The unit has been commissioned already.
    /// @param unitId The unit's id.
    error TraceRegistryUnitExists(bytes32 unitId);

    /// @dev No unit with this id has been commissioned.
    /// @param unitId The unit's id.
    error TraceRegistryUnknownUnit(bytes32 unitId);

    /// @dev The step is outside the enumeration, or is commissioning, which has its own function.
    /// @param bizStep The step given.
    error TraceRegistryInvalidStep(uint8 bizStep);

    /// @dev The disposition is outside the enumeration.
    /// @param disposition The disposition given.
    error TraceRegistryInvalidDisposition(uint8 disposition);

    /// @dev `signer` holds none of the roles `allowedRoles` that may sign `bizStep`.
    /// @param signer The event's signer.
    /// @param bizStep The event's step.
    /// @param allowedRoles The role bits that may sign the step.
    error TraceRegistryRoleNotAllowed(address signer, uint8 bizStep, uint32 allowedRoles);

    /// @dev The event time is zero or later than the block that records it (beyond the allowed clock skew).
    /// @param eventTime The event time given.
    error TraceRegistryInvalidEventTime(uint40 eventTime);

    /// @dev Only a charity signs `Donated` and only a recycler `Recycled`: `signer` is neither for `disposition`.
    /// @param signer The event's signer.
    /// @param disposition The event's disposition.
    error TraceRegistryDispositionNotAllowed(address signer, uint8 disposition);

    /// @dev The unit (or parcel) was donated, recycled, destroyed or decommissioned: its chain is closed.
    /// @param unitId The id of the closed unit or parcel.
    error TraceRegistryUnitClosed(bytes32 unitId);

    /// @dev The SSCC is not 18 digits with a correct check digit.
    /// @param sscc The SSCC given.
    error TraceRegistryInvalidSscc(uint64 sscc);

    /// @dev The aggregation's action is neither `Add` nor `Delete`.
    /// @param action The action given.
    error TraceRegistryInvalidAggregationAction(uint8 action);

    /// @dev An aggregation must name at least one unit.
    /// @param sscc The parcel's SSCC.
    error TraceRegistryEmptyAggregation(uint64 sscc);

    /// @dev The unit is in the parcel `parcelId` already (a unit is in one parcel at a time).
    /// @param unitId The unit's id.
    /// @param parcelId The parcel it is in.
    error TraceRegistryAlreadyPacked(bytes32 unitId, bytes32 parcelId);

    /// @dev The unit is not in the parcel `parcelId`.
    /// @param unitId The unit's id.
    /// @param parcelId The parcel's id.
    error TraceRegistryNotInParcel(bytes32 unitId, bytes32 parcelId);

    /// @dev The id is a parcel, which cannot be packed into another parcel.
    /// @param parcelId The parcel's id.
    error TraceRegistryParcelInParcel(bytes32 parcelId);

    /// @dev A closing event on a parcel that still holds `size` units.
    /// @param parcelId The parcel's id.
    /// @param size The number of units still in it.
    error TraceRegistryParcelNotEmpty(bytes32 parcelId, uint32 size);

    /// @dev A call and each signed batch in it must hold at least one item.
    error TraceRegistryEmptyBatch();

    /// @dev The account is the zero address.
    error TraceRegistryZeroAddress();

    /// @dev `brand` may not register `gtin`: no GS1 company prefix of `gtin` is recorded for it and the
    /// accreditor did not approve it for this product.
    /// @param gtin The GTIN-14.
    /// @param brand The brand registering it.
    error TraceRegistryProductNotApproved(uint64 gtin, address brand);

    /// @dev The company prefix is not 6 to 12 digits long.
    /// @param prefix The prefix given.
    /// @param digits Its length given.
    error TraceRegistryInvalidCompanyPrefix(uint64 prefix, uint8 digits);

    /// @dev The close guard (see {closeGuard}) refused: the unit is not `signer`'s to close now.
    /// @param unitId The unit's id.
    /// @param signer The event's signer.
    error TraceRegistryClosingNotAllowed(bytes32 unitId, address signer);

    /// @dev The close guard is set once: it is `guard` already.
    /// @param guard The close guard already set.
    error TraceRegistryCloseGuardSet(address guard);

    /// @dev Emitted when `brand` registers a product class.
    event ProductRegistered(uint64 indexed gtin, address indexed brand, uint8 classFlags, uint64 markets);

    /// @dev Emitted when an actor's roles or organisation change (roles 0: accreditation revoked).
    event ActorUpdated(address indexed account, uint32 roles, uint64 organization);

    /// @dev Emitted when the return center at `location` is accredited for `markets` (0: revoked).
    event ReturnCenterSet(uint64 indexed location, uint64 indexed organization, uint64 markets);

    /// @dev Emitted when the accreditor records `brand` as the owner of a GS1 company prefix (zero brand: removed).
    event CompanyPrefixSet(uint64 indexed prefix, uint8 digits, address indexed brand);

    /// @dev Emitted when the accreditor lets `brand` register `gtin` outside its company prefixes (zero brand: withdrawn).
    event ProductApproved(uint64 indexed gtin, address indexed brand);

    /// @dev Emitted when the accreditor reviews a product's class flags; orders placed before keep theirs.
    event ProductClassReviewed(uint64 indexed gtin, uint8 previousFlags, uint8 classFlags, string reason);

    /// @dev Emitted when the admin sets the close guard (the escrow), once.
    event CloseGuardSet(address guard);

    /**
     * @dev Emitted when a unit is commissioned: its first event. The chain link is the EIP-712 struct
     * hash of the {Commission} these fields make (see {unitRecord}).
     */
    event UnitCommissioned(
        bytes32 indexed unitId,
        address indexed signer,
        uint64 indexed gtin,
        string serial,
        uint64 location,
        uint40 eventTime,
        bytes32 evidence
    );

    /**
     * @dev Emitted for every lifecycle event after commissioning. The chain link is the EIP-712 struct
     * hash of the {LifecycleEvent} these fields make (see {unitRecord}).
     */
    event EventRecorded(
        bytes32 indexed unitId,
        address indexed signer,
        uint8 bizStep,
        uint8 disposition,
        uint64 location,
        uint40 eventTime,
        bytes32 evidence,
        bytes32 bizTransaction
    );

    /**
     * @dev Emitted for every aggregation, under the parcel's id: the parcel's chain link is the EIP-712
     * struct hash of the {Aggregation} these fields make (see {unitRecord}).
     */
    event AggregationRecorded(
        bytes32 indexed parcelId,
        address indexed signer,
        uint64 sscc,
        uint8 action,
        bytes32[] childIds,
        uint8 bizStep,
        uint8 disposition,
        uint64 location,
        uint40 eventTime,
        bytes32 evidence,
        bytes32 bizTransaction
    );

    /**
     * @dev Emitted for each unit an aggregation packs or unpacks: the unit's chain link is
     * `aggregationHash`, the struct hash of the aggregation whose fields {AggregationRecorded} logs
     * under `parcelId` in the same transaction.
     */
    event UnitAggregated(bytes32 indexed unitId, bytes32 indexed parcelId, address indexed signer, bytes32 aggregationHash);

    /**
     * @dev Registers the product class `gtin` with the caller as its brand.
     *
     * Requirements:
     *
     * - the caller holds the brand role.
     * - `gtin` is a valid GTIN-14 not registered yet.
     * - the accreditor recorded a GS1 company prefix of `gtin` for the caller ({setCompanyPrefix}), or
     *   approved the caller for `gtin` ({approveProduct}).
     *
     * Emits a {ProductRegistered} event.
     * @param gtin The GTIN-14.
     * @param classFlags The class flags (bit 0: hygiene-sealed).
     * @param markets The markets it is sold in (bit m: market m).
     */
    function registerProduct(uint64 gtin, uint8 classFlags, uint64 markets) external;

    /**
     * @dev Records `brand` as the licensee of the GS1 company prefix `prefix` of `digits` digits (6 to
     * 12): it may register the GTINs that carry it (the digits after a GTIN-14's indicator digit).
     * A zero `brand` removes the record; products registered under it stay.
     *
     * Requirements:
     *
     * - the caller holds `ACCREDITOR_ROLE`; `digits` is 6 to 12 and `prefix` has at most that many digits.
     *
     * Emits a {CompanyPrefixSet} event.
     * @param prefix The GS1 company prefix.
     * @param digits Its length in digits (6 to 12).
     * @param brand Its licensee (zero: removes the record).
     */
    function setCompanyPrefix(uint64 prefix, uint8 digits, address brand) external;

    /**
     * @dev Lets `brand` register `gtin` although no company prefix of it is recorded for the brand
     * (a GTIN licensed singly); zero withdraws the approval.
     *
     * Requirements:
     *
     * - the caller holds `ACCREDITOR_ROLE`; `gtin` is valid.
     *
     * Emits a {ProductApproved} event.
     * @param gtin The GTIN-14.
     * @param brand The brand approved (zero: withdraws the approval).
     */
    function approveProduct(uint64 gtin, address brand) external;

    /**
     * @dev Corrects the class flags a brand declared for `gtin` (for example a hygiene seal on goods
     * that can be cleaned, which the law reads narrowly: CJEU C-681/17), with the reason. Orders placed
     * before keep the flags they were placed under; listings must be renewed to sell under the new ones.
     *
     * Requirements:
     *
     * - the caller holds `ACCREDITOR_ROLE`; `gtin` is registered.
     *
     * Emits a {ProductClassReviewed} event.
     * @param gtin The GTIN-14.
     * @param classFlags The class flags from now on.
     * @param reason Why, as the accreditor records it.
     */
    function reviewClassFlags(uint64 gtin, uint8 classFlags, string calldata reason) external;

    /**
     * @dev Sets, once, the contract asked before any unit closes (the escrow: it knows who holds a
     * unit). Until it is set no event may close a unit.
     *
     * Requirements:
     *
     * - the caller holds `DEFAULT_ADMIN_ROLE`; `guard` is not zero; no guard is set.
     *
     * Emits a {CloseGuardSet} event.
     * @param guard The close guard (the escrow).
     */
    function setCloseGuard(address guard) external;

    /**
     * @dev Closes units from brand-signed batches of {Decommission}s; any account may submit them. A
     * brand closes only its own units, and only while they are its stock (the close guard decides:
     * no order open on them, none sold and kept). Each decommissioning is a chain link like a
     * {LifecycleEvent} with step `Decommissioning`, the given disposition and no business
     * transaction, and is logged as an {EventRecorded}.
     *
     * Requirements, for each signed batch:
     *
     * - it holds at least one unit; signature, nonce and deadline are valid (see {IDelegatedSignatures}).
     * - the signer holds the brand role and registered each unit's GTIN; each unit exists and is open.
     * - the disposition is known and is not a partner's (`Donated`, `Recycled`); each location is a valid
     *   GLN and no event time is zero or in the future.
     * - the close guard allows each closing.
     *
     * Emits an {EventRecorded} event per unit.
     * @param batches The signed batches, each with its signer's signature.
     */
    function decommission(SignedDecommissionBatch[] calldata batches) external;

    /// @dev Returns the close guard (zero: none set; then no unit may close).
    /// @return The close guard's address.
    function closeGuard() external view returns (address);

    /// @dev Returns the brand recorded for the GS1 company prefix `prefix` of `digits` digits (zero: none).
    /// @param prefix The GS1 company prefix.
    /// @param digits Its length in digits.
    /// @return The brand recorded for it.
    function companyPrefixOwner(uint64 prefix, uint8 digits) external view returns (address);

    /// @dev Returns the brand the accreditor approved for `gtin` outside its prefixes (zero: none).
    /// @param gtin The GTIN-14.
    /// @return The brand approved for it.
    function approvedBrand(uint64 gtin) external view returns (address);

    /**
     * @dev Returns the commitment to a customs declaration that a `CustomsClearing` event carries as its
     * `bizTransaction`: keccak256(abi.encode(keccak256("ReturnTrace customs declaration"),
     * keccak256(bytes(declarationReference)), salt)). `salt` is 32 random bytes kept with the reference:
     * declaration references follow public formats and could be guessed from a hash alone.
     * @param declarationReference The customs declaration's reference.
     * @param salt 32 random bytes kept with the reference.
     * @return The commitment.
     */
    function customsCommitment(string calldata declarationReference, bytes32 salt) external pure returns (bytes32);

    /// @dev Returns the EIP-712 type hashes of {Decommission} and of the signed `DecommissionBatch`.
    /// @return item keccak256 of the `Decommission` type string.
    /// @return batch keccak256 of the `DecommissionBatch` type string (with `Decommission`).
    function getDecommissionTypeHashes() external pure returns (bytes32 item, bytes32 batch);

    /**
     * @dev Grants `account` the step roles `roles` (bit set of `ROLE_*`) as a member of `organization`;
     * `roles == 0` revokes its accreditation.
     *
     * Requirements:
     *
     * - the caller holds `ACCREDITOR_ROLE`.
     * - `organization` is a valid GLN, or zero when revoking.
     *
     * Emits an {ActorUpdated} event.
     * @param account The actor's account.
     * @param roles Its step roles (bit set; 0 revokes).
     * @param organization The GLN of its organisation (zero when revoking).
     */
    function setActor(address account, uint32 roles, uint64 organization) external;

    /**
     * @dev Accredits the return center at `location`, run by `organization`, for the markets whose
     * bits are set in `markets`; `markets == 0` revokes it (and stores no organisation).
     *
     * Requirements:
     *
     * - the caller holds `ACCREDITOR_ROLE`.
     * - `location` is a valid GLN; `organization` is a valid GLN unless revoking.
     *
     * Emits a {ReturnCenterSet} event.
     * @param location The return center's GLN.
     * @param organization The GLN of the organisation that runs it (zero when revoking).
     * @param markets The markets it is accredited for (bit m: market m; 0 revokes).
     */
    function setReturnCenter(uint64 location, uint64 organization, uint64 markets) external;

    /**
     * @dev Commissions units from brand-signed batches; any account may submit them. All or nothing:
     * one invalid item reverts the whole call.
     *
     * Requirements, for each signed batch:
     *
     * - it holds at least one unit; signature, nonce and deadline are valid (see {IDelegatedSignatures}).
     * - the signer holds the brand role and registered each unit's GTIN.
     * - each serial and location is valid, each unit is new, and no event time is zero or in the future.
     *
     * Emits a {UnitCommissioned} event per unit.
     * @param batches The signed batches, each with its signer's signature.
     */
    function commission(SignedCommissionBatch[] calldata batches) external;

    /**
     * @dev Records signed batches of lifecycle events on existing units; any account may submit them.
     * All or nothing: one invalid item reverts the whole call.
     *
     * Requirements, for each signed batch:
     *
     * - it holds at least one event; signature, nonce and deadline are valid (see {IDelegatedSignatures}).
     * - each unit exists, each step is a known step other than commissioning, each disposition is known.
     * - the signer holds, for each event, a role allowed to sign its step (see {allowedRoles}); only a
     *   charity signs disposition `Donated`, only a recycler `Recycled`. `Decommissioning` is a brand's
     *   own call ({decommission}).
     * - no unit is closed (see {isClosed}); a closing event on a parcel finds it empty.
     * - each location is a valid GLN and no event time is zero or in the future.
     * - an event that closes its unit (disposition `Donated`, `Recycled` or `Destroyed`) is allowed by the
     *   close guard: a partner closes a unit the settled order sent it to, never one an order holds.
     *
     * A parcel's id is a unit id too: an event on it is one scan of the whole parcel.
     *
     * Emits an {EventRecorded} event per event.
     * @param batches The signed batches, each with its signer's signature.
     */
    function record(SignedEventBatch[] calldata batches) external;

    /**
     * @dev Packs units into parcels and unpacks them, from signed batches of {Aggregation}s; any
     * account may submit them. All or nothing. Each aggregation appends one link, its struct hash,
     * to the parcel's chain (created by its first `Add`) and to the chain of every unit it names.
     *
     * Requirements, for each signed batch:
     *
     * - it holds at least one aggregation; signature, nonce and deadline are valid (see {IDelegatedSignatures}).
     * - each SSCC is valid, each action is `Add` (step `Packing`) or `Delete` (step `Unpacking`), each
     *   aggregation names at least one unit.
     * - the signer holds a role allowed to sign each step, and the partner role a disposition asks for
     *   (as in {record}); no disposition closes (a unit's closing is its own event); each location is a
     *   valid GLN and no event time is zero or in the future.
     * - neither the parcel nor any unit named is closed.
     * - `Add`: each unit exists, is not a parcel, and is in no parcel (including earlier in the same list).
     * - `Delete`: each unit is in this parcel.
     *
     * Emits an {AggregationRecorded} event per aggregation and a {UnitAggregated} event per unit named.
     * @param batches The signed batches, each with its signer's signature.
     */
    function aggregate(SignedAggregationBatch[] calldata batches) external;

    /**
     * @dev Returns the unit's (or parcel's) packed record: the chain head in the high 224 bits, the
     * closed flag in bit 31 and the number of events in bits 0-30; zero for a unit that does not
     * exist. After the n-th event,
     * `record_n = (keccak256(abi.encode(record_{n-1}, signer, structHash)) & ~0xffffffff) | closes << 31 | n`,
     * with `record_0 = 0`, `structHash` the EIP-712 struct hash of the {Commission}, {LifecycleEvent}
     * or {Aggregation}, and `closes` 1 when the event closes the unit (see {record}).
     * @param unitId The unit's or parcel's id.
     * @return The packed record.
     */
    function unitRecord(bytes32 unitId) external view returns (uint256);

    /// @dev Returns the number of events recorded for the unit or parcel (0: unknown).
    /// @param unitId The unit's or parcel's id.
    /// @return The number of events recorded.
    function eventCount(bytes32 unitId) external view returns (uint32);

    /// @dev Returns true when the unit or parcel is closed: it accepts no further event.
    /// @param unitId The unit's or parcel's id.
    /// @return True when closed.
    function isClosed(bytes32 unitId) external view returns (bool);

    /// @dev Returns the parcel the unit is packed in (zero: none).
    /// @param unitId The unit's id.
    /// @return The id of the parcel it is in.
    function parentOf(bytes32 unitId) external view returns (bytes32);

    /**
     * @dev Returns the number of units in the parcel. A list of units is the parcel's exact content
     * iff it has this many members and {parentOf} of each is the parcel.
     * @param parcelId The parcel's id.
     * @return The number of units in it.
     */
    function parcelSize(bytes32 parcelId) external view returns (uint32);

    /// @dev Returns true when `id` is a parcel (a first packing created it), false for a unit or nothing.
    /// @param id A unit or parcel id.
    /// @return True when `id` is a parcel.
    function isParcel(bytes32 id) external view returns (bool);

    /// @dev Returns the product class registered under `gtin` (brand zero: none).
    /// @param gtin The GTIN-14.
    /// @return The product class: its brand, class flags and markets.
    function product(uint64 gtin) external view returns (Product memory);

    /// @dev Returns the accreditation of `account`.
    /// @param account The account.
    /// @return Its role bits and organisation GLN (zero: not accredited).
    function actor(address account) external view returns (Actor memory);

    /// @dev Returns the role bits that may sign `bizStep` (0 for commissioning and unknown steps).
    /// @param bizStep The step (`BizStep`).
    /// @return The role bits that may sign it.
    function allowedRoles(uint8 bizStep) external pure returns (uint32);

    /**
     * @dev Returns when `kind` happened to `unitId` under business transaction `bizTransaction`
     * (the time the signer attested, capped at the block time of recording), or 0 if it did not.
     * The first scan counts, unless the close guard says it was recorded before the order step its
     * reference names ({ICloseGuard-scanPredatesOrder}); for {Milestone-Dispatched} under the zero
     * reference (a packing into a return parcel) that step is the unit's current return request.
     * @param unitId The unit's id.
     * @param bizTransaction The order reference or RMA the scan carried.
     * @param kind The milestone.
     * @return When it happened (unix seconds; 0: it did not).
     */
    function milestoneAt(bytes32 unitId, bytes32 bizTransaction, Milestone kind) external view returns (uint40);

    /**
     * @dev Returns the full record of milestone `kind` of `unitId` under `bizTransaction`: when (as
     * {milestoneAt}), where (the scan's GLN) and by which organisation (the signer's, at scan time).
     * All zero if it did not happen.
     * @param unitId The unit's id.
     * @param bizTransaction The order reference or RMA the scan carried.
     * @param kind The milestone.
     * @return The milestone's record: when, where, by which organisation, recorded when.
     */
    function milestone(bytes32 unitId, bytes32 bizTransaction, Milestone kind) external view returns (MilestoneRecord memory);

    /// @dev Returns the return center accredited at `location` (markets 0: none, or revoked).
    /// @param location The return center's GLN.
    /// @return The organisation that runs it and the markets it is accredited for.
    function returnCenter(uint64 location) external view returns (ReturnCenter memory);

    /**
     * @dev Returns true when `organization` is non-zero, runs the return center at `location`, and
     * that center is accredited for `market` (< 64). The escrow asks this with the location and
     * organisation of a {Milestone-ReturnReceived} record to release a refund upon return.
     * @param location The scan's GLN.
     * @param organization The GLN of the signer's organisation.
     * @param market The order's market.
     * @return True when accredited.
     */
    function returnCenterAccredited(uint64 location, uint64 organization, uint32 market) external view returns (bool);

    /// @dev Returns the unit id of `gtin` and `serial` (see docs/protocol.md for the encoding).
    /// @param gtin The GTIN-14.
    /// @param serial The serial (AI 21).
    /// @return The unit id.
    function unitIdOf(uint64 gtin, string calldata serial) external pure returns (bytes32);

    /**
     * @dev Returns the parcel id of an SSCC: `keccak256("00" ‖ sscc18)`, its GS1 element string
     * (see docs/protocol.md). Reverts {TraceRegistryInvalidSscc} for an invalid SSCC.
     * @param sscc The SSCC (AI 00).
     * @return The parcel id.
     */
    function parcelIdOf(uint64 sscc) external pure returns (bytes32);

    /// @dev Returns the EIP-712 type hashes of {Commission} and of the signed `CommissionBatch`.
    /// @return item keccak256 of the `Commission` type string.
    /// @return batch keccak256 of the `CommissionBatch` type string (with `Commission`).
    function getCommissionTypeHashes() external pure returns (bytes32 item, bytes32 batch);

    /// @dev Returns the EIP-712 type hashes of {LifecycleEvent} and of the signed `EventBatch`.
    /// @return item keccak256 of the `LifecycleEvent` type string.
    /// @return batch keccak256 of the `EventBatch` type string (with `LifecycleEvent`).
    function getEventTypeHashes() external pure returns (bytes32 item, bytes32 batch);

    /// @dev Returns the EIP-712 type hashes of {Aggregation} and of the signed `AggregationBatch`.
    /// @return item keccak256 of the `Aggregation` type string.
    /// @return batch keccak256 of the `AggregationBatch` type string (with `Aggregation`).
    function getAggregationTypeHashes() external pure returns (bytes32 item, bytes32 batch);
}
